"""Fund flows: identities, the DESIGN example, births, gaps, mergers, every backend, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowpressure import ConfigError, DataError, SchemaError
from flowpressure.data import sample
from flowpressure.flows import fund_flows, infer_freq, note_counts
from tests.flows.frames import collect

D = dt.date
#: Every backend but Spark (slow to start), whose path test_so_lag_counts_sessions_not_rows runs.
LOCAL_BACKENDS = pytest.mark.parametrize(
    "make_frame", ["pandas", "polars", "polars_lazy", "duckdb"], indirect=True
)
MONTHS = [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30), D(2024, 5, 31)]


def rows() -> dict[str, list[Any]]:
    return {
        "fund_id": ["A", "A", "A", "B", "B", "B"],
        "date": [MONTHS[0], MONTHS[1], MONTHS[2], MONTHS[0], MONTHS[1], MONTHS[3]],
        "tna": [500e6, 503e6, 490e6, 10e6, 12e6, 11e6],
        "ret": [0.0, 0.002, -0.01, 0.0, 0.05, 0.01],
    }


def test_design_example_and_notes_on_every_backend(make_frame: Any) -> None:
    out = collect(fund_flows(make_frame(rows())))
    assert out["flow"][1] == pytest.approx(2e6)  # 503m - 500m x 1.002
    assert out["flow_pct"][1] == pytest.approx(0.004)
    assert out["flow"][2] == pytest.approx(490e6 - 503e6 * 0.99)
    assert out["flow_note"].to_list() == ["birth", None, None, "birth", None, "gap"]
    assert out["flow"].is_null().to_list() == [True, False, False, True, False, True]
    assert list(out.columns[:4]) == ["fund_id", "date", "tna", "ret"]


def test_start_timing_identity(make_frame: Any) -> None:
    out = collect(fund_flows(make_frame(rows()), timing="start")).filter(
        pl.col("flow").is_not_null()
    )
    prev = {("A", MONTHS[1]): 500e6, ("A", MONTHS[2]): 503e6, ("B", MONTHS[1]): 10e6}
    for fund, date, tna, ret, flow in out.select("fund_id", "date", "tna", "ret", "flow").rows():
        assert (prev[(fund, date)] + flow) * (1 + ret) == pytest.approx(tna, rel=1e-12)


def test_ret_total_is_preferred() -> None:
    df = pl.DataFrame({**rows(), "ret_total": [0.0, 0.004, -0.01, 0.0, 0.05, 0.01]})
    out = fund_flows(df).sort("fund_id", "date")
    assert out["flow"][1] == pytest.approx(503e6 - 500e6 * 1.004)


def test_sample_recovers_the_generators_flows() -> None:
    mergers = pl.DataFrame(
        [{"target_id": t, "acquirer_id": a, "date": d} for t, a, d in sample.MERGERS]
    )
    out = fund_flows(sample.load("fund"), mergers=mergers)
    truth = pl.from_arrow(sample.true_flows())
    assert isinstance(truth, pl.DataFrame)
    joined = out.join(
        truth.rename({"flow": "true", "flow_pct": "true_pct"}), on=["fund_id", "date"]
    )
    measured = joined.filter(pl.col("flow").is_not_null())
    assert measured.height == joined.height - 1  # only the gap row has no flow
    err = (measured["flow"] - measured["true"]).abs() / measured["tna"]
    assert float(err.max()) < 1e-12
    assert note_counts(out) == {"birth": 100, "gap": 1, "merger": 1}
    gap = out.filter(pl.col("flow_note") == "gap")
    ((fund, missing),) = sample.GAPS
    assert gap["fund_id"].to_list() == [fund]
    assert gap["date"][0] > missing


def test_merger_removes_absorbed_assets(make_frame: Any) -> None:
    data = {
        "fund_id": ["T", "T", "Q", "Q", "Q"],
        "date": [MONTHS[0], MONTHS[1], MONTHS[0], MONTHS[1], MONTHS[2]],
        "tna": [40.0, 42.0, 100.0, 101.0, 101.0 * 1.01 + 42.0 * 1.01 + 3.0],
        "ret": [0.0, 0.05, 0.0, 0.01, 0.01],
    }
    mergers = pl.DataFrame({"target_id": ["T"], "acquirer_id": ["Q"], "date": [MONTHS[2]]})
    out = collect(fund_flows(make_frame(data), mergers=mergers))
    row = out.filter((pl.col("fund_id") == "Q") & (pl.col("date") == MONTHS[2]))
    assert row["flow"][0] == pytest.approx(3.0)
    assert row["flow_note"][0] == "merger"
    # the target's end is neither a gap nor an outflow
    assert out.filter(pl.col("fund_id") == "T")["flow_note"].to_list() == ["birth", None]


def test_bad_mergers() -> None:
    df = pl.DataFrame(rows())
    nobody = pl.DataFrame({"target_id": ["B"], "acquirer_id": ["Z"], "date": [MONTHS[2]]})
    with pytest.raises(DataError, match="acquirer row on the merger date"):
        fund_flows(df, mergers=nobody)
    early = pl.DataFrame({"target_id": ["B"], "acquirer_id": ["A"], "date": [MONTHS[0]]})
    with pytest.raises(DataError, match="target row before the merger date"):
        fund_flows(df, mergers=early)
    stale = pl.DataFrame({"target_id": ["B"], "acquirer_id": ["A"], "date": [MONTHS[3]]})
    with pytest.raises(DataError, match="period before the merger date"):
        fund_flows(df, mergers=stale)
    with pytest.raises(SchemaError, match="'acquirer_id'"):
        fund_flows(df, mergers=pl.DataFrame({"target_id": ["B"], "date": [MONTHS[1]]}))


@pytest.mark.parametrize(
    ("spoil", "error", "fragment"),
    [
        (lambda r: r.pop("tna"), SchemaError, "missing column 'tna'"),
        (lambda r: r.pop("ret"), SchemaError, "needs one of the columns ret or ret_total"),
        (
            lambda r: r["tna"].__setitem__(1, 0.0),
            DataError,
            "field 'tna' at fund_id=A, date=2024-02-29",
        ),
        (
            lambda r: r["ret"].__setitem__(2, float("nan")),
            DataError,
            "field 'ret' at fund_id=A, date=2024-03-31",
        ),
        (lambda r: r["date"].__setitem__(1, MONTHS[0]), DataError, "expected one row per key"),
        (lambda r: r["ret"].__setitem__(4, -1.0), DataError, "a simple return > -1"),
    ],
    ids=[
        "missing tna",
        "missing return",
        "zero TNA",
        "NaN return",
        "duplicate key",
        "return -100 %",
    ],
)
def test_bad_input(spoil: Any, error: type[Exception], fragment: str) -> None:
    data = rows()
    spoil(data)
    with pytest.raises(error, match=fragment):
        fund_flows(pl.DataFrame(data))


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="timing"):
        fund_flows(pl.DataFrame(rows()), timing="middle")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="freq"):
        fund_flows(pl.DataFrame(rows()), freq="H")  # type: ignore[arg-type]


def test_quarterly_and_daily_gaps() -> None:
    q = pl.DataFrame(
        {
            "fund_id": ["A"] * 3,
            "date": [D(2024, 3, 31), D(2024, 6, 30), D(2024, 12, 31)],
            "tna": [1.0, 1.0, 1.0],
            "ret": [0.0, 0.0, 0.0],
        }
    )
    assert fund_flows(q, freq="Q")["flow_note"].to_list() == ["birth", None, "gap"]
    d = pl.DataFrame(
        {
            "fund_id": ["A"] * 3,
            "date": [D(2024, 3, 27), D(2024, 4, 1), D(2024, 4, 3)],
            "tna": [1.0, 1.0, 1.0],
            "ret": [0.0, 0.0, 0.0],
        }
    )
    # 2024-03-28 and 2024-04-02 are missing; Good Friday 2024-03-29 is not a session
    assert fund_flows(d, freq="D")["flow_note"].to_list() == ["birth", "gap", "gap"]


@st.composite
def panels(draw: st.DrawFn) -> pl.DataFrame:
    n_funds = draw(st.integers(1, 4))
    out = []
    for f in range(n_funds):
        start = draw(st.integers(0, 5))
        length = draw(st.integers(1, 8))
        tna = draw(st.floats(1e3, 1e9))
        for i in range(length):
            if i and draw(st.booleans()) and draw(st.booleans()):
                continue  # a gap
            ret = draw(st.floats(-0.5, 0.5))
            tna = max(1.0, tna * (1 + ret) + draw(st.floats(-1e6, 1e6)))
            m = start + i
            out.append(
                {
                    "fund_id": f"F{f}",
                    "date": D(2020 + m // 12, m % 12 + 1, 1),
                    "tna": tna,
                    "ret": ret,
                }
            )
    frame = pl.DataFrame(out)
    return frame.sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 99)))


@settings(max_examples=60, deadline=None)
@given(panels())
def test_identity_and_order_independence(panel: pl.DataFrame) -> None:
    out = fund_flows(panel, freq="M").sort("fund_id", "date")
    again = fund_flows(panel.reverse(), freq="M").sort("fund_id", "date")
    assert out.equals(again)
    prev = out.with_columns(
        p=pl.col("tna").shift(1).over("fund_id"), pd=pl.col("date").shift(1).over("fund_id")
    )
    ok = prev.filter(pl.col("flow").is_not_null())
    if ok.height:
        lhs = ok["p"] * (1 + ok["ret"]) + ok["flow"]
        assert ((lhs - ok["tna"]).abs() <= 1e-9 * float(ok["tna"].abs().max())).all()
    counts = note_counts(out)
    assert counts.get("birth", 0) == panel["fund_id"].n_unique()
    assert out["flow"].null_count() == sum(counts.values())


WEEKS = [D(2024, 1, 3), D(2024, 1, 10), D(2024, 1, 17), D(2024, 1, 31)]  # Wednesdays, 01-24 gone


@LOCAL_BACKENDS
def test_weekly_panel_is_inferred_and_its_gap_found_on_every_backend(make_frame: Any) -> None:
    data = {
        "fund_id": ["W"] * 4,
        "date": WEEKS,
        "tna": [100.0, 101.0, 103.0, 104.0],
        "ret": [0.0, 0.01, 0.0, 0.0],
    }
    assert infer_freq(make_frame(data)).freq == "W"
    out = collect(fund_flows(make_frame(data)))
    assert out["flow_note"].to_list() == ["birth", None, None, "gap"]
    assert out["flow"].to_list()[1:3] == [pytest.approx(0.0), pytest.approx(2.0)]
    stated = collect(fund_flows(make_frame(data), freq="W"))
    assert stated["flow_note"].to_list() == ["birth", None, None, "gap"]


@LOCAL_BACKENDS
def test_stated_freq_with_two_rows_in_one_period_is_refused_on_every_backend(
    make_frame: Any,
) -> None:
    """Issue 12.3: a stated period that holds two rows of one fund is an error, not a bridge."""
    data = rows()
    data["date"] = [MONTHS[0], MONTHS[1], MONTHS[2], MONTHS[0], MONTHS[1], D(2024, 2, 15)]
    with pytest.raises(DataError) as err:
        fund_flows(make_frame(data), freq="M")
    # fund B, both dates in date order, the frequency
    assert "at fund_id=B: two rows in one month (freq 'M'): 2024-02-15 and 2024-02-29" in str(
        err.value
    )
    with pytest.raises(DataError, match="two rows in one quarter"):
        fund_flows(make_frame(rows()), freq="Q")


def test_inference_refuses_mixed_or_sparse_spacing() -> None:
    daily = {"fund_id": ["A"] * 3, "date": [D(2024, 3, 26), D(2024, 3, 27), D(2024, 3, 28)]}
    monthly = {"fund_id": ["B"] * 3, "date": MONTHS[:3]}
    mixed = pl.DataFrame({k: daily[k] + monthly[k] for k in daily})
    with pytest.raises(DataError, match=r"fund_id=A 1 days \(daily.*fund_id=B 29 days"):
        infer_freq(mixed)
    sparse = pl.DataFrame({"fund_id": ["A", "A"], "date": [MONTHS[0], MONTHS[2]]})
    with pytest.raises(DataError, match="no fund_id has two rows one period apart"):
        fund_flows(sparse.with_columns(tna=pl.lit(1.0), ret=pl.lit(0.0)))
    lone = pl.DataFrame({"fund_id": ["A", "B"], "date": [MONTHS[0], MONTHS[2]]})
    got = infer_freq(lone)
    assert (got.freq, got.inferred) == ("M", True)
    assert "every row is a birth" in got.reason
    # a monthly fund and a sparse one (rows two months apart: no vote) agree: monthly
    both = pl.DataFrame(
        {"fund_id": ["B"] * 3 + ["C"] * 2, "date": [*MONTHS[:3], MONTHS[0], MONTHS[2]]}
    )
    assert infer_freq(both).freq == "M"
    # but a fund three months apart looks quarterly: two readings, refused
    odd = pl.DataFrame(
        {"fund_id": ["B"] * 3 + ["C"] * 2, "date": [*MONTHS[:3], MONTHS[0], MONTHS[3]]}
    )
    with pytest.raises(DataError, match=r"fund_id=C 90 days \(quarterly"):
        infer_freq(odd)
