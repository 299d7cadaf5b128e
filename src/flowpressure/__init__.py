"""flowpressure: measure, simulate and explain rules-based capital flows and their price pressure.

The package is layered; imports point downward only::

    interfaces   flowpressure.cli · flowpressure.service · flowpressure.report
    validation   flowpressure.validate  (each model checked against real outcomes)
    pressure     flowpressure.pressure
    mechanics    flowpressure.mechanics
    flows        flowpressure.flows
    data         flowpressure.data      (schemas, validation, DuckDB store, loaders, sample)

Importing ``flowpressure`` itself is cheap: it exposes the version and the error tree.
"""

from __future__ import annotations

from flowpressure._errors import (
    ConfigError,
    DataError,
    FlowPressureError,
    OverlapError,
    SchemaError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "FlowPressureError",
    "OverlapError",
    "SchemaError",
    "StoreError",
    "__version__",
]
