"""Check ``cta``: the trend model against the SG CTA and EDHEC CTA Global indices.

The headline correlations are recomputed here from the raw files: the index returns with the
``csv`` module, the model's monthly returns with a separate NumPy implementation of the
trend rule's defaults on the raw closes (split handled by hand), joined on the month text.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flowpressure._errors import ConfigError, DataError, SchemaError
from flowpressure.validate import _cta
from flowpressure.validate._paths import FILES
from flowpressure.validate._result import CheckResult

F64 = np.ndarray[Any, np.dtype[np.float64]]


@pytest.fixture(scope="module")
def result(data_root: Path) -> CheckResult:
    return _cta.run(data_root)


def _index_csv(path: Path, column: str) -> dict[str, float]:
    """Month ``YYYY-MM`` -> return, read with the csv module (blank cells skipped)."""
    out: dict[str, float] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row[column].strip():
                out[row["month_end"][:7]] = float(row[column])
    return out


def _model_months(path: Path, tickers: tuple[str, ...]) -> dict[str, float]:
    """Independent equal-risk sign-trend portfolio (20/60/120/250, 10 % target, 60-day RMS vol,
    cap 2), monthly, from the raw closes; a > 30 % jump at a whole-number ratio is a split."""
    rows: dict[str, list[tuple[str, float]]] = defaultdict(list)
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["ticker"] in tickers:
                rows[row["ticker"]].append((row["date"], float(row["close"])))
    pnl: dict[str, dict[str, float]] = {}
    for t in tickers:
        seq = sorted(rows[t])
        dates = [d for d, _ in seq]
        px = np.array([c for _, c in seq])
        r = px[1:] / px[:-1] - 1.0
        for i in np.flatnonzero(np.abs(r) > 0.3):
            k = round(px[i] / px[i + 1])
            assert k >= 2
            assert abs(px[i] / px[i + 1] / k - 1) < 0.03
            r[i] = px[i + 1] * k / px[i] - 1.0
            px[: i + 1] /= k  # back-adjust earlier closes
        ret = np.r_[np.nan, r]
        n = px.size
        sig = np.full(n, np.nan)
        vol = np.full(n, np.nan)
        for j in range(250, n):
            sig[j] = np.mean([np.sign(px[j] - px[j - lb]) for lb in (20, 60, 120, 250)])
            vol[j] = np.sqrt(np.mean(ret[j - 59 : j + 1] ** 2) * 252.0)
        expo = np.clip(sig * 0.10 / vol, -2.0, 2.0)
        pnl[t] = {dates[j]: expo[j - 1] * ret[j] for j in range(251, n)}
    common = sorted(set.intersection(*(set(p) for p in pnl.values())))
    start = max(min(p) for p in pnl.values())
    growth: dict[str, float] = defaultdict(lambda: 1.0)
    for d in common:
        growth[d[:7]] *= 1.0 + float(np.mean([pnl[t][d] for t in tickers]))
    first, last = start[:7], common[-1][:7]
    return {m: g - 1.0 for m, g in growth.items() if first < m < last}


@pytest.fixture(scope="module")
def model_months(data_root: Path) -> dict[str, float]:
    return _model_months(data_root / FILES["etf_prices"], _cta.DEFAULT_ASSETS)


def _corr(model: dict[str, float], index: dict[str, float]) -> tuple[float, int]:
    months = sorted(set(model) & set(index))
    a = np.array([model[m] for m in months])
    b = np.array([index[m] for m in months])
    return float(np.corrcoef(a, b)[0, 1]), len(months)


def test_correlations_positive_and_recomputed(
    result: CheckResult, data_root: Path, model_months: dict[str, float]
) -> None:
    f = result.figures
    sg = _index_csv(data_root / FILES["sg_cta"], "monthly_return")
    ed = _index_csv(data_root / FILES["edhec"], "CTA Global")
    for key, index in (("sg", sg), ("edhec", ed)):
        r, n = _corr(model_months, index)
        # Trend replications: positive, below 1 (published ~0.6-0.8 with many more markets).
        assert 0.0 < r < 0.95
        assert n == f[f"{key}_n"]
        assert f[f"{key}_corr"] == pytest.approx(r, abs=1e-6)
        assert 0.0 < f[f"{key}_corr"] < 0.95
        assert 0.1 < f[f"{key}_beta"] < 5.0
        assert f[f"{key}_beta_t"] > 2.0
    assert f["sg_n"] >= 36
    assert f["edhec_n"] >= 36
    assert f["splits"] == ["EFA 2005-06-09 3:1"]


def test_model_series_matches_independent(data_root: Path, model_months: dict[str, float]) -> None:
    model, _ = _cta.model_monthly_returns(data_root / FILES["etf_prices"])
    ours = {f"{d:%Y-%m}": r for d, r in zip(model["month_end"], model["ret"], strict=True)}
    assert set(ours) == set(model_months)
    for m, r in model_months.items():
        assert ours[m] == pytest.approx(r, abs=1e-9), m


def test_index_returns_match_csv(data_root: Path) -> None:
    sg_path = data_root / FILES["sg_cta"]
    used = _cta.read_sg_cta(sg_path)
    raw = _index_csv(sg_path, "monthly_return")
    got = {f"{d:%Y-%m}": r for d, r in zip(used["month_end"], used["ret"], strict=True)}
    assert got == pytest.approx(raw, abs=1e-15)
    # The column is the level's change: recompute it from sg_cta_index_level.
    with sg_path.open(newline="") as fh:
        levels = [(r["month_end"][:7], float(r["sg_cta_index_level"])) for r in csv.DictReader(fh)]
    for (_, a), (m, b) in itertools.pairwise(levels):
        assert raw[m] == pytest.approx(b / a - 1.0, abs=1e-9)
    ed_path = data_root / FILES["edhec"]
    used_ed = _cta.read_edhec_cta(ed_path)
    raw_ed = _index_csv(ed_path, "CTA Global")
    got_ed = {f"{d:%Y-%m}": r for d, r in zip(used_ed["month_end"], used_ed["ret"], strict=True)}
    assert got_ed == pytest.approx(raw_ed, abs=1e-15)
    assert all(abs(v) < 0.2 for v in raw_ed.values())  # decimals, not percent


def test_verdict_follows_rule(result: CheckResult) -> None:
    c_sg, c_ed = result.figures["sg_corr"], result.figures["edhec_corr"]
    if c_sg < 0 or c_ed < 0 or max(c_sg, c_ed) < 0.2:
        expected = "fail"
    elif min(c_sg, c_ed) >= 0.5:
        expected = "pass"
    else:
        expected = "partial"
    assert result.verdict == expected
    assert result.check == _cta.NAME == "cta"


def test_json_and_chart(result: CheckResult) -> None:
    out = json.loads(json.dumps(result.to_dict()))
    assert {"check", "data", "figure", "reference", "verdict"} <= set(out)
    chart = out["chart"]
    assert len(chart["series"]) == 3
    assert sum(len(s["x"]) for s in chart["series"]) < 400
    assert all(s["y"][0] == pytest.approx(1.0, abs=0.2) for s in chart["series"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        _cta.run(tmp_path)


def test_bad_inputs(tmp_path: Path, data_root: Path) -> None:
    bad = tmp_path / "sg.csv"
    bad.write_text("month_end,level\n2000-01-31,1.0\n")
    with pytest.raises(SchemaError):
        _cta.read_sg_cta(bad)
    with pytest.raises(DataError, match="ticker"):
        _cta.model_monthly_returns(data_root / FILES["etf_prices"], ("SPY", "NOPE"))
    days = [dt.date(2020, 1, d) for d in (2, 3)]
    with pytest.raises(DataError, match="split"):
        _cta.detect_splits(days, np.array([100.0, 60.0]), "X")
