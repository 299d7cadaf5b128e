"""Check pension-month-end on the real S&P 500 and ICE BofA corporate TR files.

The headline slope is recomputed here with pandas and DuckDB straight from the raw files
(no flowpressure reader), and its Newey-West t with statsmodels.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from flowpressure import ConfigError
from flowpressure.validate._paths import FILES
from flowpressure.validate._pension import NAME, check_pension_month_end, run
from flowpressure.validate._result import CheckResult

K = 3


@pytest.fixture(scope="module")
def result(data_root: Path) -> CheckResult:
    return run(data_root)


def independent(root: Path) -> pd.DataFrame:
    spx = pd.read_csv(root / FILES["spx"], usecols=["DATE", "CLOSE"])
    spx["date"] = pd.to_datetime(spx["DATE"], format="%m/%d/%Y")
    spx = spx.set_index("date")["CLOSE"].astype(float)
    bond = duckdb.sql(
        f"SELECT date, value FROM '{root / FILES['ice_bofa']}' "
        "WHERE series_id = 'BAMLCC0A0CMTRIV' AND value IS NOT NULL ORDER BY date"
    ).df()
    bond = bond.set_index(pd.to_datetime(bond["date"]))["value"]
    # bond level on each S&P session: the last print on or before it
    b = bond.reindex(bond.index.union(spx.index)).ffill().reindex(spx.index)
    frame = pd.DataFrame({"s": spx, "b": b})
    frame["ym"] = frame.index.to_period("M")
    pos = np.arange(len(frame))
    last = pd.Series(pos).groupby(frame["ym"].to_numpy()).max()
    rows = []
    for prev, t in zip(last.to_numpy()[:-1], last.to_numpy()[1:], strict=True):
        day = frame.index[t]
        if frame.index[prev] < bond.index[0] or frame.index[t - K] > bond.index[-1]:
            continue
        if day.year > 2024:
            continue
        s, bb = frame["s"].to_numpy(), frame["b"].to_numpy()
        rows.append(
            {
                "month": day,
                "spread": s[t - K] / s[prev] - bb[t - K] / bb[prev],
                "y_end": s[t] / s[t - K] - 1,
            }
        )
    return pd.DataFrame(rows)


def test_sign_and_size_against_harvey_mazzoleni_melone(result: CheckResult) -> None:
    f = result.figures
    assert result.check == NAME
    # the reference: a negative slope, a 1-sd spread worth a few to a few tens of bps
    assert -1.0 < f["slope"] < 0.0
    assert -100.0 < f["effect_1sd_bps"] < -2.0
    assert result.verdict == ("pass" if f["t_slope"] < -1.65 else "partial")
    # the model's implied trade is -w_e*w_b*spread: its slope has the opposite sign, same |t|
    assert f["model_slope_per_pct_aum"] > 0
    assert f["model_t"] == pytest.approx(-f["t_slope"], rel=1e-9)
    assert f["model_slope_per_pct_aum"] == pytest.approx(-f["slope"] / 0.24 / 100, rel=1e-9)
    assert 300 <= result.n <= 400  # 1994-02..2024-07
    assert str(f["first_month"]) == "1994-02-28"
    assert str(f["last_month"]) == "2024-07-31"


def test_slope_recomputed_from_raw_files(result: CheckResult, data_root: Path) -> None:
    ind = independent(data_root)
    assert len(ind) == result.n
    slope, _ = np.polyfit(ind["spread"], ind["y_end"], 1)
    assert result.figures["slope"] == pytest.approx(slope, rel=1e-6)
    sd = ind["spread"].std(ddof=1)
    assert result.figures["effect_1sd_bps"] == pytest.approx(slope * sd * 1e4, rel=1e-6)
    sm = pytest.importorskip("statsmodels.api")
    x = sm.add_constant(ind["spread"].to_numpy())
    fit = sm.OLS(ind["y_end"].to_numpy(), x).fit(
        cov_type="HAC", cov_kwds={"maxlags": result.figures["nw_lags"], "use_correction": False}
    )
    assert result.figures["t_slope"] == pytest.approx(fit.tvalues[1], rel=1e-6)


def test_event_path_terciles(result: CheckResult) -> None:
    chart = result.chart
    assert chart is not None
    assert len(chart.series) == 2
    for s in chart.series:
        assert list(s.x) == list(range(-5, 6))
        assert all(abs(v) < 200 for v in s.y)  # average daily returns, in bps
    top, bottom = chart.series[0].y, chart.series[1].y
    # the last three sessions (-2, -1, 0): equities beat bonds -> lower month-end returns
    assert sum(top[3:6]) < sum(bottom[3:6])


def test_json_and_missing_files(result: CheckResult, tmp_path: Path) -> None:
    payload = json.loads(json.dumps(result.to_dict()))
    for key in ("check", "data", "figure", "reference", "verdict"):
        assert isinstance(payload[key], str)
    assert payload["chart"]["series"][0]["x"][0] == -5
    with pytest.raises(ConfigError, match="SPX_index_daily"):
        run(tmp_path)


def test_bad_inputs(data_root: Path) -> None:
    spx, fred = data_root / FILES["spx"], data_root / FILES["ice_bofa"]
    with pytest.raises(ConfigError, match="bond_series"):
        check_pension_month_end(spx, fred, bond_series="NOPE")
    with pytest.raises(ConfigError, match="k"):
        check_pension_month_end(spx, fred, k=0)
