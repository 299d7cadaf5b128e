"""Holdings flows: splits, opens, closes, gaps, every backend; portfolio and aggregate flows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from flowpressure import DataError, SchemaError
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


def test_closed_option_line_has_no_share_flow() -> None:
    # I held a call on A at Q1 and none at Q2: the close of an option is not a share sale
    h = {
        "investor_id": ["I", "I", "I"],
        "asset_id": ["A", "A", "A"],
        "date": [Q1, Q1, Q2],
        "shares": [10.0, 5.0, 10.0],
        "put_call": ["", "CALL", ""],
    }
    out = collect(holdings_flows(pl.DataFrame(h), pl.DataFrame(prices())))
    call = out.filter((pl.col("put_call") == "CALL") & (pl.col("date") == Q2))
    assert call.select("shares", "flow", "flow_note").rows() == [(0.0, None, "not_shares")]


def valued() -> dict[str, list[Any]]:
    """13F-like holdings with reported values and no prices panel."""
    return dict(
        {
            "investor_id": ["I", "I", "I", "J", "I", "I", "I", "I"],
            "asset_id": ["A", "A", "B", "B", "C", "C", "D", "D"],
            "date": [Q1, Q2, Q1, Q2, Q1, Q2, Q1, Q2],
            "shares": [10.0, 25.0, 4.0, 2.0, 3.0, 3.0, 6.0, 6.0],
            "value": [1000.0, 1500.0, 200.0, 110.0, 30.0, 0.0, 60.0, 66.0],
            "put_call": ["", "", "", "", "", "", "CALL", "CALL"],
        }
    )


def test_priced_by_reported_values_without_prices(make_frame: Any) -> None:
    if make_frame.backend == "pyspark":  # passes, but a Spark run of it costs minutes
        pytest.skip("the Spark path of holdings_flows is covered by the every-backend test")
    out = collect(holdings_flows(make_frame(valued())))
    got = {(r["investor_id"], r["asset_id"], r["date"]): r for r in out.to_dicts()}
    a = got[("I", "A", Q2)]
    # own implied price 1500 / 25 = 60: flow (25 - 10) x 60, return effect 10 x (60 - 100)
    assert (a["price"], a["flow"], a["value_prev"], a["flow_note"]) == (60.0, 900.0, 1000.0, None)
    assert a["flow"] + 10 * (60.0 - 100.0) == a["value"] - a["value_prev"]
    # I closed B; J holds it at Q2 at 110 / 2 = 55 a share: the close is priced there
    b = got[("I", "B", Q2)]
    assert (b["price"], b["flow"], b["flow_note"]) == (55.0, -220.0, "close")
    assert got[("J", "B", Q2)]["flow_note"] == "birth"
    # a share line worth 0 has no implied price; the option lines have no share flow
    assert (got[("I", "C", Q2)]["flow"], got[("I", "C", Q2)]["flow_note"]) == (None, "no_price")
    assert got[("I", "D", Q2)]["flow_note"] == "not_shares"
    assert note_counts(out) == {"birth": 4, "close": 1, "no_price": 1, "not_shares": 2}


def test_split_seen_in_the_holders_share_counts() -> None:
    # X splits 2-for-1 in Q2: three holders' shares double (one also buys 10), prices halve
    inv = ["I", "J", "K"]
    h = pl.DataFrame(
        {
            "investor_id": inv * 2,
            "asset_id": ["X"] * 6,
            "date": [Q1] * 3 + [Q2] * 3,
            "shares": [100.0, 40.0, 10.0, 200.0, 80.0, 30.0],
            "value": [10_000.0, 4_000.0, 1_000.0, 11_000.0, 4_400.0, 1_650.0],
        }
    )
    out = collect(holdings_flows(h)).filter(pl.col("date") == Q2)
    # median share ratio 2, split-adjusted price ratio 55 x 2 / 100 = 1.1: s = 2
    assert out.select("investor_id", "flow", "flow_note").rows() == [
        ("I", 0.0, "split_inferred"),
        ("J", 0.0, "split_inferred"),
        ("K", 10 * 55.0, "split_inferred"),
    ]
    # two holders are not evidence enough: no split, the doubling shows as buying
    two = collect(holdings_flows(h.filter(pl.col("investor_id") != "K")))
    assert two.filter(pl.col("date") == Q2)["flow"].to_list() == [100 * 55.0, 40 * 55.0]


def test_value_in_the_wrong_units_has_no_flow() -> None:
    # K's Q2 line was multiplied by 1000 ($50,000 a share while I and J report $50)
    h = pl.DataFrame(
        {
            "investor_id": ["I", "J", "K"] * 2,
            "asset_id": ["Y"] * 6,
            "date": [Q1] * 3 + [Q2] * 3,
            "shares": [10.0, 20.0, 30.0, 12.0, 20.0, 30.0],
            "value": [400.0, 800.0, 1200.0, 600.0, 1000.0, 1_500_000.0],
        }
    )
    out = collect(holdings_flows(h)).filter(pl.col("date") == Q2)
    assert out.select("investor_id", "flow", "flow_note").rows() == [
        ("I", 2 * 50.0, None),
        ("J", 0.0, None),
        ("K", None, "price_doubtful"),
    ]


def test_priced_by_values_needs_a_value_column() -> None:
    with pytest.raises(SchemaError, match="value"):
        holdings_flows(pl.DataFrame(holdings()))


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
