"""Benchmark: ingest a prices CSV larger than the memory DuckDB may use.

Run with ``.venv/bin/python -m benchmarks bench_ingest`` (``--rows`` to resize). A child
process writes a long prices CSV (asset_id, date, close, volume on XNYS sessions) with DuckDB
``COPY``; then, each in a fresh process so peak RSS is its own:

- ``Store.ingest`` with DuckDB capped at ``--memory-limit`` (default 1 GB), i.e. scan as text,
  validate in DuckDB, check overlaps, insert ordered, record provenance, one transaction;
- the floor: DuckDB ``CREATE TABLE AS SELECT * FROM read_csv(...)`` into a new file, same
  memory cap, type sniffing only and no validation, no key order, no provenance;
- the everyday alternative: ``pandas.read_csv`` of the same file (the whole file in Python),
  with no validation at all.

It prints rows, file size, seconds and peak RSS for both, and the ratios.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path
from typing import Any


def _generate(path: str, rows: int) -> None:
    import datetime as dt

    import duckdb

    from flowpressure.data import sessions

    days = sessions(dt.date(1990, 1, 2), dt.date(2024, 12, 31))
    n_days = len(days)
    n_assets = max(1, rows // n_days)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE TABLE d AS SELECT unnest($1::DATE[]) AS date", [[str(d) for d in days]])
    con.execute(
        f"""
        COPY (
            SELECT 'A' || lpad(a::VARCHAR, 6, '0') AS asset_id, d.date,
                   round(10 + (hash(a, d.date) % 100000) / 1000.0, 4) AS close,
                   (hash(d.date, a) % 1000000)::DOUBLE AS volume
            FROM range({n_assets}) t(a), d
            ORDER BY asset_id, date
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )


def _ingest(path: str, db: str, memory_limit: str, out: Any) -> None:
    from flowpressure.data import Store

    t0 = time.perf_counter()
    with Store(db, memory_limit=memory_limit) as store:
        result = store.ingest("prices", path)
    out.put((result.rows, time.perf_counter() - t0, _peak_mib()))


def _duckdb_raw(path: str, db: str, memory_limit: str, out: Any) -> None:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect(db, config={"memory_limit": memory_limit})
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE prices AS SELECT * FROM read_csv('{path}')")
    rows = con.execute("SELECT count(*) FROM prices").fetchall()[0][0]
    con.close()
    out.put((rows, time.perf_counter() - t0, _peak_mib()))


def _pandas(path: str, out: Any) -> None:
    import pandas as pd

    t0 = time.perf_counter()
    frame = pd.read_csv(path)
    out.put((len(frame), time.perf_counter() - t0, _peak_mib()))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(target: Any, *args: Any) -> tuple[int, float, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000_000)
    parser.add_argument("--memory-limit", default="1GB")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        csv = Path(tmp) / "prices.csv"
        t0 = time.perf_counter()
        gen = mp.get_context("spawn").Process(target=_generate, args=(str(csv), args.rows))
        gen.start()
        gen.join()
        size = csv.stat().st_size / 2**30
        print(f"generated {csv.name}: {size:.2f} GiB in {time.perf_counter() - t0:.1f} s")
        rows, secs, peak = _run(_ingest, str(csv), str(Path(tmp) / "s.duckdb"), args.memory_limit)
        print(
            f"Store.ingest (DuckDB memory_limit={args.memory_limit}): {rows:,} rows, "
            f"{secs:.1f} s, peak RSS {peak:,.0f} MiB"
        )
        d_rows, d_secs, d_peak = _run(
            _duckdb_raw, str(csv), str(Path(tmp) / "raw.duckdb"), args.memory_limit
        )
        print(
            f"DuckDB read_csv into a table (no validation): {d_rows:,} rows, {d_secs:.1f} s, "
            f"peak RSS {d_peak:,.0f} MiB"
        )
        p_rows, p_secs, p_peak = _run(_pandas, str(csv))
        print(
            f"pandas.read_csv (no validation): {p_rows:,} rows, {p_secs:.1f} s, "
            f"peak RSS {p_peak:,.0f} MiB"
        )
        print(
            f"ratios ({size:.2f} GiB file): time {secs / d_secs:.2f}x raw DuckDB, "
            f"{secs / p_secs:.2f}x pandas; peak memory {peak / d_peak:.2f}x raw DuckDB, "
            f"{peak / p_peak:.2f}x pandas"
        )


if __name__ == "__main__":
    main()
