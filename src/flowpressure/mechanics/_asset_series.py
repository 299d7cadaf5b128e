"""Inputs shared by the mechanical-flow families: frames to polars, dates, one asset's series.

Every family takes the long prices panel (``asset_id, date, close`` with optional ``volume``,
``split_factor``, ``dividend``) in any frame narwhals accepts; filters are pushed down before
anything is collected, so a DuckDB relation of a large store is read only for the assets asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
from numpy.typing import NDArray

from flowpressure._errors import ConfigError, DataError, SchemaError
from flowpressure.data import adjusted_returns
from flowpressure.data._dates import as_date as read_date
from flowpressure.data._frames import to_polars

__all__ = [
    "AssetSeries",
    "as_date",
    "asset_series",
    "fmt_money",
    "require_columns",
    "to_date",
    "to_polars",
]

F64 = NDArray[np.float64]


#: Columns read as dates wherever they appear.
def require_columns(names: list[str], needed: tuple[str, ...], what: str) -> None:
    """Raise SchemaError naming the first column of ``needed`` that ``names`` lacks."""
    missing = [n for n in needed if n not in names]
    if missing:
        raise SchemaError(
            f"{what}: missing column {missing[0]!r}; frame has {sorted(names)}",
            field=missing[0],
            expected=", ".join(needed),
        )


def as_date(value: dt.date | str | None, field: str = "as_of") -> dt.date | None:
    """Read a date given as ``datetime.date`` or ISO text (``None`` passes through).

    Examples
    --------
    >>> as_date("2024-03-28")
    datetime.date(2024, 3, 28)
    """
    return None if value is None else read_date(value, field)


def to_date(value: dt.date | str, field: str) -> dt.date:
    """Read a required date given as ``datetime.date`` or ISO text."""
    out = as_date(value, field)
    if out is None:
        raise ConfigError(field=field, expected="a date as YYYY-MM-DD", got=value)
    return out


@dataclass(frozen=True)
class AssetSeries:
    """One asset's daily series, sorted by date, up to ``as_of``.

    ``adj_close`` is the close back-adjusted for later splits (in the last day's share units),
    ``ret`` the split-adjusted price return and ``ret_total`` the return with dividends; both
    are NaN on the first row.
    """

    asset_id: str
    dates: NDArray[np.datetime64]
    close: F64
    adj_close: F64
    ret: F64
    ret_total: F64
    volume: F64 | None

    @property
    def last(self) -> dt.date:
        """The last date of the series (the default "as of")."""
        return dt.date.fromisoformat(str(self.dates[-1]))

    def date(self, i: int) -> dt.date:
        """Return the date of row ``i`` as ``datetime.date``."""
        return dt.date.fromisoformat(str(self.dates[i]))


def asset_series(
    prices: Any, asset_id: str, as_of: dt.date | str | None = None, min_rows: int = 2
) -> AssetSeries:
    """Extract one asset's sorted series from a long prices panel, rows up to ``as_of``.

    Raises
    ------
    SchemaError
        The panel lacks ``asset_id``, ``date`` or ``close``.
    DataError
        The asset has fewer than ``min_rows`` rows up to ``as_of``.
    """
    df = nw.from_native(prices)
    names = list(df.collect_schema().names())
    require_columns(names, ("asset_id", "date", "close"), "prices panel")
    end = as_date(as_of)
    keep = [
        c for c in ("asset_id", "date", "close", "volume", "split_factor", "dividend") if c in names
    ]
    frame = to_polars(prices, keep, nw.col("asset_id") == asset_id).sort("date")
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    if frame.height < min_rows:
        raise DataError(
            field="asset_id",
            key={"asset_id": asset_id, "date": end} if end else {"asset_id": asset_id},
            expected=f"at least {min_rows} price rows for the asset"
            + (" up to the date" if end else ""),
            got=f"{frame.height} rows",
        )
    if frame["date"].is_duplicated().any():
        dup = frame.filter(frame["date"].is_duplicated())["date"].min()
        raise DataError(
            field="asset_id, date",
            key={"asset_id": asset_id, "date": dup},
            expected="one row per key",
        )
    frame = adjusted_returns(frame)
    split = (
        frame["split_factor"].fill_null(1.0).to_numpy().astype(np.float64)
        if "split_factor" in frame.columns
        else np.ones(frame.height)
    )
    # Back-adjust: divide each close by the product of the split factors after its date.
    later = np.r_[np.cumprod(split[::-1])[::-1][1:], 1.0]
    close = frame["close"].to_numpy().astype(np.float64)
    volume = frame["volume"].to_numpy().astype(np.float64) if "volume" in frame.columns else None
    return AssetSeries(
        asset_id=asset_id,
        dates=frame["date"].to_numpy().astype("datetime64[D]"),
        close=close,
        adj_close=close / later,
        ret=frame["ret"].fill_null(np.nan).to_numpy().astype(np.float64),
        ret_total=frame["ret_total"].fill_null(np.nan).to_numpy().astype(np.float64),
        volume=volume,
    )


def fmt_money(value: float) -> str:
    """Format a currency amount compactly for notes and tables.

    Examples
    --------
    >>> fmt_money(1.5e10), fmt_money(-2.5e6), fmt_money(950.0)
    ('$15.0bn', '-$2.5m', '$950')
    """
    if value != value:  # NaN
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if v >= size:
            return f"{sign}${v / size:.1f}{unit}"
    return f"{sign}${v:.0f}"
