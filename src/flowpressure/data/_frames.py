"""Frame plumbing shared by every layer: any narwhals frame in, the caller's kind out."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from flowpressure._errors import ConfigError, SchemaError

__all__ = ["DATE_COLUMNS", "require", "to_lazy", "to_native", "to_polars"]

#: Column names that hold dates in the project's panels.
DATE_COLUMNS = frozenset({"date", "announce_date", "effective_date", "earnings_date", "expiry"})


def to_lazy(frame: Any) -> tuple[nw.LazyFrame[Any], bool]:
    """Wrap any frame narwhals accepts as a LazyFrame; say whether it was eager.

    Examples
    --------
    >>> import polars as pl
    >>> lf, eager = to_lazy(pl.DataFrame({"a": [1]}))
    >>> eager
    True
    """
    df = nw.from_native(frame)
    if isinstance(df, nw.DataFrame):
        return df.lazy(), True
    if isinstance(df, nw.LazyFrame):
        return df, False
    raise ConfigError(
        field="frame", expected="a data frame narwhals accepts", got=type(frame).__name__
    )


def to_native(lf: nw.LazyFrame[Any], eager: bool) -> Any:
    """Return the caller's kind of frame (collected when the input was eager)."""
    return (lf.collect() if eager else lf).to_native()


def to_polars(frame: Any, columns: list[str] | None = None, where: Any = None) -> pl.DataFrame:
    """Collect any frame narwhals accepts as a polars DataFrame (after an optional filter).

    Timestamp columns named like dates (pandas keeps dates as ``datetime64``) become dates.

    Examples
    --------
    >>> import pandas as pd
    >>> to_polars(pd.DataFrame({"date": pd.to_datetime(["2024-03-28"])})).schema["date"]
    Date
    """
    lf, _ = to_lazy(frame)
    if where is not None:
        lf = lf.filter(where)
    if columns is not None:
        lf = lf.select(columns)
    out = lf.collect("polars").to_native()
    assert isinstance(out, pl.DataFrame)
    stamps = [
        n for n in out.columns if n in DATE_COLUMNS and isinstance(out.schema[n], pl.Datetime)
    ]
    if stamps:
        out = out.with_columns(pl.col(stamps).cast(pl.Date))
    return out


def require(lf: nw.LazyFrame[Any], kind: str, *names: str) -> list[str]:
    """Raise SchemaError naming the first missing column; return the columns present."""
    present = list(lf.collect_schema().names())
    missing = [n for n in names if n not in present]
    if missing:
        raise SchemaError(
            f"{kind} panel: missing column {missing[0]!r}; frame has {present}",
            field=missing[0],
            expected=", ".join(names),
        )
    return present
