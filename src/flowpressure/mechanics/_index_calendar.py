"""Calendars of scheduled index changes: S&P quarterly rebalances, Russell reconstitution.

Re-exported by :mod:`flowpressure.mechanics.index_events`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from flowpressure._errors import ConfigError, DataError
from flowpressure.data import DEFAULT_CALENDAR, sessions, shift_sessions
from flowpressure.data import third_fridays as _third_fridays
from flowpressure.mechanics._asset_series import to_date

__all__ = [
    "index_event_window",
    "index_rebalance_schedule",
    "russell_reconstitution_dates",
    "sp500_rebalance_dates",
]


def sp500_rebalance_dates(
    start: dt.date | str, end: dt.date | str, name: str = DEFAULT_CALENDAR
) -> list[dt.date]:
    """Trade dates of the S&P quarterly rebalance: third Friday of Mar/Jun/Sep/Dec.

    The funds trade at that close; the change is effective at the open of the next session.
    A holiday moves the date to the session before.

    Examples
    --------
    >>> sp500_rebalance_dates("2024-01-01", "2024-12-31")
    [datetime.date(2024, 3, 15), datetime.date(2024, 6, 21), datetime.date(2024, 9, 20), datetime.date(2024, 12, 20)]
    """  # noqa: E501
    return _third_fridays(start, end, months=(3, 6, 9, 12), name=name)


def russell_reconstitution_dates(
    start: dt.date | str,
    end: dt.date | str,
    *,
    months: tuple[int, ...] = (6,),
    nth_friday: int = 4,
    name: str = DEFAULT_CALENDAR,
) -> list[dt.date]:
    """Trade dates of the Russell reconstitution, configurable because the rule changes.

    The long-standing rule is the fourth Friday of June (the last Friday, unless that is the
    29th or 30th); pass ``months=(6, 12)`` for a semi-annual schedule or ``nth_friday=-1`` for
    the last Friday of the month. A holiday moves the date to the session before.

    Examples
    --------
    >>> russell_reconstitution_dates("2018-01-01", "2024-12-31")[:2]
    [datetime.date(2018, 6, 22), datetime.date(2019, 6, 28)]
    >>> russell_reconstitution_dates("2023-01-01", "2023-12-31", nth_friday=-1)
    [datetime.date(2023, 6, 30)]
    """
    lo, hi = to_date(start, "start"), to_date(end, "end")
    if nth_friday == 0 or not -1 <= nth_friday <= 5:
        raise ConfigError(field="nth_friday", expected="1..5, or -1 for the last", got=nth_friday)
    bad = [m for m in months if not 1 <= m <= 12]
    if bad:
        raise ConfigError(field="months", expected="months 1..12", got=bad[0])
    out: list[dt.date] = []
    for year in range(lo.year, hi.year + 1):
        for month in months:
            first = dt.date(year, month, 1)
            fridays = [
                d
                for d in (
                    first + dt.timedelta(days=(4 - first.weekday()) % 7 + 7 * k) for k in range(5)
                )
                if d.month == month
            ]
            if nth_friday > len(fridays):
                continue
            friday = fridays[-1] if nth_friday == -1 else fridays[nth_friday - 1]
            if not lo <= friday <= hi:
                continue
            window = sessions(friday - dt.timedelta(days=7), friday, name)
            out.append(window[-1].astype(object))
    return out


def index_rebalance_schedule(
    trade_dates: list[dt.date], announce_lead: int = 5, name: str = DEFAULT_CALENDAR
) -> pl.DataFrame:
    """Announcement, trade and effective dates for scheduled rebalances.

    Parameters
    ----------
    trade_dates
        Closes at which the funds trade (from :func:`sp500_rebalance_dates` or
        :func:`russell_reconstitution_dates`).
    announce_lead
        Sessions between the announcement and the trade date (S&P announces quarterly
        changes about a week ahead; a parameter, not a rule).
    name
        Exchange calendar.

    Returns
    -------
    polars.DataFrame
        ``announce_date, trade_date, effective_date`` (effective = the session after trade).

    Examples
    --------
    >>> index_rebalance_schedule(sp500_rebalance_dates("2024-03-01", "2024-03-31")).row(0)
    (datetime.date(2024, 3, 8), datetime.date(2024, 3, 15), datetime.date(2024, 3, 18))
    """
    if announce_lead < 0:
        raise ConfigError(field="announce_lead", expected="sessions >= 0", got=announce_lead)
    rows = [
        (
            shift_sessions(d, -announce_lead, name) if announce_lead else d,
            d,
            shift_sessions(d, 1, name),
        )
        for d in trade_dates
    ]
    return pl.DataFrame(
        rows,
        schema={"announce_date": pl.Date, "trade_date": pl.Date, "effective_date": pl.Date},
        orient="row",
    )


def index_event_window(
    announce_date: dt.date | str, effective_date: dt.date | str, name: str = DEFAULT_CALENDAR
) -> list[dt.date]:
    """Sessions from the announcement through the trade date (the close before effective).

    Raises
    ------
    DataError
        If ``effective_date`` is not after ``announce_date``.

    Examples
    --------
    >>> [d.isoformat() for d in index_event_window("2024-03-08", "2024-03-18")]
    ['2024-03-08', '2024-03-11', '2024-03-12', '2024-03-13', '2024-03-14', '2024-03-15']
    """
    ann, eff = to_date(announce_date, "announce_date"), to_date(effective_date, "effective_date")
    if eff <= ann:
        raise DataError(
            field="effective_date",
            expected=f"a date after the announcement {ann.isoformat()}",
            got=eff,
        )
    trade = shift_sessions(eff, -1, name)
    return [d.astype(object) for d in sessions(ann, trade, name)]
