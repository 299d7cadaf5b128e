"""Number and date formatting of the report: money in tn/bn/mn, percentages, ISO dates."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

__all__ = ["NUMERIC", "cell", "is_missing", "iso", "money", "param", "pct", "signed_pct"]

#: Table formats shown right-aligned.
NUMERIC = frozenset({"money", "pct", "spct", "int", "f1", "f2", "f3", "f4", "sf2", "bps"})


def is_missing(value: Any) -> bool:
    """Return whether ``value`` is None or a NaN.

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0.0)
    (True, True, False)
    """
    return value is None or (isinstance(value, float) and math.isnan(value))


def iso(value: Any) -> str:
    """Format a date as ISO text; anything else as ``str`` (None as an empty string).

    Examples
    --------
    >>> iso(dt.date(2019, 3, 31)), iso(None)
    ('2019-03-31', '')
    """
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def money(value: Any, digits: int = 2) -> str:
    """Format currency with a unit: ``$14.25bn``, ``-$6.33mn``; blank for a missing value.

    Examples
    --------
    >>> money(14_253_113_857.1), money(-2.5e6), money(1e12), money(0.8), money(None)
    ('$14.25bn', '-$2.50mn', '$1.00tn', '$0.80', '')
    """
    if is_missing(value):
        return ""
    v = float(value)
    sign = "-" if v < 0 else ""
    a = abs(v)
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "mn"), (1e3, "k")):
        if a >= size:
            return f"{sign}${a / size:,.{digits}f}{unit}"
    return f"{sign}${a:,.{digits}f}"


def pct(value: Any, digits: int = 2) -> str:
    """Format a fraction as a percentage (blank when missing).

    Examples
    --------
    >>> pct(0.0123), pct(-0.5, 0)
    ('1.23%', '-50%')
    """
    if is_missing(value):
        return ""
    return f"{float(value) * 100:.{digits}f}%"


def signed_pct(value: Any, digits: int = 2) -> str:
    """Format a fraction as a signed percentage (blank when missing).

    Examples
    --------
    >>> signed_pct(0.0123), signed_pct(-0.004)
    ('+1.23%', '-0.40%')
    """
    if is_missing(value):
        return ""
    return f"{float(value) * 100:+.{digits}f}%"


def cell(value: Any, fmt: str) -> str:
    """Format one table value by its column format (see :class:`~flowpressure.report.Table`).

    Examples
    --------
    >>> cell(1234.6, "int"), cell(0.25, "pct"), cell(-12.34, "bps"), cell(None, "money")
    ('1,235', '25.00%', '-12.3 bps', '')
    """
    if is_missing(value):
        return ""
    if fmt == "money":
        return money(value)
    if fmt == "pct":
        return pct(value)
    if fmt == "spct":
        return signed_pct(value)
    if fmt == "int":
        return f"{float(value):,.0f}"
    if fmt in ("f1", "f2", "f3", "f4"):
        return f"{float(value):,.{fmt[1]}f}"
    if fmt == "sf2":
        return f"{float(value):+,.2f}"
    if fmt == "bps":
        return f"{float(value):+,.1f} bps"
    if fmt == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def param(value: Any) -> str:
    """Format a parameter value as written on a command line.

    Examples
    --------
    >>> param(1e12), param(0.6), param([20, 60]), param(None), param("SPX")
    ('1e+12', '0.6', '20,60', 'None', 'SPX')
    """
    if isinstance(value, list | tuple):
        return ",".join(param(v) for v in value)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float | int):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
