"""Shared machinery of the flow measurements: frames in, same frames out, notes and diagnostics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from numba import njit
from numpy.typing import NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.data._arrays import bool_numpy
from flowpressure.data._dates import as_date
from flowpressure.data._frames import to_lazy

Freq = Literal["D", "W", "M", "Q", "A"]

#: Every frequency a panel can have, finest first, with the word used in messages.
FREQS: dict[str, str] = {
    "D": "session",
    "W": "week",
    "M": "month",
    "Q": "quarter",
    "A": "year",
}

#: Values of the ``flow_note`` column: why a row has no flow, or what was done to it.
NOTES = {
    "birth": "first row of the entity: no prior period",
    "gap": "a period is missing before this row: not bridged",
    "gap_bridged": "a period is missing before this row: the flow covers the whole gap",
    "merger": "acquirer's flow net of the absorbed target's assets",
    "zero_prior": "prior assets are zero: no flow_pct",
    "so_lag_tail": "last rows after shifting issuer-reported shares by so_lag",
    "so_lag_gap": "the session so_lag after this row (or the row before) is missing: no flow",
    "stale_shares": "share count unchanged for longer than stale_after sessions (flow kept)",
    "fractional_units": "change in shares is not a whole number of creation units (flow kept)",
    "not_shares": "option or principal-amount line: no share flow",
    "no_price": "no price for this asset on this date",
    "price_doubtful": "implied price 30x off the asset's other holders or its last: no flow",
    "split_inferred": "split seen in the holders' share counts, applied (flow kept)",
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
    raise ConfigError(field="freq", expected="M, Q or A (D and W through step_number)", got=freq)


def check_freq(freq: Any, *, allow_none: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``freq`` is one of :data:`FREQS` (or None if allowed)."""
    if freq is None and allow_none:
        return
    if freq not in FREQS:
        expected = "D, W, M, Q or A" + (" (or None: infer it)" if allow_none else "")
        raise ConfigError(field="freq", expected=expected, got=freq)


def week_number(lf: nw.LazyFrame[Any], column: str) -> nw.Expr:
    """Map each distinct date of ``column`` to its week ordinal (weeks start on Monday)."""
    values = lf.select(nw.col(column)).unique().collect()[column].to_list()
    dates = sorted({as_date(v) for v in values if v is not None})
    if not dates:
        return nw.lit(None, dtype=nw.Int64)
    mapping = {d: (d.toordinal() - 1) // 7 for d in dates}
    return nw.col(column).cast(nw.Date).replace_strict(mapping, default=None, return_dtype=nw.Int64)


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
    if freq == "W":
        return week_number(lf, "date")
    return period_number(nw.col("date"), freq)


def step_of(date: dt.date, freq: Freq, calendar: str) -> int:
    """Return the ordinal :func:`step_number` gives one date (for dates handled in Python)."""
    if freq == "M":
        return date.year * 12 + date.month
    if freq == "Q":
        return date.year * 4 + (date.month - 1) // 3
    if freq == "A":
        return date.year
    if freq == "W":
        return (date.toordinal() - 1) // 7
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


# --- the frequency of a period panel: inferred from the spacing of its rows, checked -----

#: Median spacing, in calendar days, of consecutive rows one period apart.
SPACING: dict[str, tuple[int, int]] = {
    "D": (1, 4),  # a session to the next: 1 day, 3 over a weekend, 4 over a long weekend
    "W": (5, 10),  # a week, a holiday moving the report a day or two
    "M": (25, 35),  # month ends, calendar or business
    "Q": (80, 100),
    "A": (350, 380),
}

_ADVERB = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", "A": "annual"}


@dataclass(frozen=True)
class FreqInference:
    """The frequency a panel is measured at, and whether (and why) it was inferred.

    Attributes
    ----------
    freq
        ``"D"`` (sessions), ``"W"``, ``"M"``, ``"Q"`` or ``"A"``.
    inferred
        True when read from the dates, False when stated by the caller.
    reason
        One sentence: the spacing that gave ``freq``, or ``"stated"``.
    """

    freq: Freq
    inferred: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe ``{"freq", "freq_inferred", "freq_reason"}``."""
        return {"freq": self.freq, "freq_inferred": self.inferred, "freq_reason": self.reason}


def _sorted_keys(frame: Any, entity: str) -> tuple[pa.Array, NDArray[np.int64], NDArray[np.bool_]]:
    """Entity ids and dates (days since 1970) sorted by key, and whether row i+1 has row i's id."""
    lf, _ = to_lazy(frame)
    lf = dates_as_dates(lf)
    table = (
        lf.select(nw.col(entity).cast(nw.String), nw.col("date").cast(nw.Date))
        .filter(~nw.col(entity).is_null() & ~nw.col("date").is_null())
        .collect()
        .to_arrow()
    )
    order = pc.sort_indices(table, sort_keys=[(entity, "ascending"), ("date", "ascending")])
    table = table.take(order)
    ids = table.column(entity).combine_chunks()
    days = table.column("date").cast(pa.int32()).to_numpy().astype(np.int64)
    if len(ids) < 2:
        return ids, days, np.zeros(0, dtype=np.bool_)
    return ids, days, bool_numpy(pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1)))


