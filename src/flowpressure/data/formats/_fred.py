r"""FRED series in long form (``series_id, date, value``) as a prices panel.

``series_id`` becomes ``asset_id`` and ``value`` becomes ``close``: a total-return index level
(the ICE BofA ``…TRIV`` series) is then a price with no dividends, whose returns are total
returns, e.g. a bond leg for :func:`flowpressure.mechanics.estimate_pension_flows`.

FRED files mix frequencies and carry holes, so the read says what it did per series:

- ``frequency``: inferred per series from the median gap between its observations (daily,
  weekly, monthly, quarterly, annual, irregular). Dates are kept as FRED gives them, never
  resampled;
- rows without a value (FRED's ``.``, a NaN or a blank, mostly bond-market holidays) are
  dropped and counted (``rows_nan_dropped``);
- a prices panel is daily, on sessions of an exchange calendar (XNYS): a series that is not
  daily, or has a value <= 0 (a spread, a yield, a balance that is not a price level), is set
  aside and named with the reason (``series_set_aside``); a daily series' rows on days that are
  not XNYS sessions (ICE publishes calendar month-ends and some exchange holidays) are dropped
  and counted (``rows_not_sessions_dropped``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from flowpressure._errors import DataError
from flowpressure.data._calendar import DEFAULT_CALENDAR, non_sessions
from flowpressure.data.formats import FormatRead, SourceFormat
from flowpressure.data.formats._fileread import file_sql, literal, require_columns

__all__ = ["FORMATS", "infer_frequency"]


def infer_frequency(median_gap_days: float | None) -> str:
    """Name the frequency of a series from the median gap between observations, in days.

    Examples
    --------
    >>> [infer_frequency(g) for g in (1.0, 7.0, 31.0, 92.0, 365.0, 14.0, None)]
    ['daily', 'weekly', 'monthly', 'quarterly', 'annual', 'irregular', 'single observation']
    """
    if median_gap_days is None:
        return "single observation"
    g = float(median_gap_days)
    for name, lo, hi in (
        ("daily", 0.5, 4.0),
        ("weekly", 5.0, 8.0),
        ("monthly", 27.0, 32.0),
        ("quarterly", 88.0, 93.0),
        ("annual", 360.0, 367.0),
    ):
        if lo <= g <= hi:
            return name
    return "irregular"


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, ("series_id", "date", "value"), "fred")
    value = (
        "TRY_CAST(CASE WHEN trim(CAST(value AS VARCHAR)) = '.' THEN NULL ELSE value END AS DOUBLE)"
    )
    day = "TRY_CAST(date AS DATE)"
    base_sql = (
        f"SELECT trim(CAST(series_id AS VARCHAR)) AS series_id, {day} AS date, "
        f"CASE WHEN isnan({value}) THEN NULL ELSE {value} END AS value, "
        f"CAST(date AS VARCHAR) AS _fp_date_text FROM {file_sql(path)}"
    )
    bad = con.sql(
        f"SELECT series_id, _fp_date_text FROM ({base_sql}) WHERE date IS NULL "
        "ORDER BY series_id LIMIT 1"
    ).fetchall()
    if bad:
        raise DataError(
            field="date", key={"series_id": bad[0][0]}, expected="a date", got=bad[0][1]
        )
    stats = con.sql(
        f"""
        WITH obs AS (
            SELECT series_id, date, value,
                   date_diff('day', lag(date) OVER (PARTITION BY series_id ORDER BY date), date)
                       AS gap
            FROM ({base_sql}) WHERE value IS NOT NULL
        ), holes AS (
            SELECT series_id, count(*) FILTER (WHERE value IS NULL) AS nan_rows
            FROM ({base_sql}) GROUP BY series_id
        )
        SELECT h.series_id, h.nan_rows, median(o.gap), min(o.value), arg_min(o.date, o.value)
        FROM holes h LEFT JOIN obs o USING (series_id)
        GROUP BY h.series_id, h.nan_rows ORDER BY h.series_id
        """
    ).fetchall()
    frequency: dict[str, str] = {}
    nan_dropped: dict[str, int] = {}
    set_aside: dict[str, str] = {}
    kept: list[str] = []
    for series, nan_rows, gap, low, low_date in stats:
        freq = infer_frequency(gap)
        frequency[series] = freq
        if nan_rows:
            nan_dropped[series] = int(nan_rows)
        if low is None:
            set_aside[series] = "no values"
        elif freq != "daily":
            set_aside[series] = f"{freq}, not a daily price series"
        elif low <= 0:
            set_aside[series] = f"value {low!r} on {low_date}: not a price level (> 0)"
        else:
            kept.append(series)
    if not kept:
        raise DataError(
            f"{path.name}: no FRED series can be a daily price: "
            + "; ".join(f"{s}: {why}" for s, why in set_aside.items()),
            field="series_id",
            expected="a daily series of positive levels (e.g. a total-return index)",
        )
    chosen = ", ".join(literal(s) for s in kept)
    rows = f"SELECT series_id, date, value FROM ({base_sql}) WHERE value IS NOT NULL " + (
        f"AND series_id IN ({chosen})"
    )
    dates = [r[0] for r in con.sql(f"SELECT DISTINCT date FROM ({rows})").fetchall()]
    off: list[dt.date] = non_sessions(dates, DEFAULT_CALENDAR)
    off_sql = ", ".join(f"DATE '{d.isoformat()}'" for d in off)
    not_sessions: dict[str, int] = {}
    if off:
        counted = con.sql(
            f"SELECT series_id, count(*) FROM ({rows}) WHERE date IN ({off_sql}) "
            "GROUP BY series_id ORDER BY series_id"
        ).fetchall()
        not_sessions = {str(s): int(n) for s, n in counted}
    keep_dates = f"WHERE date NOT IN ({off_sql})" if off else ""
    relation = con.sql(
        f"SELECT series_id AS asset_id, date, value AS close FROM ({rows}) {keep_dates}"
    )
    notes: dict[str, Any] = {
        "mapping": "series_id -> asset_id, value -> close (an index level: no dividends)",
        "frequency": frequency,
        "rows_nan_dropped": sum(nan_dropped.values()),
        "rows_nan_dropped_by_series": nan_dropped,
        "calendar": DEFAULT_CALENDAR,
        "rows_not_sessions_dropped": sum(not_sessions.values()),
        "rows_not_sessions_dropped_by_series": not_sessions,
        "series_kept": kept,
    }
    if set_aside:
        notes["series_set_aside"] = set_aside
    return FormatRead(relation, notes)


FORMATS = (
    SourceFormat(
        name="fred",
        kind="prices",
        description="FRED/ICE BofA long series (series_id, date, value) as closes per series",
        signature=("series_id", "date", "value"),
        read=_read,
    ),
)
