r"""Long daily OHLCV, one row per ticker and date: Kaggle "S&P 500 stock data" and exports like it.

Columns ``date, ticker, open, high, low, close, volume``: the Kaggle 2013-02-08..2018-02-07 file
of the 505 S&P 500 members of early 2018, and any file with the same columns (an Alpha Vantage
ETF export, say), which is why the notes say nothing about index membership. Read as the
``prices`` kind:

- ``asset_id`` = ``ticker`` (trimmed); ``date``, ``open``, ``high``, ``low``, ``close`` and
  ``volume`` keep their names and values;
- prices are as the file gives them and the format adds no ``split_factor`` or ``dividend``
  column (no corporate action, as everywhere in the store). The Kaggle file is split-adjusted
  (AAPL closes at 92.22 on 2014-06-06 and 93.70 after its 7-for-1 split) but not dividend-
  adjusted; an Alpha Vantage export is unadjusted, so a split shows as a jump in its close. The
  notes say so, with the rows whose open, high or low is missing (validation accepts those: the
  columns are optional);
- the Kaggle file holds the members of 2018, so it is survivorship-biased: a back-test on it
  must take membership from the S&P 500 change list (``fja_sp500``), not from the file.
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
        "adjustment": (
            "as in the file, no split_factor or dividend added (Kaggle's S&P 500 file is "
            "split-adjusted; an Alpha Vantage export is not: a split there shows as a jump)"
        ),
        "rows": int(rows),
        "tickers": int(tickers),
        "rows_missing_open_high_or_low": int(partial),
        "dates": f"{first}..{last}",
    }
    return FormatRead(base, notes)


FORMATS = (
    SourceFormat(
        name="kaggle_sp500",
        kind="prices",
        description=(
            "long daily OHLCV, one row per ticker and date, prices as given "
            "(Kaggle S&P 500 stock data 2013-2018, Alpha Vantage exports)"
        ),
        signature=_NEEDED,
        read=_read,
    ),
)
