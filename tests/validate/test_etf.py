"""Check etf-flows on the GLD archive and the stockanalysis panel, recomputed with pandas.

Both legs of both comparisons are rebuilt here from the raw CSVs with pandas and the XNYS
calendar of ``exchange_calendars`` (a flow only between consecutive sessions), not through
flowpressure code.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from flowpressure import ConfigError, SchemaError
from flowpressure.validate._etf import GLD_FEE, NAME, STALE_LARGE, check_etf_flows, run
from flowpressure.validate._paths import FILES
from flowpressure.validate._result import CheckResult


@pytest.fixture(scope="module")
def result(data_root: Path) -> CheckResult:
    return run(data_root)


def _sessions(first: str, last: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XNYS", start=first, end=last)
        days = cal.sessions_in_range(first, last)
    return pd.Series(np.arange(len(days)), index=pd.DatetimeIndex(days).tz_localize(None))


def test_gld_two_legs_agree_and_differ_by_the_fee(data_root: Path, result: CheckResult) -> None:
    g = pd.read_csv(data_root / FILES["gld"], parse_dates=["date"])
    g = g.dropna(subset=["shares_outstanding_est", "trust_ounces"])
    ses = _sessions("2004-11-01", "2025-06-30")
    g = g[g["date"].isin(ses.index)].sort_values("date").reset_index(drop=True)
    g["n"] = g["date"].map(ses)
    nxt = g["n"].diff() == 1  # consecutive sessions only: gaps are not bridged
    f_so = g["shares_outstanding_est"].diff() * g["nav_per_share_1030"]
    f_oz = g["trust_ounces"].diff() * g["trust_nav_usd"] / g["trust_ounces"]
    d = pd.DataFrame({"date": g["date"], "so": f_so, "oz": f_oz, "aum": g["trust_nav_usd"]})[nxt]
    assert len(d) == result.figures["gld_days"]
    assert result.figures["gld_corr_daily"] == pytest.approx(d["so"].corr(d["oz"]), abs=1e-9)
    mon = d.groupby(d["date"].dt.to_period("M"))[["so", "oz"]].sum()
    assert result.figures["gld_corr_monthly"] == pytest.approx(mon["so"].corr(mon["oz"]), abs=1e-9)
    diff = (d["so"].sum() - d["oz"].sum()) / d["aum"].mean()
    assert result.figures["gld_diff_pct_of_avg_aum"] == pytest.approx(diff, rel=1e-6)
    # reference: near-perfect agreement; the share leg above the ounce leg by the 0.40 % fee
    assert result.figures["gld_corr_monthly"] > 0.95
    per_year = result.figures["gld_diff_pct_of_avg_aum_per_year"]
    assert 0.5 * GLD_FEE < per_year < 1.5 * GLD_FEE


def test_panel_agrees_on_non_stale_days(data_root: Path, result: CheckResult) -> None:
    raw = pd.read_csv(data_root / FILES["etf_panel"], parse_dates=["snapshot_date_et"])
    raw = raw.dropna(subset=["shares_out_m", "nav", "assets_musd"])
    ses = _sessions("2021-07-01", "2022-09-30")
    p = raw[raw["snapshot_date_et"].isin(ses.index)].sort_values(["ticker", "snapshot_date_et"])
    p = p.assign(
        n=p["snapshot_date_et"].map(ses), so=p["shares_out_m"] * 1e6, aum=p["assets_musd"] * 1e6
    )
    g = p.groupby("ticker")
    p = p.assign(
        dn=g["n"].diff(),
        dso=g["so"].diff(),
        aum0=g["aum"].shift(),
        nav0=g["nav"].shift(),
    )
    p = p[p["dn"] == 1]
    flow = p["dso"] * p["nav"]
    flow_aum = p["aum"] - p["aum0"] * p["nav"] / p["nav0"]
    assert len(p) == result.figures["panel_days_compared"]
    live = p["dso"] != 0
    r = (flow / p["aum0"])[live].corr((flow_aum / p["aum0"])[live])
    assert result.figures["panel_non_stale_days"] == int(live.sum())
    assert result.figures["panel_corr_non_stale"] == pytest.approx(r, abs=1e-9)
    large = (~live) & ((flow_aum / p["aum0"]).abs() > STALE_LARGE)
    assert result.figures["panel_stale_days_large"] == int(large.sum())
    share = (flow_aum - flow)[large].abs().sum() / (flow_aum - flow).abs().sum()
    assert result.figures["panel_share_abs_diff_large_stale"] == pytest.approx(share, rel=1e-6)
    assert r > 0.9
    assert 0 < share < 1
    frac = pd.DataFrame({"t": p["ticker"], "a": flow / p["aum0"], "b": flow_aum / p["aum0"]})[live]
    per_fund = frac.groupby("t").apply(
        lambda d: d["a"].corr(d["b"]) if len(d) >= 3 else np.nan, include_groups=False
    )
    assert result.figures["panel_funds_corr_above_pass"] == int((per_fund > 0.9).sum())


def test_verdict_and_chart(result: CheckResult) -> None:
    assert result.check == NAME
    assert result.verdict == "pass"
    assert result.n == result.figures["gld_months"] > 200
    assert result.chart is not None
    assert len(result.chart.series) == 2
    assert len(result.chart.series[0].x) == result.n


def test_to_dict_is_json(result: CheckResult) -> None:
    out = json.loads(json.dumps(result.to_dict()))
    for key in ("check", "data", "figure", "reference", "verdict"):
        assert isinstance(out[key], str)
        assert out[key]


def test_missing_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        run(tmp_path)


def test_gld_without_ounces_is_refused(data_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "gld.csv"
    pd.read_csv(data_root / FILES["gld"], nrows=20).drop(columns=["trust_ounces"]).to_csv(
        bad, index=False
    )
    with pytest.raises(SchemaError, match="trust_ounces"):
        check_etf_flows(bad, data_root / FILES["etf_panel"])