def period_ordinals(days: NDArray[np.int64], freq: Freq, calendar: str) -> NDArray[np.int64]:
    """Period ordinal of each date given as days since 1970 (sessions: the session on or after)."""
    if freq == "W":
        return (days + 3) // 7  # 1970-01-05 is a Monday: weeks start on Monday
    if not len(days):
        return days.copy()
    lo, hi = int(days.min()), int(days.max())
    if freq in ("M", "Q", "A"):
        # one ordinal per calendar day of the span, then a gather: far cheaper than
        # converting every row's date when a panel has many rows per day
        span = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
        if freq == "A":
            table = span.astype("datetime64[Y]").astype(np.int64)
        else:
            table = span.astype("datetime64[M]").astype(np.int64)
            if freq == "Q":
                table //= 3
        return table[days - lo]
    from flowpressure.data import sessions

    epoch = dt.date(1970, 1, 1)
    first = epoch + dt.timedelta(days=lo)
    last = epoch + dt.timedelta(days=hi + 10)
    found = sessions(first, last, calendar).astype("datetime64[D]").astype(np.int64)
    return np.searchsorted(found, days).astype(np.int64)


def _day(days: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(days))


def check_one_per_period(
    frame: Any, freq: Freq, *, entity: str = "fund_id", calendar: str = "XNYS"
) -> None:
    """Refuse a panel in which two rows of one entity fall in the same period of ``freq``.

    Daily panels are keyed by date, so only period frequencies (W, M, Q, A) are checked.

    Raises
    ------
    DataError
        Naming the entity, both dates and the frequency (the smallest key first).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> days = [dt.date(2024, 1, 5), dt.date(2024, 1, 8)]  # a Friday and the next Monday
    >>> df = pl.DataFrame({"fund_id": ["A", "A"], "date": days})
    >>> check_one_per_period(df, "W")  # two weeks: fine
    >>> check_one_per_period(df, "M")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flowpressure._errors.DataError: field 'date' at fund_id=A: two rows in one month ...
    """
    check_freq(freq)
    if freq == "D":
        return
    ids, days, same = _sorted_keys(frame, entity)
    _check_periods(ids, days, same, freq, entity, calendar)


def _check_periods(
    ids: pa.Array,
    days: NDArray[np.int64],
    same: NDArray[np.bool_],
    freq: Freq,
    entity: str,
    calendar: str,
) -> None:
    if freq == "D" or not same.any():
        return
    periods = period_ordinals(days, freq, calendar)
    hit = same & (periods[1:] == periods[:-1])
    if hit.any():
        i = int(np.flatnonzero(hit)[0])
        raise period_error(entity, ids[i].as_py(), _day(days[i]), _day(days[i + 1]), freq)


def period_error(entity: str, key: Any, first: dt.date, second: dt.date, freq: Freq) -> DataError:
    """Return the error for two rows of one entity in one period (one wording, every path)."""
    word = FREQS[freq]
    return DataError(
        f"field 'date' at {entity}={key}: two rows in one {word} (freq {freq!r}): "
        f"{first.isoformat()} and {second.isoformat()}; expected one row per {entity} and "
        f"{word}: state the panel's frequency or leave freq out to infer it",
        field="date",
        key={entity: key},
        expected=f"one row per {entity} and {word}",
        got=f"{first.isoformat()} and {second.isoformat()}",
    )


def infer_freq(
    frame: Any, *, entity: str = "fund_id", calendar: str = "XNYS", fallback: Freq = "M"
) -> FreqInference:
    """Infer a panel's frequency from the spacing of each entity's consecutive rows.

    For every entity with two rows or more, the median number of calendar days between
    consecutive rows names its frequency when it is one period: 1–4 days daily (sessions),
    5–10 weekly, 25–35 monthly, 80–100 quarterly, 350–380 annual (see :data:`SPACING`). The
    median is robust to gaps and to a few odd dates (a weekly panel built from whatever day
    each week has). Entities whose median is several periods (sparse) do not vote; they, like
    every entity, must have no two rows in one period of the answer.

    Parameters
    ----------
    frame
        A panel with ``entity`` and ``date`` columns (any frame narwhals accepts).
    entity
        The entity key, ``fund_id`` for fund panels.
    calendar
        Exchange calendar of daily panels.
    fallback
        Returned (and said) when no entity has two rows: every row is then a birth, whatever
        the frequency.

    Returns
    -------
    FreqInference
        The frequency, ``inferred=True`` and the reason.

    Raises
    ------
    DataError
        Entities spaced at different frequencies (mixed spacing), no entity with two rows one
        period apart (too sparse to tell), or two rows of one entity in one period of the
        inferred frequency.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> days = [dt.date(2024, 3, 27), dt.date(2024, 3, 28), dt.date(2024, 4, 1)]
    >>> infer_freq(pl.DataFrame({"fund_id": ["A"] * 3, "date": days})).freq
    'D'
    >>> ends = [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 5, 31)]
    >>> print(infer_freq(pl.DataFrame({"fund_id": ["A"] * 3, "date": ends})).reason)
    monthly: consecutive rows of 1 of 1 fund_id with two rows or more are 29 days apart (median)
    """
    check_freq(fallback)
    ids, days, same = _sorted_keys(frame, entity)
    return freq_of_sorted(ids, days, same, entity=entity, calendar=calendar, fallback=fallback)


