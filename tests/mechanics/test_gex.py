"""Dealer gamma: Black–Scholes gamma by hand, positioning, aggregation, flip level, bad input."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from flowpressure import ConfigError, DataError
from flowpressure.data import sample
from flowpressure.mechanics import (
    EVENT_COLUMNS,
    bs_gamma,
    gamma_exposure,
    gex_events,
    gex_profile,
    opex_dates,
)

D = dt.date
AS_OF = D(2024, 3, 28)


def chain(**cols: list[object]) -> pl.DataFrame:
    base: dict[str, list[object]] = {
        "expiry": [D(2024, 6, 21)],
        "strike": [5000.0],
        "type": ["call"],
        "open_interest": [1000.0],
        "iv": [0.18],
    }
    base.update(cols)
    return pl.DataFrame(base)


def hand_gamma(s: float, k: float, t: float, v: float, r: float) -> float:
    d1 = (math.log(s / k) + (r + v * v / 2) * t) / (v * math.sqrt(t))
    return math.exp(-d1 * d1 / 2) / math.sqrt(2 * math.pi) / (s * v * math.sqrt(t))


# ------------------------------------------------------------------ worked example
def test_single_call_gex_equals_hand_black_scholes() -> None:
    s, r = 5100.0, 0.05
    t = (D(2024, 6, 21) - AS_OF).days / 365
    res = gamma_exposure(chain(), spot=s, rate=r, as_of=AS_OF)
    expected = hand_gamma(s, 5000.0, t, 0.18, r) * 1000 * 100 * s**2 * 0.01
    assert res.total_gex == pytest.approx(expected, rel=1e-12)
    assert res.hedge_flow_1pct == -res.total_gex
    assert res.contracts["gamma"][0] == pytest.approx(hand_gamma(s, 5000.0, t, 0.18, r))


def test_gamma_is_the_derivative_of_delta() -> None:
    s, k, t, v, r = 100.0, 95.0, 0.3, 0.25, 0.02

    def delta(x: float) -> float:
        return float(norm.cdf((math.log(x / k) + (r + v * v / 2) * t) / (v * math.sqrt(t))))

    h = 1e-3
    numeric = (delta(s + h) - delta(s - h)) / (2 * h)
    assert bs_gamma(s, k, t, v, r) == pytest.approx(numeric, rel=1e-6)


# ------------------------------------------------------------------ positioning and aggregation
def test_default_positioning_and_per_row_override() -> None:
    two = chain(
        expiry=[D(2024, 6, 21)] * 2,
        strike=[5000.0, 5000.0],
        type=["call", "put"],
        open_interest=[1000.0, 1000.0],
        iv=[0.18, 0.18],
    )
    res = gamma_exposure(two, spot=5000.0, as_of=AS_OF)
    call, put = res.contracts.sort("type")["gex"].to_list()
    assert call > 0
    assert put == pytest.approx(-call)  # same gamma, dealers short the put
    assert res.total_gex == pytest.approx(0.0, abs=1e-6)
    flipped = gamma_exposure(two, spot=5000.0, as_of=AS_OF, put_sign=1.0)
    assert flipped.total_gex == pytest.approx(2 * call)
    per_row = gamma_exposure(
        two.with_columns(dealer_sign=pl.Series([-1.0, -1.0])), spot=5000.0, as_of=AS_OF
    )
    assert per_row.total_gex == pytest.approx(-2 * call)
    assert "dealer_sign" in per_row.positioning


def test_by_strike_and_expiry_add_up_and_multiplier() -> None:
    ch = sample.load("options")
    res = gamma_exposure(ch)
    assert res.as_of == D(2018, 12, 31)
    assert res.spot == pytest.approx(2506.850098)
    assert res.by_strike["gex"].sum() == pytest.approx(res.total_gex)
    assert res.by_expiry["gex"].sum() == pytest.approx(res.total_gex)
    np.testing.assert_allclose(
        res.by_strike["call_gex"] + res.by_strike["put_gex"], res.by_strike["gex"]
    )
    small = gamma_exposure(ch.with_columns(multiplier=pl.lit(10.0)))
    assert small.total_gex == pytest.approx(res.total_gex / 10)
    assert res.diagnostics == {"contracts": 480, "expiring_today": 0, "rows_chain_gamma": 0}


def test_flip_level_is_where_total_gex_changes_sign() -> None:
    ch = chain(
        expiry=[D(2024, 6, 21)] * 2,
        strike=[4800.0, 5200.0],
        type=["put", "call"],
        open_interest=[1000.0, 1000.0],
        iv=[0.15, 0.15],
    )
    res = gamma_exposure(ch, spot=5000.0, as_of=AS_OF)
    assert res.flip_level is not None
    assert 4800.0 < res.flip_level < 5200.0
    at = gex_profile(ch, [res.flip_level], as_of=AS_OF)
    scale = abs(gex_profile(ch, [5200.0], as_of=AS_OF)[0])
    assert abs(at[0]) < 1e-9 * scale
    only_calls = gamma_exposure(chain(), spot=5000.0, as_of=AS_OF)
    assert only_calls.flip_level is None
    assert res.profile.height == 201


def test_spot_rate_and_date_defaults() -> None:
    ch = chain(underlying_price=[5000.0], rate=[0.04], date=[AS_OF])
    res = gamma_exposure(ch)
    assert res.spot == 5000.0
    assert res.as_of == AS_OF
    lower = gamma_exposure(ch, rate=0.0)
    assert lower.total_gex != res.total_gex


def test_expiring_today_is_left_out_and_counted() -> None:
    two = {"strike": [5000.0] * 2, "type": ["call"] * 2, "open_interest": [10.0] * 2}
    ch = chain(expiry=[AS_OF, D(2024, 6, 21)], iv=[0.2] * 2, **two)
    res = gamma_exposure(ch, spot=5000.0, as_of=AS_OF)
    assert res.diagnostics["expiring_today"] == 1
    assert res.contracts.height == 1


# ------------------------------------------------------------------ bad input
def test_negative_open_interest() -> None:
    with pytest.raises(DataError, match=r"field 'open_interest'.*>= 0.*got -5\.0"):
        gamma_exposure(chain(open_interest=[-5.0]), spot=5000.0, as_of=AS_OF)


def test_expiry_in_the_past() -> None:
    with pytest.raises(DataError, match=r"field 'expiry'.*expiry=2024-03-15.*on or after"):
        gamma_exposure(chain(expiry=[D(2024, 3, 15)]), spot=5000.0, as_of=AS_OF)


def test_missing_spot_and_date() -> None:
    with pytest.raises(ConfigError, match="spot"):
        gamma_exposure(chain(), as_of=AS_OF)
    with pytest.raises(ConfigError, match="as_of"):
        gamma_exposure(chain(), spot=5000.0)
    with pytest.raises(DataError, match="field 'iv'"):
        gamma_exposure(chain(iv=[0.0]), spot=5000.0, as_of=AS_OF)
    with pytest.raises(DataError, match="field 'type'"):
        gamma_exposure(chain(type=["straddle"]), spot=5000.0, as_of=AS_OF)


# ------------------------------------------------------------------ events and calendar
def test_opex_dates() -> None:
    assert opex_dates("2019-01-01", "2019-04-30") == [
        D(2019, 1, 18),
        D(2019, 2, 15),
        D(2019, 3, 15),
        D(2019, 4, 18),  # Good Friday 2019-04-19
    ]


def test_events_per_expiry() -> None:
    ch = sample.load("options")
    ev = gex_events(ch, sample.load("prices"))
    res = gamma_exposure(ch)
    assert tuple(ev.columns) == EVENT_COLUMNS
    assert ev["date"].to_list() == res.by_expiry["expiry"].to_list()
    np.testing.assert_allclose(ev["dollars"], -res.by_expiry["gex"])
    np.testing.assert_allclose(ev["shares"], -res.by_expiry["gex"] / res.spot)
    assert ev["days_of_adv"].null_count() == 0


# ------------------------------------------------------------------ the chain's own gamma, snapshots
def test_chain_gamma_is_used_at_spot_and_the_model_kept_for_comparison() -> None:
    two = chain(
        expiry=[D(2024, 6, 21)] * 2,
        strike=[5000.0, 4800.0],
        type=["call", "put"],
        open_interest=[1000.0, 2000.0],
        iv=[0.18, 0.2],
        gamma=[0.0004, 0.0003],
    )
    res = gamma_exposure(two, spot=5000.0, as_of=AS_OF)
    # 0.0004 x 1000 x 100 x 5000^2 x 0.01 - 0.0003 x 2000 x 100 x 5000^2 x 0.01
    assert res.total_gex == pytest.approx(10_000_000.0 - 15_000_000.0, rel=1e-12)
    assert res.gamma_source == "chain"
    assert res.diagnostics["rows_chain_gamma"] == 2
    model = gamma_exposure(two, spot=5000.0, as_of=AS_OF, gamma="model")
    assert model.gamma_source == "model"
    assert res.model_total_gex == pytest.approx(model.total_gex, rel=1e-12)
    assert model.total_gex != pytest.approx(res.total_gex, rel=1e-3)


def test_gamma_chain_requires_it_on_every_row() -> None:
    two = chain(
        expiry=[D(2024, 6, 21)] * 2,
        strike=[5000.0, 4800.0],
        type=["call", "put"],
        open_interest=[1000.0, 2000.0],
        iv=[0.18, 0.2],
        gamma=[0.0004, None],
    )
    res = gamma_exposure(two, spot=5000.0, as_of=AS_OF)
    assert res.gamma_source == "mixed"
    with pytest.raises(DataError, match=r"gamma.*strike=4800\.0"):
        gamma_exposure(two, spot=5000.0, as_of=AS_OF, gamma="chain")
    with pytest.raises(ConfigError, match="auto, chain or model"):
        gamma_exposure(two, spot=5000.0, as_of=AS_OF, gamma="cboe")  # type: ignore[arg-type]


def test_several_snapshots_on_a_date_are_never_summed() -> None:
    snaps = chain(
        expiry=[D(2024, 6, 21)] * 2,
        strike=[5000.0, 5000.0],
        type=["call", "call"],
        open_interest=[1000.0, 3000.0],
        iv=[0.18, 0.18],
        snapshot=["am", "pm"],
    )
    with pytest.raises(ConfigError, match=r"2 snapshots of UNDERLYING on 2024-03-28 \(am, pm\)"):
        gamma_exposure(snaps, spot=5000.0, as_of=AS_OF)
    one = gamma_exposure(snaps, spot=5000.0, as_of=AS_OF, snapshot="pm")
    only = gamma_exposure(snaps.filter(pl.col("snapshot") == "pm"), spot=5000.0, as_of=AS_OF)
    assert one.total_gex == only.total_gex > 0
    assert one.snapshot == "pm"
    with pytest.raises(DataError, match="snapshots \\(am, pm\\), got 'noon'"):
        gamma_exposure(snaps, spot=5000.0, as_of=AS_OF, snapshot="noon")
