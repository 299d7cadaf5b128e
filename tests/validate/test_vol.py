"""Check vol-target on Ken French's daily factors: Moreira-Muir and flowpressure's model.

Both alphas are recomputed here with pandas from the raw CSV (no flowpressure code: the vol
target exposure is rebuilt from its formula, min(2, 0.10 / sqrt(252 * mean of 20 r^2))).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowpressure import ConfigError, DataError
from flowpressure.validate._paths import FILES
from flowpressure.validate._result import CheckResult
from flowpressure.validate._vol import NAME, check_vol_target, run


@pytest.fixture(scope="module")
def result(data_root: Path) -> CheckResult:
    return run(data_root)


@pytest.fixture(scope="module")
def ff(data_root: Path) -> pd.DataFrame:
    raw = pd.read_csv(data_root / FILES["ff_daily"], skiprows=3, dtype=str)
    raw = raw.rename(columns={raw.columns[0]: "date"})
    raw = raw[raw["date"].str.strip().str.fullmatch(r"\d{8}", na=False)]
    out = pd.DataFrame(
        {
            "mkt_rf": raw["Mkt-RF"].astype(float).to_numpy() / 100,
            "rf": raw["RF"].astype(float).to_numpy() / 100,
        },
        index=pd.to_datetime(raw["date"].str.strip(), format="%Y%m%d"),
    )
    out["m"] = out.index.to_period("M")
    return out


def alpha(y: np.ndarray, x: np.ndarray) -> float:
    _beta, a = np.polyfit(x, y, 1)
    return float(a * 12 * 100)


def test_sign_and_size_against_moreira_muir(result: CheckResult) -> None:
    f = result.figures
    assert result.check == NAME
    # Moreira-Muir Table I: ~4.9 %/yr, t ~3; same order of magnitude, positive
    assert 1.0 < f["mm_alpha_pct_yr"] < 10.0
    assert f["mm_alpha_t"] > 1.65
    assert f["mm_sharpe_managed"] > f["mm_sharpe_market"]
    assert 0.2 < f["mm_sharpe_market"] < 0.7
    # the model under test: positive alpha, Sharpe above buy-and-hold
    assert f["vt_alpha_pct_yr"] > 0
    assert f["vt_sharpe"] > f["vt_sharpe_market"]
    assert 0.5 < f["vt_mean_exposure"] < 1.5
    assert result.verdict == "pass"
    assert result.n > 1100  # 1926-08..2024-05


def test_moreira_muir_recomputed_from_raw_csv(result: CheckResult, ff: pd.DataFrame) -> None:
    g = ff.groupby("m")
    f = g.apply(lambda d: np.prod(1 + d.mkt_rf + d.rf) - np.prod(1 + d.rf)).to_numpy()
    rv = g["mkt_rf"].apply(lambda x: ((x - x.mean()) ** 2).sum()).to_numpy()
    raw = f[1:] / rv[:-1]
    managed = raw * f[1:].std(ddof=1) / raw.std(ddof=1)
    assert len(managed) == result.figures["mm_months"]
    assert result.figures["mm_alpha_pct_yr"] == pytest.approx(alpha(managed, f[1:]), rel=1e-6)
    sr = managed.mean() / managed.std(ddof=1) * np.sqrt(12)
    assert result.figures["mm_sharpe_managed"] == pytest.approx(sr, rel=1e-6)


def test_vol_target_recomputed_from_raw_csv(result: CheckResult, ff: pd.DataFrame) -> None:
    r = ff.mkt_rf + ff.rf
    vol = np.sqrt(252 * (r**2).rolling(20).mean())
    expo = np.minimum(2.0, 0.10 / vol)
    daily = ff.rf + expo.shift(1) * ff.mkt_rf  # exposure held from the previous close
    frame = pd.DataFrame({"vt": daily, "mkt": r, "rf": ff.rf, "m": ff.m})
    g = frame.groupby("m")
    full = g["vt"].apply(lambda v: v.notna().all())
    bill = g["rf"].apply(lambda v: np.prod(1 + v))
    vt = g["vt"].apply(lambda v: np.prod(1 + v)) - bill
    mkt = g["mkt"].apply(lambda v: np.prod(1 + v)) - bill
    vt, mkt = vt[full].to_numpy(), mkt[full].to_numpy()
    assert len(vt) == result.figures["vt_months"]
    assert result.figures["vt_alpha_pct_yr"] == pytest.approx(alpha(vt, mkt), rel=1e-6)
    sr = vt.mean() / vt.std(ddof=1) * np.sqrt(12)
    assert result.figures["vt_sharpe"] == pytest.approx(sr, rel=1e-6)


def test_chart_json_and_missing_file(result: CheckResult, tmp_path: Path) -> None:
    chart = result.chart
    assert chart is not None
    assert len(chart.series) == 3
    assert all(len(s.x) <= 120 for s in chart.series)
    payload = json.loads(json.dumps(result.to_dict()))
    for key in ("check", "data", "figure", "reference", "verdict"):
        assert isinstance(payload[key], str)
    with pytest.raises(ConfigError, match="F-F_Research_Data_Factors_daily"):
        run(tmp_path)


def test_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "ff.csv"
    bad.write_text("date,close\n2024-01-02,1.0\n")
    with pytest.raises(DataError, match="Fama-French"):
        check_vol_target(bad)
