"""The checks by name, run lazily: each check imports what it needs only when it runs."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from flowpressure._errors import ConfigError
from flowpressure.validate._paths import data_dir
from flowpressure.validate._result import CheckResult

__all__ = ["CHECKS", "run_check", "run_checks"]

#: Check name -> (module, what it checks), in the order of issue 13 and of the table.
_MODULES: dict[str, tuple[str, str]] = {
    "fund-flows": ("_funds", "implied vs reported fund flows (N-PORT)"),
    "etf-flows": ("_etf", "ETF flows two ways (GLD ounces, scraped AUM panel)"),
    "pension-month-end": ("_pension", "month-end rebalancing pressure on SPX"),
    "cta": ("_cta", "the trend model against the SG CTA and EDHEC CTA indices"),
    "vol-target": ("_vol", "volatility management on the Fama-French market"),
    "index-inclusion": ("_index", "S&P 500 additions: run-up, reversal, volume"),
    "dealer-gamma": ("_gamma", "dealer gamma regime and next-day SPX moves"),
}

#: The check names, in table order, with a one-line description each.
CHECKS: dict[str, str] = {name: about for name, (_, about) in _MODULES.items()}


def run_check(name: str, root: str | Path | None = None) -> CheckResult:
    """Run one check on the files under ``root`` (default: see :func:`data_dir`).

    Raises
    ------
    ConfigError
        An unknown check name, a missing data directory or a missing file.
    """
    if name not in _MODULES:
        raise ConfigError(field="check", expected="one of " + ", ".join(_MODULES), got=name)
    module = importlib.import_module(f"flowpressure.validate.{_MODULES[name][0]}")
    result: CheckResult = module.run(data_dir(root))
    return result


def run_checks(
    names: Sequence[str] | None = None, root: str | Path | None = None
) -> tuple[CheckResult, ...]:
    """Run ``names`` (default: every check, in table order) and return their results.

    Unknown names are refused before any check runs.
    """
    chosen = list(names) if names else list(_MODULES)
    for name in chosen:
        if name not in _MODULES:
            raise ConfigError(field="check", expected="one of " + ", ".join(_MODULES), got=name)
    base = data_dir(root)
    return tuple(run_check(name, base) for name in chosen)
