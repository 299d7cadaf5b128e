"""Helpers shared by the pressure modules: frames to polars, dates and checked numbers."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from flowpressure._errors import ConfigError, SchemaError
from flowpressure.data._dates import as_date as read_date
from flowpressure.data._frames import to_polars

__all__ = ["as_date", "check_finite", "check_positive", "require", "to_polars"]


def require(frame: pl.DataFrame, what: str, *names: str) -> None:
    """Raise SchemaError naming the first of ``names`` that ``frame`` lacks."""
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: missing column {missing[0]!r}; frame has {frame.columns}",
            field=missing[0],
            expected=", ".join(names),
        )


def as_date(value: dt.date | str | None, field: str) -> dt.date | None:
    """Read an ISO date (or pass a date through); ``None`` stays ``None``."""
    return None if value is None else read_date(value, field)


def check_finite(value: float, field: str) -> float:
    """Return ``value`` as a float, or raise ConfigError naming ``field`` if not finite."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigError(field=field, expected="a number", got=value) from None
    if not math.isfinite(out):
        raise ConfigError(field=field, expected="a finite number", got=value)
    return out


def check_positive(value: float, field: str, what: str = "a number > 0") -> float:
    """Return ``value`` as a float, or raise ConfigError naming ``field`` unless finite and > 0."""
    out = check_finite(value, field)
    if out <= 0:
        raise ConfigError(field=field, expected=what, got=value)
    return out
