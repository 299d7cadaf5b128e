"""Validation: every model checked against what really happened, on real public data.

Each check is a function returning a :class:`CheckResult` (figures, inputs, the reference it is
judged against and a verdict: ``pass``, ``partial`` or ``fail``). The checks read files laid out
as ``../shared/data`` (``--data DIR``); nothing is fetched. ``flowpressure validate`` prints the
table; the report's "Validation" section and the dashboard show the same rows.

========================  ================================================================
check                     what it compares
========================  ================================================================
``fund-flows``            implied flow ``TNA_t − TNA_{t−1}(1+R_t)`` vs N-PORT sales − redemptions
``etf-flows``             GLD ΔSO×NAV vs Δounces×gold; scraped ΔSO×NAV vs ΔAUM − return effect
``pension-month-end``     equity-minus-bond spread vs SPX returns in the last sessions of a month
``cta``                   the trend model on ETF proxies vs SG CTA and EDHEC CTA Global
``vol-target``            volatility-managed market (Moreira–Muir) and the vol-target model
``index-inclusion``       S&P 500 additions: run-up, reversal, volume on the inclusion close
``dealer-gamma``          GEX sign and next-day absolute SPX return
========================  ================================================================
"""

from __future__ import annotations

import importlib
from typing import Any

from flowpressure.validate._paths import FILES, data_dir
from flowpressure.validate._registry import CHECKS, run_check, run_checks
from flowpressure.validate._result import VERDICTS, ChartSeries, ChartSpec, CheckResult

__all__ = [
    "CHECKS",
    "ChartSeries",
    "ChartSpec",
    "CheckResult",
    "FILES",
    "VERDICTS",
    "check_cta",
    "check_dealer_gamma",
    "check_etf_flows",
    "check_fund_flows",
    "check_index_inclusion",
    "check_pension_month_end",
    "check_vol_target",
    "data_dir",
    "run_check",
    "run_checks",
]

#: The check functions, imported on first use (each pulls in the data stack it needs).
_LAZY = {
    "check_cta": "_cta",
    "check_dealer_gamma": "_gamma",
    "check_etf_flows": "_etf",
    "check_fund_flows": "_funds",
    "check_index_inclusion": "_index",
    "check_pension_month_end": "_pension",
    "check_vol_target": "_vol",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"flowpressure.validate.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
