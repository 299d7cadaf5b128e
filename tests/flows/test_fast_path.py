"""The stored-panel fast path gives exactly the generic numbers, in or out of key order."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flowpressure.data import Store, sample
from flowpressure.flows import fund_flows, note_counts
from flowpressure.flows._fast import OrderError, fund_flow_batches


def compare(store: Store, **kwargs: object) -> pl.DataFrame:
    fast = fund_flows(store, **kwargs).pl()  # type: ignore[arg-type]
    generic = fund_flows(store.table("fund"), **kwargs).pl()  # type: ignore[arg-type]
    assert fast.columns == generic.columns
    both = fast.join(generic, on=["fund_id", "date"], suffix="_g")
    assert both.height == fast.height == generic.height
    assert (both["flow"].is_null() == both["flow_g"].is_null()).all()
    assert both.select((pl.col("flow") - pl.col("flow_g")).abs().max()).item() < 1e-6
    assert (
        both["flow_note"].cast(pl.String).fill_null("") == both["flow_note_g"].fill_null("")
    ).all()
    return fast


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    tmp = tmp_path_factory.mktemp("fast")
    paths = sample.write(tmp)
    s = Store(tmp / "s.duckdb")
    s.ingest("fund", paths["fund"])
    return s


def test_same_numbers_as_generic(store: Store) -> None:
    fast = compare(store)
    assert note_counts(fast) == {"birth": 100, "gap": 1}
    compare(store, timing="start")
    mergers = store.con.from_arrow(
        pl.DataFrame(
            [{"target_id": t, "acquirer_id": a, "date": d} for t, a, d in sample.MERGERS]
        ).to_arrow()
    )
    merged = compare(store, mergers=mergers)
    assert note_counts(merged)["merger"] == 1


def test_out_of_order_store_falls_back_to_sorted_read(tmp_path: Path) -> None:
    fund = sample.load("fund")
    late, early = tmp_path / "late.parquet", tmp_path / "early.parquet"
    fund.filter(pl.col("fund_id") >= "F050").write_parquet(late)
    fund.filter(pl.col("fund_id") < "F050").write_parquet(early)
    with Store(tmp_path / "s.duckdb") as s:
        s.ingest("fund", late)
        s.ingest("fund", early)  # appended after: the table is out of key order
        reader = s.con.sql("SELECT * FROM fund").to_arrow_reader(1 << 16)
        with pytest.raises(OrderError):
            list(fund_flow_batches(reader))
        reader.close()
        compare(s)


def test_small_batches_carry_state_across_boundaries(store: Store) -> None:
    reader = store.con.sql("SELECT * FROM fund").to_arrow_reader(7)
    import pyarrow as pa

    small = pl.from_arrow(
        pa.Table.from_batches(list(fund_flow_batches(reader, ret_column="ret_total")))
    )
    assert isinstance(small, pl.DataFrame)
    big = fund_flows(store).pl()
    assert small["flow"].equals(big["flow"])


def test_columns_the_store_keeps_empty_come_back_as_nulls(tmp_path: Path) -> None:
    """A file without ret_total, distribution or category leaves them all-null in the store."""
    fund = sample.load("fund").select("fund_id", "date", "tna", "ret")
    path = tmp_path / "thin.parquet"
    fund.write_parquet(path)
    with Store(tmp_path / "s.duckdb") as s:
        s.ingest("fund", path)
        fast = compare(s)
        for name in ("ret_total", "distribution", "category"):
            assert fast[name].null_count() == fast.height
        assert note_counts(fast) == {"birth": 100, "gap": 1}


def test_ret_total_missing_on_some_rows_falls_back_to_ret_on_those_rows(tmp_path: Path) -> None:
    fund = sample.load("fund")
    early = pl.col("date") < pl.date(2005, 1, 1)
    partial = fund.with_columns(ret_total=pl.when(early).then(None).otherwise("ret_total"))
    path = tmp_path / "partial.parquet"
    partial.write_parquet(path)
    with Store(tmp_path / "s.duckdb") as s:
        s.ingest("fund", path)
        fast = compare(s)  # the store's pass and the generic window agree
    eager = fund_flows(partial)
    assert eager.select("fund_id", "date", "flow").equals(
        fund_flows(partial.lazy()).collect().select("fund_id", "date", "flow")
    )
    # rows before 2005 are measured with ret, later rows with ret_total
    by_ret = fund_flows(fund.drop("ret_total"))
    by_total = fund_flows(fund)
    for frame in (fast.sort("fund_id", "date"), eager.sort("fund_id", "date")):
        flow = frame["flow"]
        want = pl.select(
            pl.when(fund.sort("fund_id", "date")["date"] < pl.date(2005, 1, 1))
            .then(by_ret.sort("fund_id", "date")["flow"])
            .otherwise(by_total.sort("fund_id", "date")["flow"])
        ).to_series()
        assert ((flow - want).abs().fill_null(0.0) < 1e-6).all()
        assert (flow.is_null() == want.is_null()).all()
