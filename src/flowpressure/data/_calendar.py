"""Exchange calendars: sessions, time zones and session membership, cached per year range.

``exchange_calendars`` is imported lazily (it takes over a second to import) and calendars are
built with explicit bounds that cover whole years around the dates asked about.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from flowpressure._errors import ConfigError
from flowpressure.data._dates import as_date

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "DEFAULT_CALENDAR",
    "exchange_timezone",
    "last_sessions",
    "non_sessions",
    "period_end_sessions",
    "sessions",
    "shift_sessions",
    "third_fridays",
]

#: The calendar used when none is named: the New York Stock Exchange.
DEFAULT_CALENDAR = "XNYS"


#: Calendars are built for whole blocks of this many years: building one costs about the same
#: (~0.1 s) for two years or fifty, so one wide build serves every later call.
_BLOCK_YEARS = 50


def _calendar(name: str, first_year: int, last_year: int) -> Any:
    lo = first_year // _BLOCK_YEARS * _BLOCK_YEARS
    hi = last_year // _BLOCK_YEARS * _BLOCK_YEARS + _BLOCK_YEARS - 1
    try:
        return _build_calendar(name, lo, hi)
    except ConfigError:
        if (lo, hi) == (first_year, last_year):
            raise
        # the block reaches past what this calendar can build; build just the years asked
        return _build_calendar(name, first_year, last_year)


@lru_cache(maxsize=32)
def _build_calendar(name: str, first_year: int, last_year: int) -> Any:
    import exchange_calendars as xc

    try:
        with warnings.catch_warnings():
            # exchange_calendars trips pandas 3 deprecation warnings while it builds a calendar.
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return xc.get_calendar(name, start=f"{first_year}-01-01", end=f"{last_year}-12-31")
    except xc.errors.InvalidCalendarName:
        raise ConfigError(
            field="calendar", expected="an exchange_calendars name such as XNYS", got=name
        ) from None
    except ValueError as exc:  # bounds outside what the calendar can build
        raise ConfigError(
            field="calendar",
            expected=f"{name} to cover {first_year}-{last_year}",
            got=str(exc).splitlines()[0],
        ) from None


@lru_cache(maxsize=32)
def exchange_timezone(name: str = DEFAULT_CALENDAR) -> str:
    """Return the IANA time zone of an exchange calendar.

    Examples
    --------
    >>> exchange_timezone("XNYS")
    'America/New_York'
    """
    return str(_calendar(name, 2000, 2000).tz)


def sessions(start: dt.date, end: dt.date, name: str = DEFAULT_CALENDAR) -> NDArray[np.datetime64]:
    """Return the sessions of ``name`` from ``start`` to ``end`` inclusive, as ``datetime64[D]``.

    Examples
    --------
    >>> import datetime as dt
    >>> s = sessions(dt.date(2024, 3, 27), dt.date(2024, 4, 2))
    >>> [str(d) for d in s]  # Good Friday 2024-03-29 is a holiday
    ['2024-03-27', '2024-03-28', '2024-04-01', '2024-04-02']
    """
    cal = _calendar(name, start.year, max(end.year, start.year))
    idx = cal.sessions
    values: NDArray[np.datetime64] = idx.values.astype("datetime64[D]")
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    return values[(values >= lo) & (values <= hi)]


def non_sessions(dates: Iterable[dt.date], name: str = DEFAULT_CALENDAR) -> list[dt.date]:
    """Return the dates that are not sessions of ``name``, sorted.

    Examples
    --------
    >>> import datetime as dt
    >>> non_sessions([dt.date(2024, 3, 28), dt.date(2024, 3, 30), dt.date(2024, 3, 29)])
    [datetime.date(2024, 3, 29), datetime.date(2024, 3, 30)]
    """
    unique = sorted(set(dates))
    if not unique:
        return []
    known = sessions(unique[0], unique[-1], name)
    asked = np.array(unique, dtype="datetime64[D]")
    bad = asked[~np.isin(asked, known)]
    return [d.astype(object) for d in bad]


def period_end_sessions(
    start: dt.date | str,
    end: dt.date | str,
    freq: str = "M",
    name: str = DEFAULT_CALENDAR,
) -> list[dt.date]:
    """Return the last session of each month (``"M"``), quarter (``"Q"``) or year (``"Y"``).

    Only periods whose last session falls in ``[start, end]`` are returned.

    Examples
    --------
    >>> period_end_sessions("2024-01-01", "2024-06-30", "Q")
    [datetime.date(2024, 3, 28), datetime.date(2024, 6, 28)]
    """
    months = {"M": 1, "Q": 3, "Y": 12}
    if freq not in months:
        raise ConfigError(field="freq", expected="M, Q or Y", got=freq)
    lo, hi = as_date(start), as_date(end)
    days = sessions(lo, dt.date(hi.year + 1, 1, 31), name)
    out: list[dt.date] = []
    step = months[freq]
    for a, b in itertools.pairwise(days):
        da, db = a.astype(object), b.astype(object)
        if da.month != db.month and da.month % step == 0 and lo <= da <= hi:
            out.append(da)
    return out


def third_fridays(
    start: dt.date | str,
    end: dt.date | str,
    months: tuple[int, ...] = tuple(range(1, 13)),
    name: str = DEFAULT_CALENDAR,
) -> list[dt.date]:
    """Return the third Friday of each listed month, moved to the session before if closed.

    Monthly equity option expiries (OPEX) use every month; S&P quarterly rebalances and
    quarterly expiries use ``months=(3, 6, 9, 12)``.

    Examples
    --------
    >>> third_fridays("2019-01-01", "2019-06-30", months=(3, 4, 6))
    [datetime.date(2019, 3, 15), datetime.date(2019, 4, 18), datetime.date(2019, 6, 21)]
    """
    lo, hi = as_date(start), as_date(end)
    out: list[dt.date] = []
    for year in range(lo.year, hi.year + 1):
        for month in months:
            first = dt.date(year, month, 1)
            friday = first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
            if not lo <= friday <= hi:
                continue
            window = sessions(friday - dt.timedelta(days=7), friday, name)
            out.append(window[-1].astype(object))
    return out


def shift_sessions(date: dt.date | str, n: int, name: str = DEFAULT_CALENDAR) -> dt.date:
    """Return the session ``n`` sessions after (``n > 0``) or before (``n < 0``) ``date``.

    ``n = 0`` returns ``date`` if it is a session, else the next session.

    Examples
    --------
    >>> shift_sessions("2024-03-28", 1)  # over Good Friday
    datetime.date(2024, 4, 1)
    >>> shift_sessions("2024-04-01", -1)
    datetime.date(2024, 3, 28)
    """
    day = as_date(date)
    pad = dt.timedelta(days=abs(n) * 2 + 14)
    days = sessions(day - pad, day + pad, name)
    target = np.datetime64(day, "D")
    i = int(np.searchsorted(days, target))
    if n < 0:
        return days[i + n].astype(object)  # type: ignore[no-any-return]
    if i < len(days) and days[i] == target:
        return days[i + n].astype(object)  # type: ignore[no-any-return]
    return days[i + max(n - 1, 0)].astype(object)  # type: ignore[no-any-return]


def last_sessions(period_end: dt.date | str, n: int, name: str = DEFAULT_CALENDAR) -> list[dt.date]:
    """Return the last ``n`` sessions up to and including ``period_end`` (a rebalancing window).

    Examples
    --------
    >>> last_sessions("2024-03-28", 3)
    [datetime.date(2024, 3, 26), datetime.date(2024, 3, 27), datetime.date(2024, 3, 28)]
    """
    day = as_date(period_end)
    days = sessions(day - dt.timedelta(days=n * 2 + 14), day, name)
    return [d.astype(object) for d in days[-n:]]
