"""Shared machinery of the flow measurements: frames in, same frames out, notes and diagnostics."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import narwhals as nw

from flowpressure._errors import ConfigError
from flowpressure.data._dates import as_date
from flowpressure.data._frames import to_lazy

Freq = Literal["D", "M", "Q", "A"]

#: Values of the ``flow_note`` column: why a row has no flow, or what was done to it.
NOTES = {
    "birth": "first row of the entity: no prior period",
    "gap": "a period is missing before this row: not bridged",
    "merger": "acquirer's flow net of the absorbed target's assets",
    "zero_prior": "prior assets are zero: no flow_pct",
    "so_lag_tail": "last rows after shifting issuer-reported shares by so_lag",
    "stale_shares": "share count unchanged for longer than stale_after sessions (flow kept)",
    "fractional_units": "change in shares is not a whole number of creation units (flow kept)",
    "not_shares": "option or principal-amount line: no share flow",
    "no_price": "no price for this asset on this date",
    "open": "position opened",
    "close": "position closed",
}


def dates_as_dates(lf: nw.LazyFrame[Any], column: str = "date") -> nw.LazyFrame[Any]:
    """Give pandas ``object`` columns of ``datetime.date`` a real date type."""
    if lf.collect_schema()[column] == nw.Object:
        return lf.with_columns(nw.col(column).cast(nw.Date))
    return lf


def period_number(date: nw.Expr, freq: Freq) -> nw.Expr:
    """Consecutive integer per period (months since year 0 for ``"M"``, and so on).

    Daily panels are numbered by session through :func:`session_number` instead.
    """
    year = date.dt.year().cast(nw.Int64)
    month = date.dt.month().cast(nw.Int64)
    if freq == "M":
        return year * 12 + month
    if freq == "Q":
        return year * 4 + (month - 1) // 3
    if freq == "A":
        return year
    raise ConfigError(field="freq", expected="D, M, Q or A", got=freq)


def session_number(lf: nw.LazyFrame[Any], column: str, calendar: str) -> nw.Expr:
    """Map each distinct date of ``column`` to its session ordinal (null when not a session)."""
    from flowpressure.data import sessions

    values = lf.select(nw.col(column)).unique().collect()[column].to_list()
    dates = sorted({as_date(v) for v in values if v is not None})
    if not dates:
        return nw.lit(None, dtype=nw.Int64)
    days = sessions(dates[0], dates[-1], calendar)
    ordinal = {d.astype(object): i for i, d in enumerate(days)}
    mapping = {d: ordinal[d] for d in dates if d in ordinal}
    return nw.col(column).cast(nw.Date).replace_strict(mapping, default=None, return_dtype=nw.Int64)


def step_number(lf: nw.LazyFrame[Any], freq: Freq, calendar: str) -> nw.Expr:
    """Period ordinal of the ``date`` column: a gap is a step of more than one."""
    if freq == "D":
        return session_number(lf, "date", calendar)
    return period_number(nw.col("date"), freq)


def step_of(date: dt.date, freq: Freq, calendar: str) -> int:
    """Return the ordinal :func:`step_number` gives one date (for dates handled in Python)."""
    if freq == "M":
        return date.year * 12 + date.month
    if freq == "Q":
        return date.year * 4 + (date.month - 1) // 3
    if freq == "A":
        return date.year
    from flowpressure.data import sessions

    return len(sessions(dt.date(1900, 1, 1) if date.year > 1900 else date, date, calendar))


def note_counts(frame: Any) -> dict[str, int]:
    """Count the rows of a flow result by ``flow_note`` (rows with no note are not counted).

    Examples
    --------
    >>> import polars as pl
    >>> note_counts(pl.DataFrame({"flow_note": [None, "birth", "gap", "birth"]}))
    {'birth': 2, 'gap': 1}
    """
    lf, _ = to_lazy(frame)
    if "flow_note" not in lf.collect_schema().names():
        return {}
    rows = (
        lf.filter(~nw.col("flow_note").is_null())
        .group_by("flow_note")
        .agg(nw.len().alias("n"))
        .collect()
        .rows()
    )
    return {str(k): int(v) for k, v in sorted(rows)}
