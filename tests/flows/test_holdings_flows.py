"""Holdings flows: splits, opens, closes, gaps, every backend; portfolio and aggregate flows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from flowpressure import DataError
from flowpressure.data import sample
from flowpressure.flows import aggregate_flow, holdings_flows, note_counts, portfolio_flows
from tests.flows.frames import collect as collect_sorted

D = dt.date
Q1, Q2, Q3, Q4 = D(2024, 3, 31), D(2024, 6, 30), D(2024, 9, 30), D(2024, 12, 31)


def holdings() -> dict[str, list[Any]]:
    return {
        "investor_id": ["I", "I", "I", "I", "J", "J"],
        "asset_id": ["A", "A", "B", "C", "A", "A"],
        "date": [Q1, Q2, Q1, Q2, Q1, Q3],
        "shares": [10.0, 25.0, 4.0, 7.0, 1.0, 1.0],
    }


def prices() -> dict[str, list[Any]]:
    # quarter ends on weekends are priced at the last session before them
    return {
        "asset_id": ["A", "A", "A", "A", "B", "B", "C", "C"],
        "date": [
            D(2024, 3, 28),
            D(2024, 5, 1),
            D(2024, 6, 28),
            D(2024, 9, 30),
            D(2024, 3, 28),
            D(2024, 6, 28),
            D(2024, 3, 28),
            D(2024, 6, 28),
        ],
        "close": [100.0, 55.0, 60.0, 62.0, 50.0, 55.0, 9.0, 10.0],
        "split_factor": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    }


def collect(native: Any) -> pl.DataFrame:
    return collect_sorted(native, "investor_id", "asset_id", "date")


def test_split_open_close_gap_on_every_backend(make_frame: Any) -> None:
    out = collect(holdings_flows(make_frame(holdings()), make_frame(prices())))
    got = {
        (r["investor_id"], r["asset_id"], r["date"]): (r["flow"], r["flow_note"])
        for r in out.to_dicts()
    }
    assert got[("I", "A", Q2)] == (pytest.approx((25 - 10 * 2) * 60.0), None)  # 2-for-1 split
    assert got[("I", "B", Q2)] == (pytest.approx(-4 * 55.0), "close")
    assert got[("I", "C", Q2)] == (pytest.approx(7 * 10.0), "open")
    assert got[("I", "A", Q1)] == (None, "birth")
    assert got[("J", "A", Q3)] == (None, "gap")  # J skipped Q2: not bridged
    assert out.height == 7  # six rows held plus one close


def test_flow_is_value_change_less_return_effect() -> None:
    out = holdings_flows(pl.DataFrame(holdings()), pl.DataFrame(prices()))
    row = out.filter(
        (pl.col("asset_id") == "A") & (pl.col("date") == Q2) & (pl.col("investor_id") == "I")
    )
    r = 60.0 * 2 / 100.0 - 1  # split-adjusted price return
    assert row["flow"][0] == pytest.approx(row["value"][0] - row["value_prev"][0] * (1 + r))


def test_missing_price_is_counted_not_dropped() -> None:
    px = pl.DataFrame(prices()).filter(pl.col("asset_id") != "C")
    out = holdings_flows(pl.DataFrame(holdings()), px)
    assert note_counts(out)["no_price"] == 1
    assert out.height == 7


def test_bad_split_factor() -> None:
    px = pl.DataFrame({**prices(), "split_factor": [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    with pytest.raises(DataError, match="field 'split_factor' at asset_id=A, date=2024-05-01"):
        holdings_flows(pl.DataFrame(holdings()), px)


def test_13f_option_lines_are_kept_apart() -> None:
    h = {**holdings(), "put_call": ["", "", "", "", "", "PUT"]}
    h["date"][5] = Q2
    out = holdings_flows(pl.DataFrame(h), pl.DataFrame(prices()))
    assert note_counts(out)["not_shares"] == 1


def test_sample_split_and_portfolio_flows() -> None:
    out = holdings_flows(sample.load("holdings"), sample.load("prices"))
    assert note_counts(out) == {"birth": out.filter(pl.col("flow_note") == "birth").height}
    (asset, day, factor), *_ = sample.SPLITS
    assert factor == 2.0
    s07 = out.filter((pl.col("asset_id") == asset) & pl.col("flow").is_not_null())
    # across the split the share counts double but flows stay ordinary
    around = s07.filter(
        pl.col("date").is_between(day - dt.timedelta(days=100), day + dt.timedelta(days=100))
    )
    assert (around["flow"].abs() < around["value"] * 0.5).all()
    groups = pl.DataFrame(
        {
            "asset_id": [f"S{i:02d}" for i in range(1, 51)],
            "group": ["low" if i <= 25 else "high" for i in range(1, 51)],
        }
    )
    port = portfolio_flows(out, groups)
    total = port.group_by("investor_id", "date").agg(pl.col("flow").sum())
    direct = out.group_by("investor_id", "date").agg(pl.col("flow").sum())
    both = total.join(direct, on=["investor_id", "date"], suffix="_d")
    assert ((both["flow"] - both["flow_d"]).abs() < 1e-3).all()


def test_aggregate_flow_worked_example_and_check() -> None:
    d = D(2024, 3, 31)
    df = pl.DataFrame(
        {
            "investor_id": ["hh", "pf", "mf"],
            "date": [d] * 3,
            "flow": [-10.0, 6.0, 4.0],
            "wealth": [1000.0, 200.0, 100.0],
            "equity": [300.0, 100.0, 100.0],
        }
    )
    out = aggregate_flow(df)
    f_s = 0.6 * -10 / 1000 + 0.2 * 6 / 200 + 0.2 * 4 / 100
    assert out["f_S"][0] == pytest.approx(f_s)
    assert out["closed"][0]
    open_panel = aggregate_flow(df.head(2))
    assert not open_panel["closed"][0]
    assert open_panel["net_dollar_flow"][0] == -4.0
