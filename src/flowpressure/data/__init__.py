"""Data layer: panel schemas, validation, the DuckDB store, loaders and the embedded sample.

Everything else in flowpressure reads panels through this layer: long frames, one row per
(entity, date), money in currency units, rates as fractions (DESIGN.md "Conventions").
"""

from __future__ import annotations

from flowpressure.data._calendar import DEFAULT_CALENDAR, exchange_timezone, non_sessions, sessions
from flowpressure.data._schema import KINDS, SCHEMAS, Column, PanelSchema, get_schema
from flowpressure.data._validate import validate

__all__ = [
    "DEFAULT_CALENDAR",
    "KINDS",
    "SCHEMAS",
    "Column",
    "PanelSchema",
    "exchange_timezone",
    "get_schema",
    "non_sessions",
    "sessions",
    "validate",
]
