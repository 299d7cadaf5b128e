"""Run every benchmark in turn (``python -m benchmarks [NAME ...] [OPTIONS]``).

Options after the names go to each benchmark named, e.g.
``python -m benchmarks bench_flows --funds 40000 --store-only``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    args = sys.argv[1:]
    first_option = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    wanted, options = set(args[:first_option]), args[first_option:]
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_") or (wanted and info.name not in wanted):
            continue
        print(f"== {info.name}", flush=True)
        module = importlib.import_module(f"benchmarks.{info.name}")
        module.main(options)


if __name__ == "__main__":
    main()
