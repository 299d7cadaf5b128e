"""CTA trend model: signals, triggers (the flip at the lookback price), flows, scenarios."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from flowpressure import ConfigError, DataError
from flowpressure.data import sample, sessions
from flowpressure.mechanics import (
    EVENT_COLUMNS,
    cta_events,
    cta_model,
    trend_exposure,
    trend_signals,
)

D = dt.date
DAYS = [d.astype(object) for d in sessions(D(2023, 1, 3), D(2024, 6, 28))]


def panel(close: np.ndarray, split: np.ndarray | None = None) -> pl.DataFrame:
    n = close.size
    data = {"asset_id": ["X"] * n, "date": DAYS[-n:], "close": close}
    if split is not None:
        data["split_factor"] = split
    return pl.DataFrame(data)


def walk(n: int = 200, seed: int = 3, drift: float = 0.0005) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.cumprod(1.0 + rng.normal(drift, 0.01, n))


# ------------------------------------------------------------------ worked example
def test_one_lookback_flips_at_the_lookback_price() -> None:
    close = walk()
    lookback = 20
    res = cta_model(panel(close), "X", aum=1e10, lookbacks=[lookback], vol_window=20)
    trig = res.triggers.row(0, named=True)
    # Tomorrow compares with the close L-1 sessions back from today.
    assert trig["trigger_price"] == close[-lookback]
    assert res.flip_level == pytest.approx(close[-lookback], rel=1e-12)
    now = np.sign(trend_signals(close, [lookback])[-1, 0])
    below = np.r_[close, close[-lookback] * (1 - 1e-6)]
    above = np.r_[close, close[-lookback] * (1 + 1e-6)]
    flips = {
        float(np.sign(trend_signals(below, [lookback])[-1, 0])),
        float(np.sign(trend_signals(above, [lookback])[-1, 0])),
    }
    assert flips == {-1.0, 1.0}
    assert trig["flips_to"] == ("short below" if now > 0 else "long above")
    assert trig["signal_if_crossed"] == -now


def test_signals_by_hand() -> None:
    assert np.array_equal(
        trend_signals([1.0, 2.0, 3.0, 2.5], [1, 2]),
        np.array([[np.nan, np.nan], [1.0, np.nan], [1.0, 1.0], [-1.0, 1.0]]),
        equal_nan=True,
    )
    close = walk(80)
    scaled = trend_signals(close, [20], signal="scaled", vol_window=20, z_cap=2.0)
    r = close[1:] / close[:-1] - 1
    sd = np.sqrt(np.mean(r[-20:] ** 2))
    z = (close[-1] / close[-21] - 1) / (2.0 * sd * np.sqrt(20))
    assert scaled[-1, 0] == pytest.approx(np.clip(z, -1, 1))


def test_positions_and_flows_by_hand() -> None:
    close = walk(150)
    res = cta_model(panel(close), "X", aum=2e9, lookbacks=[10, 50], risk_target=0.12, vol_window=30)
    h = res.history
    r = close[1:] / close[:-1] - 1
    vol = np.sqrt(252 * np.mean(r[-30:] ** 2))
    s = np.mean([np.sign(close[-1] - close[-11]), np.sign(close[-1] - close[-51])])
    expo = float(np.clip(s * 0.12 / vol, -2, 2))
    assert res.exposure == pytest.approx(expo)
    assert res.position == pytest.approx(2e9 * expo)
    e_prev = h["exposure"][-2]
    assert res.flow == pytest.approx(2e9 * (expo - e_prev * (1 + r[-1])))
    assert h.columns[:6] == ["date", "close", "adj_close", "ret", "s_10", "s_50"]
    zero = res.scenarios.filter(pl.col("move") == 0.0).row(0, named=True)
    assert zero["price"] == pytest.approx(close[-1])


def test_triggers_are_split_adjusted() -> None:
    close = walk(120)
    split = np.ones(120)
    split[-5] = 2.0
    adjusted = close.copy()
    close = close.copy()
    close[-5:] = close[-5:] / 2.0  # the quoted close halves at the split
    res = cta_model(panel(close, split), "X", aum=1e9, lookbacks=[20], vol_window=20)
    trig = res.triggers["trigger_price"][0]
    assert trig == pytest.approx(adjusted[-20] / 2.0)  # in today's share units
    assert res.close == pytest.approx(close[-1])


def test_vectorised_over_parameter_sets() -> None:
    close = walk(300)
    weights = np.array([[0.5, 0.5], [1.0, 0.0], [0.2, 0.8]])
    targets = np.array([0.05, 0.10, 0.20])
    sweep = trend_exposure(close, [20, 60], weights=weights, risk_target=targets)
    for j in range(3):
        one = trend_exposure(close, [20, 60], weights=weights[j], risk_target=float(targets[j]))
        np.testing.assert_allclose(sweep[:, j], one, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(
    r=arrays(np.float64, st.integers(70, 150), elements=st.floats(-0.1, 0.1)),
    cap=st.floats(0.1, 3.0),
    target=st.floats(0.01, 1.0),
)
def test_exposure_within_the_cap(r: np.ndarray, cap: float, target: float) -> None:
    close = 100 * np.cumprod(1 + r + 1e-4)
    expo = trend_exposure(close, [5, 20], risk_target=target, max_leverage=cap, vol_window=20)
    defined = expo[~np.isnan(expo)]
    assert np.all(np.abs(defined) <= cap)


def test_sample_spx_at_the_end_of_2018() -> None:
    res = cta_model(sample.load("prices"), "SPX", aum=3e11)
    assert res.as_of == D(2018, 12, 31)
    assert res.signal == -1.0  # after the Q4 2018 sell-off every lookback is short
    assert res.exposure < 0
    assert res.triggers.height == 4
    assert (res.triggers["trigger_price"] > res.close).all()
    assert res.flip_level in set(res.triggers["trigger_price"].to_list())
    early = cta_model(sample.load("prices"), "SPX", aum=3e11, as_of="2017-12-29")
    assert early.signal == 1.0


# ------------------------------------------------------------------ bad input and events
def test_bad_input() -> None:
    close = walk(100)
    with pytest.raises(ConfigError, match="aum"):
        cta_model(panel(close), "X", aum=0.0)
    with pytest.raises(DataError, match=r"field 'asset_id' at asset_id=X.*251 price rows"):
        cta_model(panel(close), "X", aum=1e9)  # 250-session lookback needs 251 closes
    with pytest.raises(ConfigError, match="lookbacks"):
        cta_model(panel(close), "X", aum=1e9, lookbacks=[0])
    with pytest.raises(ConfigError, match="weights"):
        cta_model(panel(close), "X", aum=1e9, lookbacks=[5, 10], weights=[0.5, 0.6])
    with pytest.raises(DataError, match="zero volatility"):
        cta_model(panel(np.full(100, 50.0)), "X", aum=1e9, lookbacks=[5], vol_window=20)


def test_events_with_conditional_triggers() -> None:
    close = walk(120)
    ev = cta_events(
        panel(close), "X", aum=1e9, lookbacks=[10, 20], vol_window=20, start="2024-06-24"
    )
    assert tuple(ev.columns) == EVENT_COLUMNS
    cond = ev.filter(pl.col("notes").str.starts_with("conditional"))
    assert cond.height == 2
    assert set(cond["date"]) == {D(2024, 7, 1)}
    assert ev.filter(~pl.col("notes").str.starts_with("conditional"))["date"].min() == D(
        2024, 6, 24
    )
    assert ev["days_of_adv"].null_count() == ev.height  # no volume in the panel
