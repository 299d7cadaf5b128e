"""Benchmark: build the embedded sample against reading the same tables back from Parquet.

Run with ``.venv/bin/python -m benchmarks bench_sample``. Prints the warm time of a fresh
build (a new seed, so the cache does not answer) and of ``pyarrow.parquet.read_table`` over
the seven files ``sample.write`` produced, best of 3 each, and their ratio.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from flowpressure.data import sample
from flowpressure.data._sample_gen import build


def _best(fn: object, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> None:
    t0 = time.perf_counter()
    sample.generate()
    first = time.perf_counter() - t0
    seeds = iter(range(1, 100))
    gen = _best(lambda: build(next(seeds)))
    with tempfile.TemporaryDirectory() as tmp:
        paths = sample.write(Path(tmp))
        read = _best(lambda: [pq.read_table(p) for p in paths.values()])
    rows = sum(t.num_rows for t in sample.generate().values())
    print(f"sample: {rows:,} rows in 7 tables")
    print(f"first generate() in this process: {first:.2f} s (includes imports)")
    print(
        f"fresh build, warm: {gen:.3f} s; read from Parquet: {read:.3f} s; ratio {gen / read:.1f}x"
    )


if __name__ == "__main__":
    main()
