"""Volatility targeting: estimators, exposure cap, trades, shock scenario, risk parity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from flowpressure import ConfigError, DataError
from flowpressure.data import sample, sessions
from flowpressure.mechanics import (
    EVENT_COLUMNS,
    exposure_trades,
    realized_vol,
    risk_parity_weights,
    target_exposure,
    vol_shock,
    vol_target_events,
    vol_targeting,
)

D = dt.date


def alternating(daily: float, n: int) -> np.ndarray:
    return np.where(np.arange(n) % 2 == 0, daily, -daily)


# ------------------------------------------------------------------ worked example
def test_vol_rising_from_10_to_20_pct_halves_exposure() -> None:
    assert target_exposure([0.10, 0.20], 0.10, 2.0).tolist() == [1.0, 0.5]
    # On a path: 20 days at 10 % annualised, then 20 days at 20 %.
    r = np.r_[alternating(0.10 / np.sqrt(252), 20), alternating(0.20 / np.sqrt(252), 20)]
    vol = realized_vol(r, window=20)
    expo = target_exposure(vol, 0.10, 2.0)
    assert vol[19] == pytest.approx(0.10)
    assert vol[39] == pytest.approx(0.20)
    assert expo[39] / expo[19] == pytest.approx(0.5)


def test_rolling_and_ewma_by_hand() -> None:
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, 60)
    roll = realized_vol(r, window=10)
    assert np.isnan(roll[8])
    assert roll[30] == pytest.approx(np.sqrt(252 * np.mean(r[21:31] ** 2)))
    ewma = realized_vol(r, window=10, lam=0.94)
    var = np.mean(r[:10] ** 2)
    for t in range(10, 60):
        var = 0.94 * var + 0.06 * r[t] ** 2
    assert ewma[-1] == pytest.approx(np.sqrt(252 * var))
    # pandas' adjusted=False EWM of r^2 with the same seed agrees.
    seeded = pd.Series(np.r_[np.mean(r[:10] ** 2), r[10:] ** 2]).ewm(alpha=0.06, adjust=False)
    assert ewma[-1] == pytest.approx(np.sqrt(252 * seeded.mean().iloc[-1]))


def test_vectorised_over_parameter_sets_equals_one_by_one() -> None:
    rng = np.random.default_rng(2)
    r = rng.normal(0, 0.012, 300)
    windows = np.array([5, 20, 60])
    lams = np.array([0.9, 0.94, 0.97])
    sweep = realized_vol(r, window=windows, lam=lams)
    for j in range(3):
        one = realized_vol(r, window=int(windows[j]), lam=float(lams[j]))
        np.testing.assert_allclose(sweep[:, j], one, equal_nan=True)
    expo = target_exposure(sweep, np.array([0.05, 0.10, 0.15]), np.array([1.0, 2.0, 3.0]))
    assert expo.shape == (300, 3)


def test_trade_formula() -> None:
    out = exposure_trades([1.0, 0.5, 0.5], [0.0, -0.04, 0.02], 1e9)
    assert np.isnan(out[0])
    assert out[1] == pytest.approx(1e9 * (0.5 - 1.0 * 0.96))
    assert out[2] == pytest.approx(1e9 * (0.5 - 0.5 * 1.02))


def test_vol_targeting_on_the_sample() -> None:
    prices = sample.load("prices")
    out = vol_targeting(prices, "SPX", target=0.10, max_leverage=2.0, aum=1e11)
    spx = prices.filter(pl.col("asset_id") == "SPX").sort("date")
    r = (spx["close"] / spx["close"].shift(1) - 1).to_numpy()[-20:]
    last = out.row(-1, named=True)
    assert last["realized_vol"] == pytest.approx(np.sqrt(252 * np.mean(r**2)))
    assert last["exposure"] == pytest.approx(min(2.0, 0.10 / last["realized_vol"]))
    prev = out.row(-2, named=True)
    assert last["trade"] == pytest.approx(
        1e11 * (last["exposure"] - prev["exposure"] * (1 + r[-1]))
    )
    assert out["exposure"].max() <= 2.0
    assert out.filter(pl.col("date") <= D(2018, 12, 30)).height == out.height - 1
    early = vol_targeting(prices, "SPX", as_of="2008-10-15")
    assert early["date"].max() == D(2008, 10, 15)


def test_compiled_kernels_match_their_python_twins() -> None:
    from flowpressure.mechanics._compat_numba import python_twin
    from flowpressure.mechanics._vol_kernels import ewma_variance, rolling_variance

    rng = np.random.default_rng(5)
    r2 = np.ascontiguousarray(rng.normal(0, 0.01, (80, 1)) ** 2)
    windows = np.array([2, 10, 30, 90], dtype=np.int64)
    lams = np.array([0.5, 0.9, 0.94, 0.99])
    np.testing.assert_array_equal(
        rolling_variance(r2, windows), python_twin(rolling_variance)(r2, windows)
    )
    np.testing.assert_array_equal(
        ewma_variance(r2, lams, windows), python_twin(ewma_variance)(r2, lams, windows)
    )
    per_set = np.ascontiguousarray(rng.normal(0, 0.01, (80, 4)) ** 2)
    np.testing.assert_array_equal(
        ewma_variance(per_set, lams, windows), python_twin(ewma_variance)(per_set, lams, windows)
    )


# ------------------------------------------------------------------ shock scenario
def test_shock_scenario_by_hand() -> None:
    out = vol_shock(1e11, 0.10, -0.04, days=5, window=20)
    sigma0_daily = 0.10 / np.sqrt(252)
    vol0 = np.sqrt(252 * (19 * sigma0_daily**2 + 0.04**2) / 20)
    e0 = 0.10 / vol0
    assert out.exposure_before[0] == pytest.approx(1.0)
    assert out.vol[0, 0] == pytest.approx(vol0)
    assert out.trade[0, 0] == pytest.approx(1e11 * (e0 - 1.0 * 0.96))
    assert out.total[0] < -3e10  # "sell about $36bn over the next 5 days"
    assert np.all(out.trade[1:, 0] > 0)  # flat days after: the estimate eases, funds buy back
    sweep = vol_shock(1e11, 0.10, np.array([-0.02, -0.04, -0.06]), days=3)
    assert sweep.trade.shape == (3, 3)
    assert np.all(np.diff(sweep.total) < 0)  # bigger shocks, bigger sales


# ------------------------------------------------------------------ properties
@settings(max_examples=100, deadline=None)
@given(
    r=arrays(np.float64, st.integers(25, 120), elements=st.floats(-0.2, 0.2)),
    target=st.floats(0.01, 1.0),
    cap=st.floats(0.1, 5.0),
    lam=st.one_of(st.none(), st.floats(0.5, 0.99)),
)
def test_exposure_never_exceeds_max_leverage(
    r: np.ndarray, target: float, cap: float, lam: float | None
) -> None:
    r = r + 1e-4  # keep the realised volatility away from zero
    expo = target_exposure(realized_vol(r, window=20, lam=lam), target, cap)
    defined = expo[~np.isnan(expo)]
    assert np.all(defined <= cap)
    assert np.all(defined > 0)


@settings(max_examples=100, deadline=None)
@given(
    vols=arrays(np.float64, st.integers(1, 8), elements=st.floats(0.01, 1.0)),
    target=st.floats(0.01, 0.5),
    cap=st.floats(0.1, 4.0),
)
def test_risk_parity_respects_the_leverage_cap(vols: np.ndarray, target: float, cap: float) -> None:
    w = risk_parity_weights(vols, target=target, max_leverage=cap)
    assert np.abs(w).sum() <= cap * (1 + 1e-12)
    inv = (1 / vols) / (1 / vols).sum()
    np.testing.assert_allclose(w / w.sum(), inv, rtol=1e-9)


def test_risk_parity_with_correlation() -> None:
    corr = np.array([[1.0, 0.5], [0.5, 1.0]])
    w = risk_parity_weights([0.1, 0.1], target=0.1, max_leverage=3.0, corr=corr)
    port = np.sqrt(w @ (0.01 * corr) @ w)
    assert port == pytest.approx(0.1)


# ------------------------------------------------------------------ bad input
def test_zero_volatility_is_an_error() -> None:
    days = [d.astype(object) for d in sessions(D(2024, 1, 2), D(2024, 3, 28))]
    flat = pl.DataFrame({"asset_id": "X", "date": days, "close": 100.0})
    with pytest.raises(DataError, match=r"field 'close' at asset_id=X.*zero"):
        vol_targeting(flat, "X")
    with pytest.raises(DataError, match=r"field 'vol'.*zero volatility"):
        target_exposure([0.1, 0.0], 0.10)
    with pytest.raises(DataError, match="zero volatility"):
        risk_parity_weights([0.1, 0.0])


def test_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="target"):
        target_exposure([0.1], 0.0)
    with pytest.raises(ConfigError, match="max_leverage"):
        target_exposure([0.1], 0.1, -1.0)
    with pytest.raises(ConfigError, match="lam"):
        realized_vol(np.ones(30) * 0.01, lam=1.0)
    with pytest.raises(ConfigError, match="window"):
        realized_vol(np.ones(30) * 0.01, window=1)
    with pytest.raises(DataError, match="asset_id"):
        vol_targeting(sample.load("prices"), "NOPE")


def test_events_shape() -> None:
    ev = vol_target_events(sample.load("prices"), "SPX", aum=1e11, start="2018-12-01")
    assert tuple(ev.columns) == EVENT_COLUMNS
    assert ev["date"].min() >= D(2018, 12, 3)
    assert ev["days_of_adv"].null_count() == 0
    assert "vol target 10%" in ev["notes"][0]
