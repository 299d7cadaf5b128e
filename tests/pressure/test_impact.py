"""Impact models and liquidity measures against hand computations."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowpressure import ConfigError, DataError
from flowpressure.data import sample
from flowpressure.pressure import (
    DEFAULT_Y,
    amihud_illiquidity,
    days_of_volume,
    execution_days,
    kyle_lambda,
    linear_impact,
    liquidity,
    participation_rate,
    sqrt_impact,
)


def test_sqrt_law_hand_computation() -> None:
    est = sqrt_impact(1_000_000, 4_000_000, 0.02, y=0.5, days=5)
    assert est.impact == pytest.approx(0.5 * 0.02 * math.sqrt(0.25))
    assert est.impact_bps == pytest.approx(50.0)
    assert est.days_of_adv == 0.25
    assert est.participation == pytest.approx(0.05)
    assert est.side == "buy"
    assert DEFAULT_Y == 1.0


@given(q=st.floats(1.0, 1e12), adv=st.floats(1.0, 1e12), sigma=st.floats(1e-4, 0.2))
def test_doubling_q_multiplies_the_move_by_sqrt2(q: float, adv: float, sigma: float) -> None:
    one = sqrt_impact(q, adv, sigma).impact
    two = sqrt_impact(2 * q, adv, sigma).impact
    assert two == pytest.approx(math.sqrt(2) * one, rel=1e-12)
    assert sqrt_impact(-q, adv, sigma).impact == -one


def test_zero_flow_zero_impact() -> None:
    est = sqrt_impact(0.0, 1e6, 0.01)
    assert est.impact == 0.0
    assert est.side == "none"


def test_days_of_volume_and_participation_by_hand() -> None:
    assert days_of_volume(-3e6, 1.5e6) == 2.0
    assert participation_rate(3e6, 1.5e6, days=4) == 0.5
    assert execution_days(3e6, 1.5e6, participation=0.2) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: sqrt_impact(1e6, -1e6, 0.02), "adv"),
        (lambda: sqrt_impact(1e6, 0.0, 0.02), "adv"),
        (lambda: sqrt_impact(1e6, 1e6, 0.0), "sigma"),
        (lambda: sqrt_impact(1e6, 1e6, -0.01), "sigma"),
        (lambda: sqrt_impact(1e6, 1e6, 0.02, y=0.0), "y"),
        (lambda: sqrt_impact(math.inf, 1e6, 0.02), "quantity"),
        (lambda: days_of_volume(1.0, -5.0), "adv"),
        (lambda: participation_rate(1.0, 5.0, days=0), "days"),
        (lambda: execution_days(1.0, 5.0, participation=1.5), "participation"),
        (lambda: linear_impact(1.0, -1e-9), "lam"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        call()  # type: ignore[operator]
    assert err.value.field == field
    assert field in str(err.value)


def test_linear_impact_and_kyle_lambda_recovery() -> None:
    rng = np.random.default_rng(7)
    flow = rng.normal(0, 1e7, 2000)
    lam = 3e-10
    ret = 0.0002 + lam * flow + rng.normal(0, 0.004, 2000)
    ret[5] = np.nan
    est = kyle_lambda(ret, flow)
    assert est.n == 1999
    assert est.dropped == 1
    assert abs(est.lam - lam) < 3 * est.se
    assert est.t > 10
    lin = linear_impact(5e6, est.lam, adv=2.5e7)
    assert lin.impact == pytest.approx(est.lam * 5e6)
    assert lin.days_of_adv == pytest.approx(0.2)


def test_kyle_lambda_needs_varying_flow() -> None:
    with pytest.raises(ConfigError, match="flows"):
        kyle_lambda([0.1, 0.2, 0.3], [1.0, 1.0, 1.0])


def test_amihud_by_hand() -> None:
    got = amihud_illiquidity([0.01, -0.03, 0.5], [1e6, 3e6, 0.0])
    assert got == pytest.approx((0.01 / 1e6 + 0.03 / 3e6) / 2)
    with pytest.raises(ConfigError, match="dollar_volume"):
        amihud_illiquidity([0.01], [-1.0])


def test_liquidity_table_matches_hand_computation() -> None:
    prices = sample.load("prices").filter(pl.col("asset_id").is_in(["S01", "S02"]))
    out = liquidity(prices, "2018-12-31", 20)
    assert out["asset_id"].to_list() == ["S01", "S02"]
    s01 = prices.filter(asset_id="S01").sort("date")
    s01 = s01.with_columns(
        r=(pl.col("close") * pl.col("split_factor") + pl.col("dividend")) / pl.col("close").shift(1)
        - 1
    ).tail(20)
    row = out.row(0, named=True)
    assert row["window"] == 20
    assert row["adv_shares"] == pytest.approx(s01["volume"].mean())
    assert row["adv_dollars"] == pytest.approx((s01["volume"] * s01["close"]).mean())
    assert row["sigma_daily"] == pytest.approx(s01["r"].std())
    assert row["amihud"] == pytest.approx((s01["r"].abs() / (s01["volume"] * s01["close"])).mean())
    # as_of defaults to the data's last date
    assert liquidity(prices, window=20)["as_of"][0].isoformat() == "2018-12-31"


def test_liquidity_errors() -> None:
    prices = sample.load("prices").filter(asset_id="S01")
    with pytest.raises(DataError, match="volume"):
        liquidity(prices, "1999-01-15", 20)
    bad = prices.with_columns(
        pl.when(pl.col("date") == pl.col("date").max())
        .then(-1.0)
        .otherwise(pl.col("volume"))
        .alias("volume")
    )
    with pytest.raises(DataError, match="negative ADV"):
        liquidity(bad)
