"""Exchange calendars: sessions, time zones and session membership, cached per year range.

``exchange_calendars`` is imported lazily (it takes over a second to import) and calendars are
built with explicit bounds that cover whole years around the dates asked about.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from flowpressure._errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["DEFAULT_CALENDAR", "exchange_timezone", "non_sessions", "sessions"]

#: The calendar used when none is named: the New York Stock Exchange.
DEFAULT_CALENDAR = "XNYS"


@lru_cache(maxsize=32)
def _calendar(name: str, first_year: int, last_year: int) -> Any:
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
