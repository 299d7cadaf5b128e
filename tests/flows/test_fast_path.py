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
