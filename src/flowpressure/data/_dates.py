"""Date columns: recognise text formats and map timestamps to session dates.

A date column may arrive as a date, as text (``2024-03-28``, ``20240328``, ``03/28/2024``,
``2024-03-28 14:30:00``, ``2024-03-28T21:00:00+00:00``), as an integer ``20240328``, or as a
timestamp. Every form becomes a date:

- a timestamp at midnight (on its own clock) is that date: it is a date stored as a timestamp;
- a timestamp with a time zone and a time of day is converted to the exchange's time zone, then
  its date taken;
- a naive timestamp with a time of day is read in ``naive_tz`` (UTC by default, the convention
  of most vendor exports), converted to the exchange's time zone, then its date taken.

DuckDB and PySpark keep the time zone in the connection or session, so narwhals cannot
convert zones there; those two backends get the same rule written in their own SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np

from flowpressure._errors import ConfigError

__all__ = [
    "DAY_FIRST",
    "DateFormat",
    "as_date",
    "detect_format",
    "impossible_date",
    "to_date_column",
]


@dataclass(frozen=True)
class DateFormat:
    """A recognised text format of dates."""

    strftime: str
    pattern: str
    has_time: bool
    has_tz: bool
    example: str
    #: Offsets of the year (4 digits), month and day (2 digits each) in the text; a format
    #: with a time of day has hour, minute and second at offsets 11, 14 and 17.
    ymd: tuple[int, int, int] = (0, 5, 8)


_FORMATS = (
    DateFormat("%Y-%m-%d", r"^\d{4}-\d{2}-\d{2}$", False, False, "2024-03-28"),
    DateFormat("%Y%m%d", r"^\d{8}$", False, False, "20240328", (0, 4, 6)),
    DateFormat("%m/%d/%Y", r"^\d{2}/\d{2}/\d{4}$", False, False, "03/28/2024", (6, 0, 3)),
    DateFormat(
        "%Y-%m-%d %H:%M:%S",
        r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        True,
        False,
        "2024-03-28 14:30:00",
    ),
    DateFormat(
        "%Y-%m-%dT%H:%M:%S",
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
        True,
        False,
        "2024-03-28T14:30:00",
    ),
    DateFormat(
        "%Y-%m-%d %H:%M:%S%z",
        r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:?\d{2}$",
        True,
        True,
        "2024-03-28 21:00:00+00:00",
    ),
    DateFormat(
        "%Y-%m-%dT%H:%M:%S%z",
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:?\d{2}$",
        True,
        True,
        "2024-03-28T21:00:00+00:00",
    ),
)

#: ``28/03/2024``: written like ``03/28/2024``, told apart by the data (a first field above 12).
DAY_FIRST = DateFormat("%d/%m/%Y", r"^\d{2}/\d{2}/\d{4}$", False, False, "28/03/2024", (6, 3, 0))


def as_date(value: Any, field: str = "date") -> dt.date:
    """Read one date given as a date, a timestamp, ``numpy.datetime64`` or ISO text.

    A timestamp's time of day is dropped (callers pass dates stored as timestamps).

    Raises
    ------
    ConfigError
        ``value`` is missing or not a date; the message names ``field``.

    Examples
    --------
    >>> as_date("2024-03-28"), as_date("2024-03-28 00:00:00")
    (datetime.date(2024, 3, 28), datetime.date(2024, 3, 28))
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").astype(object)  # type: ignore[no-any-return]
    text = "" if value is None else str(value).strip()
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(field=field, expected="a date as YYYY-MM-DD", got=value) from None


def detect_format(sample: str) -> DateFormat | None:
    """Return the format that ``sample`` is written in, or ``None``.

    Examples
    --------
    >>> detect_format("03/28/2024").strftime
    '%m/%d/%Y'
    >>> detect_format("28.03.2024") is None
    True
    """
    text = sample.strip()
    for fmt in _FORMATS:
        if re.match(fmt.pattern, text):
            return fmt
    return None


