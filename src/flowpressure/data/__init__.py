"""Data layer: panel schemas, validation, the DuckDB store, loaders and the embedded sample.

Everything else in flowpressure reads panels through this layer: long frames, one row per
(entity, date), money in currency units, rates as fractions (DESIGN.md "Conventions").
"""

from __future__ import annotations

from flowpressure.data._calendar import (
    DEFAULT_CALENDAR,
    exchange_timezone,
    last_sessions,
    non_sessions,
    period_end_sessions,
    sessions,
    shift_sessions,
    third_fridays,
)
from flowpressure.data._loaders import Scan, load_file, scan_file, scan_source
from flowpressure.data._market import adjusted_returns, adv, price_matrix, rolling_adv
from flowpressure.data._reader import StoreReader
from flowpressure.data._schema import KINDS, SCHEMAS, Column, PanelSchema, get_schema
from flowpressure.data._securities import SecurityMaster, cusip_check_digit
from flowpressure.data._store import (
    DB_ENV,
    DEFAULT_DB,
    INGEST_KINDS,
    IngestResult,
    Store,
    default_db_path,
)
from flowpressure.data._validate import validate

__all__ = [
    "Column",
    "DB_ENV",
    "DEFAULT_CALENDAR",
    "DEFAULT_DB",
    "INGEST_KINDS",
    "IngestResult",
    "KINDS",
    "PanelSchema",
    "SCHEMAS",
    "Scan",
    "SecurityMaster",
    "Store",
    "StoreReader",
    "adjusted_returns",
    "adv",
    "cusip_check_digit",
    "default_db_path",
    "exchange_timezone",
    "get_schema",
    "last_sessions",
    "load_file",
    "non_sessions",
    "period_end_sessions",
    "price_matrix",
    "rolling_adv",
    "scan_file",
    "scan_source",
    "sessions",
    "shift_sessions",
    "third_fridays",
    "validate",
]
