"""Flows layer: fund, ETF, holdings and aggregate flows, measured on any frame backend.

Flow = change in holdings − return effect. Every function takes a long panel in any frame
narwhals accepts (pandas, polars, DuckDB, PySpark) and returns the same kind of frame with the
flow columns added; rows that cannot have a flow keep a null flow and say why in
``flow_note`` (count them with :func:`note_counts`).
"""

from __future__ import annotations

from flowpressure.flows._aggregate import aggregate_flow
from flowpressure.flows._analytics import (
    cumulative_flows,
    flow_lead_lag,
    flow_streaks,
    flow_totals,
    flow_zscores,
)
from flowpressure.flows._common import NOTES, FreqInference, infer_freq, note_counts
from flowpressure.flows._etf import etf_flows
from flowpressure.flows._fund import fund_flows
from flowpressure.flows._holdings import holdings_flows, portfolio_flows
from flowpressure.flows._reported import REPORTED_NOTES, reported_flows

__all__ = [
    "FreqInference",
    "NOTES",
    "REPORTED_NOTES",
    "aggregate_flow",
    "cumulative_flows",
    "etf_flows",
    "flow_lead_lag",
    "flow_streaks",
    "flow_totals",
    "flow_zscores",
    "fund_flows",
    "holdings_flows",
    "infer_freq",
    "note_counts",
    "portfolio_flows",
    "reported_flows",
]
