"""Benchmark: fund flows on a 10M fund-day panel (4,000 funds x 2,500 days), per backend.

Run with ``.venv/bin/python -m benchmarks bench_flows`` (``--funds/--days`` to resize,
``--huge N`` to also stream N rows stored on disk through the fast path). The panel is
generated in a DuckDB store file in the store's own layout (rows in key order). Each line is
the best of ``--repeat`` warm runs; ratios compare flowpressure with the best hand-written
window code of the same backend, measured in the same run:

- DuckDB: ``tna - lag(tna) OVER (PARTITION BY fund_id ORDER BY date) * (1 + ret)``, selecting
  the key and the flow only, and again keeping every column as flowpressure does;
- polars: ``shift().over("fund_id", order_by="date")``;
- pandas: sort, then ``groupby("fund_id").shift()``;
- NumPy: one pass over columns already sorted by key and date (the floor).

flowpressure computes more than the lag (gap detection, notes, flow_pct), with input
validation switched off on frames (it is measured separately for polars).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_store(path: Path, funds: int, days: int) -> None:
    """Write a fund panel into a store file, in the store's layout and key order."""
    from flowpressure.data import Store, get_schema

    with Store(path) as store:
        store._ensure_table(get_schema("fund"))
        store.con.execute(
            f"""
            INSERT INTO fund (fund_id, date, tna, ret, _ingest_id)
            SELECT 'F' || lpad(f::VARCHAR, 7, '0'),
                   DATE '2000-01-31' + INTERVAL (d) MONTH,
                   1e8 * (1 + (hash(f, d) % 1000) / 1e4),
                   ((hash(d, f) % 2001)::BIGINT - 1000) / 1e5,
                   0
            -- one ordered range: rows come out in (fund, month) order with no sort to spill
            FROM (SELECT i // {days} AS f, i % {days} AS d FROM range({funds * days}) t(i))
            """
        )
        store.con.execute("CHECKPOINT")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--funds", type=int, default=4_000)
    parser.add_argument("--days", type=int, default=2_500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--huge", type=int, default=0, help="rows for the streaming run")
    parser.add_argument(
        "--store-only", action="store_true", help="only DuckDB and the store (large panels)"
    )
    args = parser.parse_args(argv)

    import polars as pl

    from flowpressure.data import Store
    from flowpressure.flows import fund_flows

    rows = args.funds * args.days
    with tempfile.TemporaryDirectory(prefix="bench-flows-") as tmp:
        db = Path(tmp) / "store.duckdb"
        t0 = time.perf_counter()
        make_store(db, args.funds, args.days)
        print(
            f"panel: {rows:,} fund-days ({args.funds:,} funds x {args.days:,} months), "
            f"made in {time.perf_counter() - t0:.1f} s"
        )
        store = Store(db, read_only=True)
        con = store.con
        results: dict[str, float] = {}
        r = args.repeat

        window = (
            "SELECT fund_id, date, tna - lag(tna) OVER (PARTITION BY fund_id ORDER BY date)"
            " * (1 + ret) AS flow FROM fund"
        )
        results["duckdb window query"] = _best(lambda: con.sql(window).to_arrow_table(), r)
        # the same output shape as flowpressure's: every input column kept, plus the flow
        wide = (
            "SELECT *, tna - lag(tna) OVER (PARTITION BY fund_id ORDER BY date)"
            " * (1 + ret) AS flow FROM fund"
        )
        results["duckdb window query, every column"] = _best(
            lambda: con.sql(wide).to_arrow_table(), r
        )
        results["flowpressure, DuckDB relation"] = _best(
            lambda: fund_flows(store.table("fund"), validate_input=False).to_arrow_table(), r
        )
        results["flowpressure, store fast path"] = _best(lambda: fund_flows(store), r)
        if args.store_only:
            _report(results, store_only=True)
            store.close()
            _huge(args, Path(tmp))
            return
        table = con.sql("SELECT fund_id, date, tna, ret FROM fund").to_arrow_table()
        polars_df = pl.from_arrow(table)
        assert isinstance(polars_df, pl.DataFrame)
        pandas_df = table.to_pandas()

        lag = pl.col("tna").shift().over("fund_id", order_by="date")
        results["polars shift().over()"] = _best(
            lambda: polars_df.with_columns(flow=pl.col("tna") - lag * (1 + pl.col("ret"))), r
        )
        results["flowpressure, polars"] = _best(
            lambda: fund_flows(polars_df, validate_input=False), r
        )
        results["flowpressure, polars, validated"] = _best(lambda: fund_flows(polars_df), r)

        def pandas_native() -> Any:
            df = pandas_df.sort_values(["fund_id", "date"])
            return df["tna"] - df.groupby("fund_id")["tna"].shift() * (1 + df["ret"])

        results["pandas sort + groupby().shift()"] = _best(pandas_native, r)
        results["flowpressure, pandas"] = _best(
            lambda: fund_flows(pandas_df, validate_input=False), r
        )
        results["flowpressure, pandas, validated"] = _best(lambda: fund_flows(pandas_df), r)

        codes = np.repeat(np.arange(args.funds), args.days)
        tna = table.column("tna").to_numpy()
        ret = table.column("ret").to_numpy()

        def numpy_pass() -> Any:
            flow = np.empty_like(tna)
            flow[0] = np.nan
            flow[1:] = tna[1:] - tna[:-1] * (1 + ret[1:])
            flow[1:][codes[1:] != codes[:-1]] = np.nan
            return flow

        results["NumPy single pass (sorted arrays)"] = _best(numpy_pass, r)
        _report(results, store_only=False)
        store.close()
        _huge(args, Path(tmp))


def _report(results: dict[str, float], *, store_only: bool) -> None:
    width = max(len(k) for k in results)
    for name, secs in results.items():
        print(f"{name:<{width}}  {secs:8.3f} s")
    print("ratios (same run):")
    pairs = [
        ("flowpressure, store fast path", "duckdb window query"),
        ("flowpressure, DuckDB relation", "duckdb window query"),
        ("flowpressure, DuckDB relation", "duckdb window query, every column"),
    ]
    if not store_only:
        pairs += [
            ("flowpressure, polars", "polars shift().over()"),
            ("flowpressure, polars, validated", "polars shift().over()"),
            ("flowpressure, pandas", "pandas sort + groupby().shift()"),
            ("flowpressure, pandas, validated", "pandas sort + groupby().shift()"),
            ("flowpressure, store fast path", "NumPy single pass (sorted arrays)"),
        ]
    for ours, theirs in pairs:
        print(f"  {ours} / {theirs}: {results[ours] / results[theirs]:.2f}x")
    print(f"peak RSS of this process: {_peak_mib():,.0f} MiB")


def _huge(args: Any, tmp: Path) -> None:
    """Stream fund flows over a panel larger than memory, stored on disk."""
    if not args.huge:
        return
    from flowpressure.data import Store
    from flowpressure.flows._fast import stored_fund_flows

    huge_db = tmp / "huge.duckdb"
    funds = max(1, args.huge // 2_500)
    t0 = time.perf_counter()
    make_store(huge_db, funds, 2_500)
    made = time.perf_counter() - t0
    print(f"huge panel: {funds * 2_500:,} fund-days stored in {made:.0f} s")
    with Store(huge_db, read_only=True, memory_limit="8GB") as big:
        count = [0]

        def sink(batch: Any) -> None:
            count[0] += batch.num_rows

        t0 = time.perf_counter()
        stored_fund_flows(big, sink=sink)
        secs = time.perf_counter() - t0
    print(
        f"streamed fund flows over {count[0]:,} stored rows in {secs:.1f} s, "
        f"peak RSS {_peak_mib():,.0f} MiB"
    )


if __name__ == "__main__":
    main()
