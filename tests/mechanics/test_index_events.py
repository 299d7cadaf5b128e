"""Index events: demand formula, float-cap additions, drift, ADV, calendars and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowpressure import ConfigError, DataError
from flowpressure.data import sample, sessions
from flowpressure.mechanics import (
    EVENT_COLUMNS,
    concat_events,
    demand_from_weights,
    index_demand,
    index_demand_events,
    index_event_window,
    index_rebalance_schedule,
    russell_reconstitution_dates,
    sp500_rebalance_dates,
)

D = dt.date
DAYS = [d.astype(object) for d in sessions(D(2024, 1, 2), D(2024, 4, 30))]
ANN, EFF = D(2024, 3, 8), D(2024, 3, 18)  # trade at the 2024-03-15 close


def addition(**extra: Any) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "asset_id": ["NEW"],
            "announce_date": [ANN],
            "effective_date": [EFF],
            "w_old": [0.0],
            "w_new": [0.001],
            **extra,
        }
    )


def panel(closes: dict[str, list[float]], volume: float = 1e6, days: list[D] = DAYS) -> Any:
    rows = [
        (a, d, c, volume) for a, path in closes.items() for d, c in zip(days, path, strict=True)
    ]
    return pl.DataFrame(rows, schema=["asset_id", "date", "close", "volume"], orient="row")


def flat(price: float, n: int = len(DAYS)) -> list[float]:
    return [price] * n


# ------------------------------------------------------------------ worked examples
def test_addition_50bn_float_cap_30pct_passive_is_15bn() -> None:
    out = index_demand(addition(float_mcap=[50e9], passive_share=[0.30]))
    row = out.row(0, named=True)
    assert row["kind"] == "addition"
    assert row["demand"] == pytest.approx(15e9)
    assert row["trade_date"] == D(2024, 3, 15)
    assert row["demand_shares"] is None  # no prices: unsized in shares


def test_addition_with_prices_gives_shares_and_days_of_adv() -> None:
    prices = panel({"NEW": flat(50.0)}, volume=2e6)
    out = index_demand(addition(float_mcap=[50e9], passive_share=[0.30]), prices)
    row = out.row(0, named=True)
    assert row["demand"] == pytest.approx(15e9)
    assert row["demand_shares"] == pytest.approx(15e9 / 50.0)
    assert row["days_of_adv"] == pytest.approx(15e9 / 50.0 / 2e6)


def test_indexed_assets_mode_is_a_times_new_weight() -> None:
    out = index_demand(addition(), indexed_assets=1.5e13)
    assert out["demand"][0] == pytest.approx(1.5e10)


def test_deletion_and_reweight_drift_by_hand() -> None:
    # Asset A +10 % and index flat between announcement and trade close; B unchanged.
    path_a = [100.0 if d <= ANN else 110.0 for d in DAYS]
    prices = panel({"A": path_a, "B": flat(20.0), "IDX": flat(1000.0)})
    ev = pl.DataFrame(
        {
            "index_id": ["IDX", "IDX"],
            "asset_id": ["A", "B"],
            "announce_date": [ANN, ANN],
            "effective_date": [EFF, EFF],
            "w_old": [0.01, 0.02],
            "w_new": [0.0, 0.03],
        }
    )
    out = index_demand(ev, prices, indexed_assets=1e12).sort("asset_id")
    a, b = out.rows(named=True)
    assert a["kind"] == "deletion"
    assert a["r_asset"] == pytest.approx(0.10)
    assert a["r_index"] == pytest.approx(0.0)
    assert a["demand"] == pytest.approx(-1e12 * 0.01 * 1.10)
    assert a["demand_shares"] == pytest.approx(-1e12 * 0.01 * 1.10 / 110.0)
    assert b["demand"] == pytest.approx(1e12 * 0.01)
    assert "r_index from IDX" in a["notes"]


def test_days_of_adv_window_ends_the_session_before_announcement() -> None:
    # Volume 1e6 up to the session before the announcement, 9e6 from the announcement on:
    # the ADV must not see the announcement-day volume.
    rows = [("NEW", d, 50.0, 1e6 if d < ANN else 9e6) for d in DAYS]
    prices = pl.DataFrame(rows, schema=["asset_id", "date", "close", "volume"], orient="row")
    out = index_demand(addition(), prices, indexed_assets=1e12, adv_window=5)
    assert out["adv_shares"][0] == pytest.approx(1e6)
    assert out["days_of_adv"][0] == pytest.approx(1e12 * 0.001 / 50.0 / 1e6)


def test_trade_date_is_session_before_effective_over_a_holiday() -> None:
    ev = addition().with_columns(
        announce_date=pl.lit(D(2024, 3, 22)), effective_date=pl.lit(D(2024, 4, 1))
    )
    out = index_demand(ev, indexed_assets=1e12)
    assert out["trade_date"][0] == D(2024, 3, 28)  # Good Friday 2024-03-29 is closed


@pytest.mark.parametrize("backend", ["pandas", "polars_lazy", "duckdb"])
def test_events_from_other_backends(backend: str) -> None:
    ev = addition(float_mcap=[50e9], passive_share=[0.30])
    native: Any = {
        "pandas": lambda: ev.to_pandas(),
        "polars_lazy": lambda: ev.lazy(),
        "duckdb": lambda: duckdb.from_arrow(ev.to_arrow()),
    }[backend]()
    prices = panel({"NEW": flat(50.0)}).to_pandas()
    out = index_demand(native, prices)
    assert out["demand"][0] == pytest.approx(15e9)


def test_sample_events_are_sized() -> None:
    out = index_demand(sample.load("index_events"), sample.load("prices"))
    assert out.height == 8
    assert out.filter(pl.col("kind") == "addition")["demand"].min() > 0  # type: ignore[operator]
    assert out.filter(pl.col("kind") == "deletion")["demand"].max() < 0  # type: ignore[operator]
    assert out["days_of_adv"].null_count() == 0
    assert (out["trade_date"] < out["effective_date"]).all()


# ------------------------------------------------------------------ properties
weights = st.lists(st.floats(0.01, 1.0), min_size=2, max_size=12)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_reweighting_sums_to_zero_after_drift(data: st.DataObject) -> None:
    raw_old = np.array(data.draw(weights))
    n = raw_old.size
    raw_new = np.array(data.draw(st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n)))
    r = np.array(data.draw(st.lists(st.floats(-0.5, 1.0), min_size=n, max_size=n)))
    a = data.draw(st.floats(1e6, 1e14))
    w_old, w_new = raw_old / raw_old.sum(), raw_new / raw_new.sum()
    r_index = float(w_old @ r)
    demand = demand_from_weights(a, w_old, w_new, r, r_index)
    assert abs(demand.sum()) <= 1e-9 * a


@settings(max_examples=15, deadline=None)
@given(
    w=st.lists(st.floats(0.05, 1.0), min_size=2, max_size=5),
    moves=st.lists(st.floats(-0.3, 0.3), min_size=5, max_size=5),
)
def test_complete_reweighting_frame_sums_to_zero(w: list[float], moves: list[float]) -> None:
    n = len(w)
    w_old = np.array(w) / sum(w)
    w_new = np.roll(w_old, 1)
    ids = [f"A{i}" for i in range(n)]
    closes = {
        a: [10.0 if d <= ANN else 10.0 * (1 + moves[i]) for d in DAYS] for i, a in enumerate(ids)
    }
    ev = pl.DataFrame(
        {
            "asset_id": ids,
            "announce_date": [ANN] * n,
            "effective_date": [EFF] * n,
            "w_old": w_old,
            "w_new": w_new,
        }
    )
    out = index_demand(ev, panel(closes), indexed_assets=2e12, complete=True)
    assert abs(out["demand"].sum()) <= 1e-9 * 2e12
    assert "implied by the constituents" in out["notes"][0]


# ------------------------------------------------------------------ bad input
def test_weights_not_summing_to_one_with_complete() -> None:
    ev = pl.DataFrame(
        {
            "asset_id": ["A", "B"],
            "announce_date": [ANN, ANN],
            "effective_date": [EFF, EFF],
            "w_old": [0.5, 0.5],
            "w_new": [0.5, 0.4],
        }
    )
    with pytest.raises(DataError, match=r"field 'w_new'.*summing to 1.*got 0\.9"):
        index_demand(ev, indexed_assets=1e12, complete=True)


def test_weights_above_one_in_total() -> None:
    ev = pl.DataFrame(
        {
            "asset_id": ["A", "B"],
            "announce_date": [ANN, ANN],
            "effective_date": [EFF, EFF],
            "w_old": [0.0, 0.0],
            "w_new": [0.7, 0.6],
        }
    )
    with pytest.raises(DataError, match=r"field 'w_new'.*at most 1"):
        index_demand(ev, indexed_assets=1e12)


def test_weight_outside_unit_interval() -> None:
    with pytest.raises(DataError, match=r"field 'w_new' at asset_id=NEW.*\[0, 1\]"):
        index_demand(addition().with_columns(w_new=pl.lit(1.5)), indexed_assets=1e12)


def test_missing_adv() -> None:
    prices = panel({"NEW": flat(50.0, 10)}, days=[d for d in DAYS if d >= D(2024, 3, 1)][:10])
    with pytest.raises(DataError, match=r"field 'volume' at asset_id=NEW, date=2024-03-07.*20 ses"):
        index_demand(addition(), prices, indexed_assets=1e12)


def test_effective_not_after_announcement() -> None:
    ev = addition().with_columns(effective_date=pl.lit(ANN))
    with pytest.raises(DataError, match="field 'effective_date'"):
        index_demand(ev, indexed_assets=1e12)


def test_needs_indexed_assets_or_float_cap() -> None:
    with pytest.raises(ConfigError, match="indexed_assets"):
        index_demand(addition())
    with pytest.raises(ConfigError, match="indexed_assets"):
        index_demand(addition(), indexed_assets=-1.0)


def test_asset_without_prices() -> None:
    with pytest.raises(DataError, match="field 'asset_id' at asset_id=NEW"):
        index_demand(addition(), panel({"OTHER": flat(1.0)}), indexed_assets=1e12)


# ------------------------------------------------------------------ calendars and events
def test_rebalance_calendars() -> None:
    assert sp500_rebalance_dates("2019-01-01", "2019-12-31") == [
        D(2019, 3, 15),
        D(2019, 6, 21),
        D(2019, 9, 20),
        D(2019, 12, 20),
    ]
    recon = russell_reconstitution_dates("2018-01-01", "2024-12-31")
    days = [(2018, 22), (2019, 28), (2020, 26), (2021, 25), (2022, 24), (2023, 23), (2024, 28)]
    assert recon == [D(y, 6, d) for y, d in days]
    semi = russell_reconstitution_dates("2026-01-01", "2026-12-31", months=(6, 12))
    assert [d.month for d in semi] == [6, 12]
    sched = index_rebalance_schedule(sp500_rebalance_dates("2024-01-01", "2024-06-30"))
    assert sched.columns == ["announce_date", "trade_date", "effective_date"]
    assert sched.row(1) == (D(2024, 6, 13), D(2024, 6, 21), D(2024, 6, 24))  # over Juneteenth
    assert index_event_window(ANN, EFF)[-1] == D(2024, 3, 15)
    with pytest.raises(ConfigError, match="nth_friday"):
        russell_reconstitution_dates("2024-01-01", "2024-12-31", nth_friday=0)


def test_calendar_events_shape_and_concat() -> None:
    ev = index_demand_events(addition(float_mcap=[50e9], passive_share=[0.30]))
    assert tuple(ev.columns) == EVENT_COLUMNS
    assert ev.row(0)[:4] == (D(2024, 3, 15), "index_event", "NEW", 15e9)
    assert "effective 2024-03-18" in ev["notes"][0]
    both = concat_events([ev, ev])
    assert both.height == 2
    with pytest.raises(Exception, match="columns"):
        concat_events([ev.drop("notes")])


def test_pandas_frame_in() -> None:
    out = index_demand(pd.DataFrame(addition().to_dicts()), indexed_assets=1e12)
    assert out["demand"][0] == pytest.approx(1e9)
