"""Flows layer: fund, ETF, holdings and aggregate flows, measured on any frame backend.

Flow = change in holdings − return effect. Every function takes a long panel in any frame
narwhals accepts (pandas, polars, DuckDB, PySpark) and returns the same kind of frame with the
flow columns added; rows that cannot have a flow keep a null flow and say why in
``flow_note`` (count them with :func:`note_counts`).
"""

from __future__ import annotations

from flowpressure.flows._common import NOTES, note_counts
from flowpressure.flows._etf import etf_flows
from flowpressure.flows._fund import fund_flows
from flowpressure.flows._holdings import holdings_flows, portfolio_flows

__all__ = [
    "NOTES",
    "etf_flows",
    "fund_flows",
    "holdings_flows",
    "note_counts",
    "portfolio_flows",
]
