"""Buybacks: yield, 10b-18 ADTV, blackout windows, the safe-harbour cap and the projection."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowpressure import DataError, SchemaError
from flowpressure.data import sample, sessions
from flowpressure.mechanics import (
    EVENT_COLUMNS,
    buyback_demand,
    buyback_events,
    buyback_yield,
    rule_10b18_adtv,
)
from flowpressure.mechanics.buybacks import water_fill

D = dt.date
DAYS = [d.astype(object) for d in sessions(D(2023, 10, 2), D(2024, 6, 28))]


def prices(volume: float = 1e6, close: float = 50.0, days: list[D] = DAYS) -> pl.DataFrame:
    return pl.DataFrame(
        {"asset_id": "A", "date": days, "close": close, "volume": volume},
        schema={"asset_id": pl.String, "date": pl.Date, "close": pl.Float64, "volume": pl.Float64},
    )


def buybacks(repurchases: list[float], earnings: list[D] | None = None) -> pl.DataFrame:
    ends = [D(2024, 3, 31), D(2024, 6, 30)][: len(repurchases)]
    data = {
        "asset_id": "A",
        "date": ends,
        "repurchases": repurchases,
        "market_cap": [1e10] * len(ends),
    }
    if earnings is not None:
        data["earnings_date"] = earnings
    return pl.DataFrame(data)


# ------------------------------------------------------------------ yield
def test_yield_net_of_issuance_and_share_reduction() -> None:
    df = pl.DataFrame(
        {
            "asset_id": "A",
            "date": [D(2023, 3, 31), D(2023, 6, 30), D(2023, 9, 30), D(2023, 12, 31)],
            "repurchases": [1e6, 2e6, 3e6, 4e6],
            "issuance": [1e6, 0.0, 0.0, 1e6],
            "shares_outstanding": [1e6, 0.99e6, 0.98e6, 0.97e6],
            "market_cap": [1e8, 1e8, 1e8, 2e8],
        }
    )
    out = buyback_yield(df, trailing=3)
    last = out.row(-1, named=True)
    assert last["repurchases_ttm"] == pytest.approx(9e6)
    assert last["buyback_yield"] == pytest.approx(9e6 / 2e8)
    assert last["net_buyback_yield"] == pytest.approx(8e6 / 2e8)
    assert last["share_reduction"] == pytest.approx(1 - 0.97 / 1.0)
    assert out["buyback_yield"].null_count() == 2


def test_yield_adjusts_share_counts_for_splits() -> None:
    # S07 splits 2-for-1 on 2010-06-01: without the split factors the count would "double".
    out = buyback_yield(sample.load("buybacks"), sample.load("prices"))
    s07 = out.filter(pl.col("asset_id") == "S07").drop_nulls("share_reduction")
    assert s07["share_reduction"].min() > -0.05  # type: ignore[operator]


def test_yield_needs_market_cap_or_prices() -> None:
    df = buybacks([1e6]).drop("market_cap")
    with pytest.raises(SchemaError, match="market_cap"):
        buyback_yield(df)


# ------------------------------------------------------------------ 10b-18
def test_adtv_is_four_calendar_weeks_before_the_week() -> None:
    vol = [float(i) for i in range(len(DAYS))]
    px = prices().with_columns(volume=pl.Series(vol))
    out = rule_10b18_adtv(px)
    day = D(2024, 2, 7)  # a Wednesday; its week starts 2024-02-05
    window = [v for d, v in zip(DAYS, vol, strict=True) if D(2024, 1, 8) <= d <= D(2024, 2, 4)]
    got = out.filter(pl.col("date") == day)["adtv_shares"].item()
    assert got == pytest.approx(np.mean(window))
    assert out["adtv_shares"][0] is None  # no four weeks of history yet


def test_water_fill() -> None:
    assert water_fill(10.0, np.array([1.0, 5.0, 5.0])).tolist() == [1.0, 4.5, 4.5]
    assert water_fill(0.0, np.array([1.0, 2.0])).tolist() == [0.0, 0.0]


@settings(max_examples=200, deadline=None)
@given(
    amount=st.floats(0.0, 1e9),
    caps=st.lists(st.floats(0.0, 1e8), min_size=1, max_size=30),
)
def test_water_fill_never_exceeds_caps(amount: float, caps: list[float]) -> None:
    c = np.array(caps)
    out = water_fill(amount, c)
    assert np.all(out <= c * (1 + 1e-12) + 1e-9)
    assert out.sum() == pytest.approx(min(amount, c.sum()), rel=1e-9, abs=1e-6)


# ------------------------------------------------------------------ demand
def test_demand_spreads_over_open_sessions_and_skips_blackout() -> None:
    earnings = [D(2024, 4, 25), D(2024, 7, 25)]
    out = buyback_demand(buybacks([5e6, 5e6], earnings), prices(), project=False)
    q2 = out.daily.filter(pl.col("period_end") == D(2024, 6, 30))
    closed = q2.filter(~pl.col("open"))
    # Blackout: 30 days before 2024-04-25 through the session after it (2024-04-26).
    assert closed["date"].min() == D(2024, 4, 1)
    assert D(2024, 4, 26) in closed["date"].to_list()
    assert D(2024, 4, 29) not in closed["date"].to_list()
    assert closed["demand"].sum() == 0.0
    open_days = q2.filter(pl.col("open"))
    assert open_days["demand"].sum() == pytest.approx(5e6)
    assert open_days["demand"].n_unique() == 1  # equal dollars, cap not binding
    assert open_days["share_of_adv"][0] == pytest.approx(5e6 / open_days.height / 50.0 / 1e6)
    period = out.periods.filter(pl.col("period_end") == D(2024, 6, 30)).row(0, named=True)
    assert period["unfilled"] == 0.0
    assert period["blackout"].startswith("2024-04-01..2024-04-26")


def test_cap_binds_and_reports_unfilled() -> None:
    # Cap: 25 % x 1e6 shares x $50 = $12.5m a day; $2bn cannot be bought in a quarter.
    out = buyback_demand(buybacks([2e9]), prices(), project=False)
    d = out.daily.filter(pl.col("period_end") == D(2024, 3, 31))
    assert d["demand"].max() == pytest.approx(12.5e6)
    assert d["at_cap"].all()
    p = out.periods.row(0, named=True)
    assert p["unfilled"] == pytest.approx(2e9 - 12.5e6 * p["open_sessions"])


def test_projection_uses_the_run_rate_after_the_data() -> None:
    out = buyback_demand(
        buybacks([4e6, 8e6], [D(2024, 4, 25), D(2024, 7, 25)]), prices(), trailing=2
    )
    est = out.periods.filter(pl.col("estimated")).row(0, named=True)
    assert est["period_start"] == D(2024, 6, 30)
    assert est["period_end"] == D(2024, 9, 30)
    assert est["repurchases"] == pytest.approx(6e6)
    days = out.daily.filter(pl.col("estimated"))
    assert days["date"].min() == D(2024, 7, 1)
    assert days["demand"].sum() == pytest.approx(6e6)
    assert out.as_of == D(2024, 6, 30)  # the later of the two panels' last dates


def test_as_of_ignores_later_data() -> None:
    out = buyback_demand(buybacks([4e6, 8e6]), prices(), as_of="2024-04-30")
    est = out.periods.filter(pl.col("estimated")).row(0, named=True)
    assert est["period_end"] == D(2024, 6, 30)
    assert est["repurchases"] == pytest.approx(4e6)


@settings(max_examples=40, deadline=None)
@given(
    amounts=st.lists(st.floats(0.0, 5e9), min_size=2, max_size=2),
    vols=st.lists(st.floats(1e3, 1e7), min_size=8, max_size=8),
    cap=st.floats(0.01, 1.0),
)
def test_demand_never_exceeds_the_10b18_cap(
    amounts: list[float], vols: list[float], cap: float
) -> None:
    volume = [vols[i % len(vols)] for i in range(len(DAYS))]
    px = prices().with_columns(volume=pl.Series(volume))
    out = buyback_demand(
        buybacks(amounts, [D(2024, 4, 25), D(2024, 7, 25)]), px, cap=cap, project=True
    )
    d = out.daily
    assert (d["demand_shares"] <= cap * d["adtv_shares"] * (1 + 1e-9)).all()
    assert (d["cap_shares"] == cap * d["adtv_shares"]).all()
    p = out.periods
    assert np.allclose(p["filled"] + p["unfilled"], p["repurchases"], rtol=1e-9, atol=1e-3)


def test_sample_runs_for_every_asset() -> None:
    out = buyback_demand(sample.load("buybacks"), sample.load("prices"))
    assert out.periods["asset_id"].n_unique() == 20
    assert out.periods.filter(pl.col("estimated")).height == 20
    assert (out.daily["share_of_adv"] <= 0.25 + 1e-12).all()


# ------------------------------------------------------------------ bad input and events
def test_missing_adtv_is_an_error() -> None:
    late = [d for d in DAYS if d >= D(2024, 1, 16)]
    with pytest.raises(DataError, match=r"field 'volume' at asset_id=A.*missing ADV"):
        buyback_demand(buybacks([5e6]), prices(days=late), project=False)


def test_negative_repurchases_is_an_error() -> None:
    with pytest.raises(DataError, match="field 'repurchases'"):
        buyback_demand(buybacks([-1.0]), prices())


def test_events_shape() -> None:
    ev = buyback_events(buybacks([5e6], [D(2024, 4, 25)]), prices(), project=False)
    assert tuple(ev.columns) == EVENT_COLUMNS
    assert set(ev["family"]) == {"buyback"}
    assert ev["dollars"].sum() == pytest.approx(5e6)
    assert "10b-18" in ev["notes"][0]
