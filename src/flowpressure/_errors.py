"""The error tree of flowpressure.

::

    FlowPressureError (ValueError)
    ├── SchemaError        a column is missing or has the wrong type
    ├── DataError          a value breaks a rule (duplicate key, NaN, negative TNA, holiday, …)
    │   └── OverlapError   a file's keys overlap rows already in the store
    ├── ConfigError        a parameter or option is invalid (unknown kind, calendar, mapping, …)
    └── StoreError         the DuckDB store cannot be opened or written

Every error carries the field, the key of the first offending row (smallest key first, so
the message does not depend on input order), what was expected and how many other rows
share the problem. Library code raises; the CLI turns an error into one line on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "FlowPressureError",
    "OverlapError",
    "SchemaError",
    "StoreError",
]


def _fmt_value(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return repr(value)


def format_key(key: Mapping[str, Any]) -> str:
    """Render a row key as ``fund_id=ABC, date=2024-03-28``.

    Examples
    --------
    >>> import datetime as dt
    >>> format_key({"fund_id": "ABC", "date": dt.date(2024, 3, 28)})
    'fund_id=ABC, date=2024-03-28'
    """
    parts = []
    for name, value in key.items():
        shown = value.isoformat() if hasattr(value, "isoformat") else value
        parts.append(f"{name}={shown}")
    return ", ".join(parts)


class FlowPressureError(ValueError):
    """Base class of every error flowpressure raises on purpose.

    Parameters
    ----------
    message
        The sentence to show. When ``field``/``key``/``expected`` are given and the message is
        empty, the sentence is composed from them.
    field
        The column or option at fault.
    key
        The key of the first offending row, e.g. ``{"fund_id": "ABC", "date": date(2024, 3, 28)}``.
    expected
        What a valid value looks like.
    got
        The offending value, if one was seen.
    others
        How many other rows have the same problem.
    """

    def __init__(
        self,
        message: str = "",
        *,
        field: str | None = None,
        key: Mapping[str, Any] | None = None,
        expected: str | None = None,
        got: Any = None,
        others: int = 0,
    ) -> None:
        self.field = field
        self.key = dict(key) if key is not None else None
        self.expected = expected
        self.got = got
        self.others = others
        self.source: str | None = None
        self.row: int | None = None
        if not message:
            message = self._compose()
        super().__init__(message)

    def in_source(self, source: str, row: int | None = None, *, unit: str = "row") -> None:
        """Say which file (and which of its lines or rows) the error was found in.

        The message gains a prefix, ``spy.csv line 3: …``; ``source`` and ``row`` are kept as
        attributes. An error already placed keeps its place.

        Examples
        --------
        >>> err = DataError(field="date", expected="a real date", got="2024-02-30")
        >>> err.in_source("spy.csv", 3, unit="line")
        >>> str(err)
        "spy.csv line 3: field 'date': expected a real date, got '2024-02-30'"
        """
        if self.source is not None:
            return
        self.source, self.row = source, row
        where = source if row is None else f"{source} {unit} {row}"
        self.args = (f"{where}: {self.args[0] if self.args else ''}", *self.args[1:])

    def _compose(self) -> str:
        parts = []
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        if self.key:
            parts.append(f"at {format_key(self.key)}")
        head = " ".join(parts) if parts else "invalid input"
        body = []
        if self.expected is not None:
            body.append(f"expected {self.expected}")
        if self.got is not None:
            body.append(f"got {_fmt_value(self.got)}")
        text = head + (": " + ", ".join(body) if body else "")
        if self.others:
            plural = "s" if self.others != 1 else ""
            text += f" ({self.others} other row{plural} with the same problem)"
        return text


class SchemaError(FlowPressureError):
    """A required column is missing, unknown, or has a type that cannot be read."""


class DataError(FlowPressureError):
    """A value breaks a rule of its panel: duplicates, non-finite numbers, bad dates, signs."""


class OverlapError(DataError):
    """Rows of a new file have keys already stored from another file (use ``replace=True``)."""


class ConfigError(FlowPressureError):
    """An option or parameter is invalid: unknown kind, calendar, column mapping, path."""


class StoreError(FlowPressureError):
    """The DuckDB store cannot be opened, read or written."""
