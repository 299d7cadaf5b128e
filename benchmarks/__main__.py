"""Run every benchmark in turn (``python -m benchmarks [NAME ...]``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    wanted = set(sys.argv[1:])
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_") or (wanted and info.name not in wanted):
            continue
        print(f"== {info.name}", flush=True)
        module = importlib.import_module(f"benchmarks.{info.name}")
        module.main([])


if __name__ == "__main__":
    main()
