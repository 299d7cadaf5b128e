r"""Kaggle "S&P 500 stock data": daily unadjusted OHLCV of the S&P 500 members, one row per ticker.

Columns ``date, ticker, open, high, low, close, volume`` (the 2013-02-08..2018-02-07 file of
the 505 members of early 2018). Read as the ``prices`` kind:

- ``asset_id`` = ``ticker`` (trimmed); ``date``, ``open``, ``high``, ``low``, ``close`` and
  ``volume`` keep their names and values;
- prices are **unadjusted** and the file has no split or dividend column, so ``split_factor``
  and ``dividend`` are absent (no corporate action, as everywhere in the store): a split shows
  as a jump in the close. The notes say so, with the rows whose open, high or low is missing
  (validation accepts those: the columns are optional);
- the set is the members of 2018, so it is survivorship-biased (noted).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flowpressure.data._loaders import file_format
from flowpressure.data.formats import FormatRead, SourceFormat
from flowpressure.data.formats._fileread import file_sql, require_columns, require_numbers

__all__ = ["FORMATS"]

_NEEDED = ("date", "ticker", "open", "high", "low", "close", "volume")


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, _NEEDED, "kaggle_sp500")
    if file_format(path) == "csv":  # Parquet columns are typed already
        require_numbers(con, path, _NEEDED[2:], ["ticker", "date"])
    base = con.sql(
        "SELECT trim(CAST(ticker AS VARCHAR)) AS asset_id, date, open, high, low, close, volume "
        f"FROM {file_sql(path)}"
    )

    def blank(col: str) -> str:
        return f"({col} IS NULL OR trim(CAST({col} AS VARCHAR)) = '')"

    counts = base.aggregate(
        "count(*), count(DISTINCT asset_id), "
        f"count(*) FILTER (WHERE {blank('open')} OR {blank('high')} OR {blank('low')}), "
        "min(CAST(date AS VARCHAR)), max(CAST(date AS VARCHAR))"
    ).fetchall()[0]
    rows, tickers, partial, first, last = counts
    notes = {
        "asset_id": "ticker",
        "adjustment": "unadjusted; no split_factor or dividend columns (a split shows as a jump)",
        "rows": int(rows),
        "tickers": int(tickers),
        "rows_missing_open_high_or_low": int(partial),
        "dates": f"{first}..{last}",
        "membership": "the S&P 500 members of the file's end (survivorship-biased)",
    }
    return FormatRead(base, notes)


FORMATS = (
    SourceFormat(
        name="kaggle_sp500",
        kind="prices",
        description="Kaggle S&P 500 stock data: daily unadjusted OHLCV per ticker (2013-2018)",
        signature=_NEEDED,
        read=_read,
    ),
)
