"""Flow analytics on the sample and on hand cases; every backend gives the same numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest

from flowpressure import ConfigError
from flowpressure.data import sample
from flowpressure.flows import (
    cumulative_flows,
    flow_lead_lag,
    flow_streaks,
    flow_totals,
    flow_zscores,
    fund_flows,
)
from tests.flows.frames import collect

D = dt.date
ROWS = {
    "fund_id": ["A"] * 6 + ["B"] * 2,
    "date": [D(2024, m, 1) for m in range(1, 7)] + [D(2024, 1, 1), D(2024, 2, 1)],
    "flow": [1.0, 2.0, -1.0, -3.0, None, 4.0, -1.0, -1.0],
    "flow_pct": [0.01, 0.03, 0.02, 0.05, 0.0, 0.02, -0.01, -0.01],
    "category": ["eq"] * 6 + ["bond"] * 2,
}


def test_streaks_cumulative_zscores_on_every_backend(make_frame: Any) -> None:
    frame = make_frame(ROWS)
    streak = collect(flow_streaks(frame))
    assert streak.filter(pl.col("fund_id") == "A")["streak"].to_list() == [1, 2, -1, -2, 0, 1]
    cum = collect(cumulative_flows(make_frame(ROWS)))
    assert cum.filter(pl.col("fund_id") == "A")["cum_flow"].to_list() == [
        1.0,
        3.0,
        2.0,
        -1.0,
        -1.0,
        3.0,
    ]
    z = collect(flow_zscores(make_frame(ROWS), 3)).filter(pl.col("fund_id") == "A")["flow_z"]
    past = np.array([0.01, 0.03, 0.02])
    assert z[3] == pytest.approx((0.05 - past.mean()) / past.std(ddof=1))
    assert z[:3].is_null().all()


def test_totals_by_category() -> None:
    out = flow_totals(pl.DataFrame(ROWS).drop("date"))
    eq = out.filter(pl.col("category") == "eq").row(0, named=True)
    assert (eq["flow"], eq["inflow"], eq["outflow"], eq["missing"]) == (3.0, 7.0, -4.0, 1)


def test_lead_lag_finds_performance_chasing_in_the_sample() -> None:
    flows = fund_flows(sample.load("fund"))
    flows = flows.with_columns(ret=pl.col("ret_total"))
    rows = {r["lag"]: r for r in flow_lead_lag(flows, 12)}
    assert set(rows) == set(range(-12, 13))
    # the sample's flows chase the past 12 months' return: correlations with past returns
    # (negative lags) are positive on average, stronger than with future returns
    past = np.mean([rows[k]["corr"] for k in range(-12, 0)])
    future = np.mean([rows[k]["corr"] for k in range(1, 13)])
    assert past > 0.02
    assert past > future
    with pytest.raises(ConfigError, match="max_lag"):
        flow_lead_lag(flows, -1)
