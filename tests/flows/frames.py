"""Test helper: any backend's result as one polars frame, dates as dates, sorted by key."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl


def collect(native: Any, *keys: str) -> pl.DataFrame:
    """Collect ``native`` (any backend, eager or lazy) and sort it by ``keys`` (default fund, date)."""
    df = nw.from_native(native)
    df = df.collect() if isinstance(df, nw.LazyFrame) else df
    out = pl.from_arrow(df.to_arrow())
    assert isinstance(out, pl.DataFrame)
    return out.with_columns(pl.col("date").cast(pl.Date)).sort(*(keys or ("fund_id", "date")))