def impossible_date(text: nw.Expr, fmt: DateFormat) -> nw.Expr:
    """Return a mask of texts written in ``fmt`` that name no real date or time of day.

    ``text`` must already match ``fmt``'s pattern (digits where digits belong), so the parts
    cast to integers on every backend. A month outside 1–12, a day outside its month
    (2024-02-30, 2023-02-29), an hour above 23 or a minute or second above 59 is impossible.

    Examples
    --------
    >>> import narwhals as nw, polars as pl
    >>> df = nw.from_native(pl.DataFrame({"d": ["2024-02-29", "2023-02-29", "2024-13-01"]}))
    >>> mask = impossible_date(nw.col("d"), detect_format("2024-01-31"))
    >>> df.select(mask).to_native()["d"].to_list()
    [False, True, True]
    """

    def part(offset: int, width: int) -> nw.Expr:
        return text.str.slice(offset, width).cast(nw.Int64)

    y0, m0, d0 = fmt.ymd
    year, month, day = part(y0, 4), part(m0, 2), part(d0, 2)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = (
        nw.when(month == 2)
        .then(nw.when(leap).then(nw.lit(29)).otherwise(nw.lit(28)))
        .when(month.is_in([4, 6, 9, 11]))
        .then(nw.lit(30))
        .otherwise(nw.lit(31))
    )
    bad = (month < 1) | (month > 12) | (day < 1) | (day > days)
    if fmt.has_time:
        bad = bad | (part(11, 2) > 23) | (part(14, 2) > 59) | (part(17, 2) > 59)
    return bad


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def to_date_column(
    lf: nw.LazyFrame[Any], column: str, exchange_tz: str, naive_tz: str = "UTC"
) -> nw.LazyFrame[Any]:
    """Replace a Datetime ``column`` of ``lf`` by its session date in ``exchange_tz``.

    Parameters
    ----------
    lf
        A narwhals LazyFrame whose ``column`` is a Datetime (naive or zoned).
    column
        The column to convert.
    exchange_tz
        IANA zone of the exchange, e.g. ``America/New_York``.
    naive_tz
        Zone in which naive timestamps with a time of day are read.

    Returns
    -------
    narwhals.LazyFrame
        The same frame with ``column`` of type Date; other columns unchanged.
    """
    dtype = lf.collect_schema()[column]
    zone = getattr(dtype, "time_zone", None)
    impl = lf.implementation
    if impl is nw.Implementation.DUCKDB:
        return _duckdb_to_date(lf, column, exchange_tz, naive_tz, zoned=zone is not None)
    if impl.is_spark_like():
        return _spark_to_date(lf, column, exchange_tz, naive_tz, zoned=zone is not None)
    col = nw.col(column)
    if zone is not None:
        own_date = col.dt.replace_time_zone(None).cast(nw.Date)
        local = col.dt.convert_time_zone(exchange_tz).dt.replace_time_zone(None).cast(nw.Date)
    else:
        own_date = col.cast(nw.Date)
        local = (
            col.dt.replace_time_zone(naive_tz)
            .dt.convert_time_zone(exchange_tz)
            .dt.replace_time_zone(None)
            .cast(nw.Date)
        )
    expr = nw.when(col == col.dt.truncate("1d")).then(own_date).otherwise(local)
    return lf.with_columns(expr.alias(column))


def _duckdb_to_date(
    lf: nw.LazyFrame[Any], column: str, exchange_tz: str, naive_tz: str, *, zoned: bool
) -> nw.LazyFrame[Any]:
    rel = lf.to_native()
    c, tz, ntz = _quote(column), _sql_literal(exchange_tz), _sql_literal(naive_tz)
    instant = c if zoned else f"timezone({ntz}, {c})"
    expr = (
        f"CASE WHEN {c} = date_trunc('day', {c}) THEN CAST({c} AS DATE) "
        f"ELSE CAST(timezone({tz}, {instant}) AS DATE) END"
    )
    parts = [f"{expr} AS {c}" if name == column else _quote(name) for name in rel.columns]
    out: nw.LazyFrame[Any] = nw.from_native(rel.project(", ".join(parts)))
    return out


def _spark_to_date(
    lf: nw.LazyFrame[Any], column: str, exchange_tz: str, naive_tz: str, *, zoned: bool
) -> nw.LazyFrame[Any]:
    from pyspark.sql import functions as F

    sdf = lf.to_native()
    session_tz = sdf.sparkSession.conf.get("spark.sql.session.timeZone")
    col = F.col(column)
    # Spark shows an instant on the session's wall clock; a naive value is that wall clock.
    # from_utc_timestamp(to_utc_timestamp(x, z1), z2) moves a wall clock from zone z1 to z2.
    if zoned:
        local = F.from_utc_timestamp(F.to_utc_timestamp(col, session_tz), exchange_tz)
    else:
        local = F.from_utc_timestamp(F.to_utc_timestamp(col.cast("string"), naive_tz), exchange_tz)
    expr = F.when(col == F.date_trunc("day", col), F.to_date(col)).otherwise(F.to_date(local))
    out: nw.LazyFrame[Any] = nw.from_native(sdf.withColumn(column, expr))
    return out
