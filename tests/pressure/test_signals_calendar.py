"""Signals (month-end volume, rebalancing spread, divergence) and the flow calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from flowpressure import ConfigError, DataError
from flowpressure.data import last_sessions, sample
from flowpressure.pressure import (
    CALENDAR_COLUMNS,
    flow_calendar,
    index_divergence,
    month_end_volume,
    rebalance_signal,
)

D = dt.date


@pytest.fixture(scope="module")
def prices() -> pl.DataFrame:
    return sample.load("prices")


def test_month_end_volume_by_hand() -> None:
    days = [D(2024, 1, d) for d in (2, 3, 4, 5, 8, 9, 10)]
    vol = [100.0, 110.0, 90.0, 100.0, 150.0, 160.0, 170.0]
    df = pl.DataFrame({"asset_id": "X", "date": days, "close": 1.0, "volume": vol})
    row = month_end_volume(df, "X", last_n=3).row(0, named=True)
    rest = np.array(vol[:4])
    assert row["month_end"] == D(2024, 1, 10)
    assert row["volume_end"] == pytest.approx(160.0)
    assert row["volume_rest"] == pytest.approx(100.0)
    assert row["ratio"] == pytest.approx(1.6)
    assert row["z"] == pytest.approx(60.0 / (rest.std(ddof=1) / np.sqrt(3)))


def test_month_end_volume_on_the_sample(prices: pl.DataFrame) -> None:
    out = month_end_volume(prices, "S10", last_n=3)
    assert out.height == 240
    assert out["z"].mean() > 0.5  # the sample adds 20 % volume in the last three sessions


def test_rebalance_signal_formula(prices: pl.DataFrame) -> None:
    out = rebalance_signal(prices, as_of="2013-12-31")
    last = out.row(-1, named=True)
    assert last["ytd_equity"] > last["ytd_bond"]  # 2013: SPX up about 30 %
    assert last["trade_pct"] == pytest.approx(0.24 * (last["ytd_bond"] - last["ytd_equity"]))
    assert last["direction"] == "sell equities"
    spx = prices.filter(asset_id="SPX").sort("date")
    c12 = spx.filter(pl.col("date") == D(2012, 12, 31))["close"][0]
    c13 = spx.filter(pl.col("date") == D(2013, 12, 31))["close"][0]
    assert last["ytd_equity"] == pytest.approx(c13 / c12 - 1)
    assert out["date"].min() == D(2013, 1, 2)


def test_index_divergence_by_hand(prices: pl.DataFrame) -> None:
    out = index_divergence(prices, "SPX", "S01", window=5)
    spx = prices.filter(asset_id="SPX").sort("date")["close"].to_numpy()
    row = out.row(-1, named=True)
    assert row["ret_broad"] == pytest.approx(spx[-1] / spx[-6] - 1)
    with pytest.raises(DataError, match="asset_id"):
        index_divergence(prices, "SPX", "NDX")


def test_calendar_without_inputs_is_all_unsized() -> None:
    cal = flow_calendar("2024-01-01", "2024-12-31")
    assert tuple(cal.columns) == CALENDAR_COLUMNS
    counts = dict(cal.group_by("family").len().rows())
    assert counts == {
        "month_end": 8,
        "quarter_end": 3,
        "year_end": 1,
        "opex": 8,
        "quarterly_expiry": 4,
        "index_rebalance": 4,
    }
    assert set(cal["status"]) == {"unsized"}
    q1 = cal.filter(family="quarter_end").row(0, named=True)
    assert q1["date"] == D(2024, 3, 28)
    assert q1["window_start"] == last_sessions(D(2024, 3, 28), 5)[0]
    assert cal["date"].is_sorted()


def test_calendar_sized_where_inputs_exist(prices: pl.DataFrame) -> None:
    cal = flow_calendar(
        "2018-11-01",
        "2019-02-28",
        prices=prices,
        buybacks=sample.load("buybacks"),
        options=sample.load("options"),
        rebalance_aum=1e12,
    )
    me = cal.filter(pl.col("family").is_in(["month_end", "year_end"]))
    sized = dict(zip(me["date"].to_list(), me["status"].to_list(), strict=True))
    assert sized[D(2018, 11, 30)] == "sized"
    assert sized[D(2019, 1, 31)] == "unsized"  # after the data
    nov = me.filter(pl.col("date") == D(2018, 11, 30)).row(0, named=True)
    spx = prices.filter(asset_id="SPX").sort("date")
    bond = prices.filter(asset_id="AGG_TR").sort("date")

    def month_ret(frame: pl.DataFrame) -> float:
        c = dict(zip(frame["date"].to_list(), frame["close"].to_list(), strict=True))
        return c[D(2018, 11, 30)] / c[D(2018, 10, 31)] - 1

    assert nov["dollars"] == pytest.approx(1e12 * 0.24 * (month_ret(bond) - month_ret(spx)))
    opex = cal.filter(family="opex", date=D(2019, 1, 18)).row(0, named=True)
    assert opex["status"] == "sized"
    assert "gamma expiring" in opex["notes"]
    assert cal.filter(family="buyback_blackout").height > 0
    assert cal.filter(family="buyback")["status"].unique().to_list() == ["sized"]


def test_calendar_index_events_sized(prices: pl.DataFrame) -> None:
    cal = flow_calendar(
        "2013-01-01", "2013-12-31", prices=prices, index_events=sample.load("index_events")
    )
    ev = cal.filter(family="index_event")
    assert ev.height >= 1
    assert (ev["status"] == "sized").all()


def test_calendar_bad_input() -> None:
    with pytest.raises(ConfigError, match="end"):
        flow_calendar("2024-03-01", "2024-01-01")
    with pytest.raises(ConfigError, match="rebalance_sessions"):
        flow_calendar("2024-01-01", "2024-03-01", rebalance_sessions=0)
    with pytest.raises(ConfigError, match="start"):
        flow_calendar("2024-13-01", "2024-03-01")