#: Entities whose spacings span at most this many days get their median by counting.
_COUNTED_WIDTH = 64


@njit(cache=True)
def _median_spacings(
    days: NDArray[np.int64], same: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # pragma: no cover - compiled
    """Lower median of the days between consecutive rows of each entity, and its first row.

    One pass over the key-ordered rows. Spacings of one entity are nearly equal (28 to 31
    days for month ends), so a median usually comes from a small histogram; an entity whose
    spacings spread wider than ``_COUNTED_WIDTH`` days is sorted.
    """
    n = days.shape[0]
    medians = np.empty(n, dtype=np.int64)
    firsts = np.empty(n, dtype=np.int64)
    hist = np.zeros(_COUNTED_WIDTH, dtype=np.int64)
    k = 0
    i = 0
    while i < n - 1:
        if not same[i]:
            i += 1
            continue
        j = i
        lo = days[i + 1] - days[i]
        hi = lo
        while j < n - 1 and same[j]:
            gap = days[j + 1] - days[j]
            lo = min(lo, gap)
            hi = max(hi, gap)
            j += 1
        rank = (j - i - 1) // 2  # the lower median of j - i spacings
        width = hi - lo + 1
        if width <= _COUNTED_WIDTH:
            hist[:width] = 0
            for p in range(i, j):
                hist[days[p + 1] - days[p] - lo] += 1
            seen = 0
            for b in range(width):
                seen += hist[b]
                if seen > rank:
                    medians[k] = lo + b
                    break
        else:
            ordered = np.sort(days[i + 1 : j + 1] - days[i:j])
            medians[k] = ordered[rank]
        firsts[k] = i
        k += 1
        i = j
    return medians[:k], firsts[:k]


def freq_of_sorted(
    ids: Any,
    days: NDArray[np.int64],
    same: NDArray[np.bool_],
    *,
    entity: str = "fund_id",
    calendar: str = "XNYS",
    fallback: Freq = "M",
    check_periods: bool = True,
) -> FreqInference:
    """:func:`infer_freq` on a panel already in key order.

    ``ids`` (Arrow) and ``days`` (days since 1970) are in (entity, date) order and
    ``same[i]`` says rows ``i`` and ``i + 1`` belong to one entity. With ``check_periods``
    off, two rows of an entity in one period of the inferred frequency are left for the
    caller to refuse.
    """
    check_freq(fallback)
    if not same.any():
        return FreqInference(
            fallback,
            True,
            f"no {entity} has two rows: every row is a birth whatever the frequency "
            f"({fallback} assumed)",
        )
    # each entity's (lower) median spacing, and its first row
    typical, first_row = _median_spacings(
        np.ascontiguousarray(days, dtype=np.int64), np.ascontiguousarray(same, dtype=np.bool_)
    )
    votes: dict[str, NDArray[np.intp]] = {}
    for freq, (lo, hi) in SPACING.items():
        members = np.flatnonzero((typical >= lo) & (typical <= hi))
        if len(members):
            votes[freq] = members
    votes = dict(sorted(votes.items(), key=lambda item: int(item[1][0])))  # first entity first
    if len(votes) > 1:
        shown = ", ".join(
            f"{entity}={ids[int(first_row[ks[0]])].as_py()} {int(typical[ks[0]])} days "
            f"({_ADVERB[f]}, {len(ks)} in all)"
            for f, ks in votes.items()
        )
        raise DataError(
            f"field 'date': cannot infer the frequency, the rows are spaced at different "
            f"frequencies (median days between consecutive rows): {shown}; state the "
            "frequency (freq, --freq)",
            field="date",
            expected="one frequency for every entity",
        )
    if not votes:
        k = int(np.argmin(typical))
        raise DataError(
            f"field 'date': cannot infer the frequency: no {entity} has two rows one period "
            f"apart (median spacing, closest: {entity}={ids[int(first_row[k])].as_py()}, "
            f"{int(typical[k])} days); state the frequency (freq, --freq)",
            field="date",
            expected="consecutive rows one session, week, month, quarter or year apart",
        )
    ((freq, members),) = votes.items()
    lo, hi = int(typical[members].min()), int(typical[members].max())
    span = f"{lo} day{'s' if lo > 1 else ''}" if lo == hi else f"{lo} to {hi} days"
    if check_periods:
        _check_periods(ids, days, same, freq, entity, calendar)  # type: ignore[arg-type]
    return FreqInference(
        freq,  # type: ignore[arg-type]
        True,
        f"{_ADVERB[freq]}: consecutive rows of {len(members)} of {len(typical)} {entity} with "
        f"two rows or more are {span} apart (median)",
    )
