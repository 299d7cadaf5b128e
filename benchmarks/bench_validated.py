"""Benchmark: validated frame input against the backend's own idiomatic code, time and memory.

Run with ``.venv/bin/python -m benchmarks bench_validated`` (``--rows`` to resize,
``--repeat`` runs per approach, ``--cases`` a comma list, ``--huge N`` to also run the polars
and DuckDB fund cases on N rows). Each approach runs in a fresh process on the same panel, read
from one parquet file: one warm-up call (JIT compiles, calendars load), then ``--repeat`` timed
calls, reported as median, min and max. The process's peak resident memory is reset after the
panel is loaded (``/proc/self/clear_refs``), so *peak* is the most the call needed at once with
the panel held, the same basis for both sides. Ratios are ours / theirs, medians and peaks.

flowpressure's side is the default call a user makes, validation on: keys unique, dates valid,
numbers finite, percent returns refused. The plain side computes only the lag:

- fund flows: ``tna - lag(tna) * (1 + ret)`` per fund, by date;
- ETF flows: ``(shares - lag(shares)) * nav`` per fund, by date;
- holdings flows: ``(shares - lag(shares)) * close`` per (investor, asset), prices joined;
- rebalance / pension input: the long prices panel pivoted to a date x asset matrix.

flowpressure computes more on every row (gaps, notes, flow_pct, the AUM cross-check for ETFs,
closes and splits for holdings), so a ratio above 1 is the price of those plus validation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CASES = (
    "fund-polars",
    "fund-pandas",
    "fund-duckdb",
    "etf-polars",
    "etf-pandas",
    "holdings-polars",
    "prices-polars",
)


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    # not Linux, or not allowed: the peak then includes loading
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def make_panels(tmp: Path, rows: int, cases: list[str]) -> dict[str, Path]:
    """Write each panel the cases need to a parquet file, rows in key order."""
    import datetime as dt

    import duckdb
    import polars as pl

    from flowpressure.data._calendar import sessions

    files: dict[str, Path] = {}
    con = duckdb.connect()
    kinds = {c.split("-")[0] for c in cases}
    if "fund" in kinds:
        months = 250
        funds = max(1, rows // months)
        files["fund"] = tmp / "fund.parquet"
        con.execute(
            f"""
            COPY (
              SELECT 'F' || lpad(f::VARCHAR, 7, '0') AS fund_id,
                     (DATE '2000-01-31' + INTERVAL (d) MONTH)::DATE AS date,
                     1e8 * (1 + (hash(f, d) % 1000) / 1e4) AS tna,
                     ((hash(d, f) % 2001)::BIGINT - 1000) / 1e5 AS ret
              FROM (SELECT i // {months} AS f, i % {months} AS d FROM range({funds * months}) t(i))
            ) TO '{files["fund"]}' (FORMAT parquet)
            """
        )
    if "etf" in kinds:
        days = sessions(dt.date(2005, 1, 3), dt.date(2025, 12, 31)).astype("datetime64[D]")
        days = days[:2_500]
        etfs = max(1, rows // len(days))
        rng = np.random.default_rng(7)
        n = etfs * len(days)
        moves = (rng.integers(-1, 2, n) * (rng.random(n) < 0.2)).reshape(etfs, -1)
        pl.DataFrame(
            {
                "fund_id": np.repeat([f"E{i:06d}" for i in range(etfs)], len(days)),
                "date": np.tile(days, etfs),
                # creations in 50,000-share units, most days none
                "shares_outstanding": (1e7 + 5e4 * np.cumsum(moves, axis=1)).ravel(),
                "nav": (
                    50 * np.exp(np.cumsum(rng.normal(0, 0.01, (etfs, len(days))), axis=1))
                ).ravel(),
            }
        ).with_columns(pl.col("date").cast(pl.Date)).write_parquet(tmp / "etf.parquet")
        files["etf"] = tmp / "etf.parquet"
    if "holdings" in kinds:
        ends = [
            sessions(dt.date(y, m, 1), dt.date(y, m, 28) + dt.timedelta(days=4))[-1]
            for y in range(2000, 2013)
            for m in (3, 6, 9, 12)
        ][:50]
        quarters = np.array(ends, dtype="datetime64[D]")
        assets = 100
        investors = max(1, rows // (assets * len(quarters)))
        rng = np.random.default_rng(11)
        n = investors * assets * len(quarters)
        pl.DataFrame(
            {
                "investor_id": np.repeat(
                    [f"I{i:06d}" for i in range(investors)], assets * len(quarters)
                ),
                "asset_id": np.tile(
                    np.repeat([f"A{a:04d}" for a in range(assets)], len(quarters)), investors
                ),
                "date": np.tile(quarters, investors * assets),
                "shares": rng.integers(1, 100, n) * 100.0,
            }
        ).with_columns(pl.col("date").cast(pl.Date)).write_parquet(tmp / "holdings.parquet")
        pl.DataFrame(
            {
                "asset_id": np.repeat([f"A{a:04d}" for a in range(assets)], len(quarters)),
                "date": np.tile(quarters, assets),
                "close": rng.uniform(10, 300, assets * len(quarters)),
            }
        ).with_columns(pl.col("date").cast(pl.Date)).write_parquet(tmp / "prices_q.parquet")
        files["holdings"] = tmp / "holdings.parquet"
    if "prices" in kinds:
        days = sessions(dt.date(2005, 1, 3), dt.date(2025, 12, 31)).astype("datetime64[D]")
        days = days[:2_500]
        assets = max(1, rows // len(days))
        rng = np.random.default_rng(3)
        pl.DataFrame(
            {
                "asset_id": np.repeat([f"A{a:05d}" for a in range(assets)], len(days)),
                "date": np.tile(days, assets),
                "close": (
                    100 * np.exp(np.cumsum(rng.normal(0, 0.01, (assets, len(days))), axis=1))
                ).ravel(),
            }
        ).with_columns(pl.col("date").cast(pl.Date)).write_parquet(tmp / "prices.parquet")
        files["prices"] = tmp / "prices.parquet"
    con.close()
    return files


def _approach(case: str, side: str, path: Path) -> Callable[[], Any]:
    """Load the panel and return the call to time (in the child process)."""
    import polars as pl

    kind, backend = case.split("-")
    if backend == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute(f"CREATE TABLE fund AS SELECT * FROM read_parquet('{path}')")
        if side == "plain":
            sql = (
                "SELECT *, tna - lag(tna) OVER (PARTITION BY fund_id ORDER BY date)"
                " * (1 + ret) AS flow FROM fund"
            )
            return lambda: con.sql(sql).to_arrow_table()
        from flowpressure.flows import fund_flows

        return lambda: fund_flows(con.table("fund")).to_arrow_table()
    df = pl.read_parquet(path)
    if kind == "holdings":
        prices = pl.read_parquet(path.with_name("prices_q.parquet"))
        if side == "plain":
            by = ["investor_id", "asset_id"]

            def plain_holdings() -> Any:
                j = df.join(prices, on=["asset_id", "date"], how="left")
                lag = pl.col("shares").shift().over(by, order_by="date")
                return j.with_columns(flow=(pl.col("shares") - lag) * pl.col("close"))

            return plain_holdings
        from flowpressure.flows import holdings_flows

        return lambda: holdings_flows(df, prices)
    if kind == "prices":
        if side == "plain":
            return lambda: df.pivot(on="asset_id", index="date", values="close").sort("date")
        from flowpressure.mechanics._rebalance_data import PriceArrays

        return lambda: PriceArrays.from_frame(df)
    level, step = ("tna", "ret") if kind == "fund" else ("shares_outstanding", "nav")
    if backend == "pandas":
        pdf = df.to_pandas()
        if side == "plain":

            def plain_pandas() -> Any:
                s = pdf.sort_values(["fund_id", "date"])
                prev = s.groupby("fund_id")[level].shift()
                if kind == "fund":
                    return s.assign(flow=s["tna"] - prev * (1 + s["ret"]))
                return s.assign(flow=(s[level] - prev) * s["nav"])

            return plain_pandas
        df = pdf
    elif side == "plain":
        lag = pl.col(level).shift().over("fund_id", order_by="date")
        if kind == "fund":
            flow = pl.col("tna") - lag * (1 + pl.col("ret"))
        else:
            flow = (pl.col(level) - lag) * pl.col(step)
        return lambda: df.with_columns(flow=flow)
    from flowpressure.flows import etf_flows, fund_flows

    frame = df
    return (lambda: fund_flows(frame)) if kind == "fund" else (lambda: etf_flows(frame))


def _child(case: str, side: str, path: str, repeat: int) -> None:
    call = _approach(case, side, Path(path))
    call()  # warm-up: JIT, calendars, caches
    _reset_peak()
    base = _status_mib("VmRSS")
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"times": times, "base": base, "peak": _status_mib("VmHWM")}))


def _run(case: str, side: str, path: Path, repeat: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.bench_validated"),
            *("--child", case, side, str(path), "--repeat", str(repeat)),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{case} ({side}) failed:\n{out.stderr.strip().splitlines()[-1]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _line(name: str, r: dict[str, Any]) -> str:
    t = r["times"]
    return (
        f"  {name:<34} median {statistics.median(t):7.3f} s  min {min(t):7.3f}  max {max(t):7.3f}"
        f"  peak {r['peak']:8,.0f} MiB (panel held: {r['base']:,.0f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--huge", type=int, default=0, help="rows for polars/DuckDB fund runs")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "SIDE", "FILE"))
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child, repeat=args.repeat)
        return
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}; cases are {', '.join(CASES)}")
    sizes = [(args.rows, cases)]
    if args.huge:
        sizes.append((args.huge, [c for c in ("fund-polars", "fund-duckdb") if c in cases]))
    for rows, wanted in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-validated-") as tmp:
            t0 = time.perf_counter()
            files = make_panels(Path(tmp), rows, wanted)
            print(f"panels of ~{rows:,} rows written in {time.perf_counter() - t0:.0f} s")
            for case in wanted:
                path = files[case.split("-")[0]]
                plain = _run(case, "plain", path, args.repeat)
                ours = _run(case, "ours", path, args.repeat)
                ratio = statistics.median(ours["times"]) / statistics.median(plain["times"])
                extra = (ours["peak"] - ours["base"]) / max(plain["peak"] - plain["base"], 1.0)
                print(
                    f"{case} ({rows:,} rows): time {ratio:.2f}x, "
                    f"peak RSS {ours['peak'] / plain['peak']:.2f}x the plain backend "
                    f"(memory above the panel held: {extra:.2f}x)"
                )
                print(_line("plain " + case.split("-")[1], plain))
                print(_line("flowpressure, validated", ours))


if __name__ == "__main__":
    main()
