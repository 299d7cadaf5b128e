"""Properties of the rebalancing simulator the issue names (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowpressure.data import sessions
from flowpressure.mechanics import PriceArrays, RebalanceCosts, RebalanceRule
from flowpressure.mechanics.rebalance import simulate

DAYS = sessions(dt.date(2024, 1, 2), dt.date(2024, 9, 30))

RULES = [
    "monthly",
    "daily",
    RebalanceRule.every_n(4),
    RebalanceRule.threshold(0.01),
    RebalanceRule.threshold(0.2, kind="relative", to="edge"),
    RebalanceRule.calendar("M", band=0.02),
    RebalanceRule.threshold(0.05, trade="outside"),
]


@st.composite
def markets(draw: Any, max_days: int = 90) -> tuple[PriceArrays, dict[str, float]]:
    n_days = draw(st.integers(3, max_days))
    n_assets = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    vol = draw(st.sampled_from([0.005, 0.02, 0.05]))
    close = 10 * np.cumprod(1 + rng.normal(0, vol, (n_days, n_assets)), axis=0)
    ids = tuple(f"X{i}" for i in range(n_assets))
    weights = rng.dirichlet(np.ones(n_assets))
    return PriceArrays(DAYS[:n_days], ids, close), dict(zip(ids, weights, strict=True))


@settings(max_examples=40, deadline=None)
@given(
    n_days=st.integers(2, 120),
    scales=st.lists(st.floats(0.5, 500), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_equal_returns_make_value_independent_of_rebalancing(
    n_days: int, scales: list[float], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    growth = np.cumprod(1 + rng.normal(0, 0.03, n_days))
    close = np.outer(growth, scales)  # every asset earns the same return every day
    ids = tuple(f"X{i}" for i in range(len(scales)))
    panel = PriceArrays(DAYS[:n_days], ids, close)
    targets = dict(zip(ids, rng.dirichlet(np.ones(len(ids))), strict=True))
    finals = [simulate(panel, targets, rule).final_value[0] for rule in RULES]
    np.testing.assert_allclose(finals, 1e6 * growth[-1] / growth[0], rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(market=markets(), rule=st.sampled_from(RULES[:4]), bps=st.sampled_from([0.0, 5.0, 50.0]))
def test_weights_right_after_a_rebalance_equal_the_targets(
    market: tuple[PriceArrays, dict[str, float]], rule: Any, bps: float
) -> None:
    panel, targets = market
    res = simulate(panel, targets, rule, RebalanceCosts(bps=bps, fixed=1.0))
    assert res.weights is not None
    assert res.rebalanced is not None
    after = res.weights[res.rebalanced[:, 0], 0]
    np.testing.assert_allclose(after, np.tile(list(targets.values()), (len(after), 1)), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    market=markets(),
    band=st.floats(0.002, 0.1),
    kind=st.sampled_from(["absolute", "relative"]),
    to=st.sampled_from(["target", "edge"]),
)
def test_threshold_rule_never_trades_inside_the_band(
    market: tuple[PriceArrays, dict[str, float]], band: float, kind: str, to: str
) -> None:
    panel, targets = market
    res = simulate(panel, targets, RebalanceRule.threshold(band, kind=kind, to=to))
    assert res.weights is not None
    assert res.rebalanced is not None
    assert res.values is not None
    w_star = np.array(list(targets.values()))
    half = band if kind == "absolute" else band * w_star
    held = res.weights[:-1, 0] * res.values[:-1]  # dollars after each close
    before = held * panel.close[1:] / panel.close[:-1]  # ... at the next close, pre-trade
    weights = before / before.sum(axis=1, keepdims=True)
    excess = (np.abs(weights - w_star) - half).max(axis=1)
    traded = res.rebalanced[1:, 0]
    assert (excess[traded] > -1e-9).all()  # every trade had a weight on or past an edge
    assert (excess[~traded] < 1e-9).all()  # no trade while every weight was inside
    if to == "edge" and traded.any():
        after = res.weights[1:, 0][traded]
        assert (np.abs(after - w_star) <= half + 1e-12).all()


@settings(max_examples=40, deadline=None)
@given(
    market=markets(),
    rule=st.sampled_from(RULES),
    bps=st.floats(0, 100),
    fixed=st.floats(0, 500),
)
def test_trade_dollars_sum_to_minus_costs(
    market: tuple[PriceArrays, dict[str, float]], rule: Any, bps: float, fixed: float
) -> None:
    panel, targets = market
    res = simulate(panel, targets, rule, RebalanceCosts(bps=bps, fixed=fixed))
    trades = res.trades().filter(kind="rebalance")
    events = trades.group_by("date").agg(pl.col("dollars").sum(), pl.col("cost").sum())
    np.testing.assert_allclose(events["dollars"], -events["cost"], atol=1e-9 * 1e6)
    assert trades["cost"].sum() == pytest.approx(res.costs[0], rel=1e-9, abs=1e-9)
    assert trades["dollars"].sum() == pytest.approx(-res.costs[0], rel=1e-9, abs=1e-6)
