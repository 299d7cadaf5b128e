r"""The flow calendar: every known-date mechanical flow in a date range, sized where possible.

Rows have the mechanics layer's event columns (``date, family, asset_id, dollars, shares,
days_of_adv, notes``) plus ``window_start``, ``window_end`` and ``status`` (``"sized"`` when
``dollars`` is known, else ``"unsized"``). Families:

- ``month_end``, ``quarter_end``, ``year_end``: the last ``rebalance_sessions`` sessions of
  each period (one row dated the period's last session). Sized with
  :math:`W w_e w_b (r_b - r_e)` over the month when ``prices`` and ``rebalance_aum`` are
  given and the month is in the data.
- ``opex`` (monthly third Fridays) and ``quarterly_expiry`` (Mar/Jun/Sep/Dec): sized with the
  dealers' expiring hedge flow when an ``options`` chain is given.
- ``index_rebalance``: S&P quarterly rebalance trade dates (unsized); ``index_event`` rows
  from an ``index_events`` panel are sized by the mechanics layer.
- ``buyback_blackout``: from ``earnings_date`` of a ``buybacks`` panel; ``buyback``: the
  expected open-window repurchases per asset and month when ``prices`` are given too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from flowpressure._errors import ConfigError
from flowpressure.mechanics._calendar_events import EVENT_COLUMNS, EVENT_SCHEMA
from flowpressure.pressure._common import as_date, require, to_polars

__all__ = ["CALENDAR_COLUMNS", "flow_calendar"]

#: Columns of a flow calendar, in order.
CALENDAR_COLUMNS: tuple[str, ...] = (*EVENT_COLUMNS, "window_start", "window_end", "status")


def _frame(rows: list[dict[str, Any]], family: str) -> pl.DataFrame:
    from flowpressure.mechanics import make_events

    if not rows:
        return _with_windows(make_events(pl.DataFrame(schema={"date": pl.Date}), family), [])
    base = pl.DataFrame(rows)
    events = make_events(base.drop("window_start", "window_end"), family)
    return _with_windows(events, rows)


def _with_windows(events: pl.DataFrame, rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return events.with_columns(
            window_start=pl.lit(None, dtype=pl.Date), window_end=pl.lit(None, dtype=pl.Date)
        )
    win = pl.DataFrame(
        {
            "date": [r["date"] for r in rows],
            "asset_id": [r["asset_id"] for r in rows],
            "window_start": [r["window_start"] for r in rows],
            "window_end": [r["window_end"] for r in rows],
        },
        schema={
            "date": pl.Date,
            "asset_id": pl.String,
            "window_start": pl.Date,
            "window_end": pl.Date,
        },
    ).unique(["date", "asset_id"], keep="first", maintain_order=True)
    return events.join(win, on=["date", "asset_id"], how="left")


def _period_drift(prices: pl.DataFrame, equity: str, bond: str) -> dict[tuple[int, int], float]:
    """Month (year, month) → r_b − r_e from total returns, for months fully in the data."""
    from flowpressure.data import adjusted_returns

    both = (
        adjusted_returns(prices.filter(pl.col("asset_id").is_in([equity, bond])))
        .filter(pl.col("ret_total").is_not_null())
        .group_by(
            "asset_id", pl.col("date").dt.year().alias("y"), pl.col("date").dt.month().alias("m")
        )
        .agg(((1 + pl.col("ret_total")).product() - 1).alias("r"))
    )
    e = both.filter(asset_id=equity).select("y", "m", pl.col("r").alias("re"))
    b = both.filter(asset_id=bond).select("y", "m", pl.col("r").alias("rb"))
    joined = e.join(b, on=["y", "m"])
    return {(y, m): rb - re for y, m, re, rb in joined.select("y", "m", "re", "rb").rows()}


def flow_calendar(
    start: dt.date | str,
    end: dt.date | str,
    *,
    rebalance_sessions: int = 5,
    prices: Any = None,
    buybacks: Any = None,
    index_events: Any = None,
    options: Any = None,
    rebalance_aum: float | None = None,
    equity: str = "SPX",
    bond: str = "AGG_TR",
    w_equity: float = 0.6,
    blackout_days: int = 30,
    reopen_sessions: int = 1,
    calendar: str = "XNYS",
) -> pl.DataFrame:
    r"""Every known-date mechanical flow from ``start`` to ``end``, sized where inputs allow.

    Parameters
    ----------
    start, end
        Date range (inclusive).
    rebalance_sessions
        Length N of the month/quarter/year-end rebalancing window (last N sessions).
    prices
        Prices panel: sizes month-end rebalancing (with ``rebalance_aum``), buybacks and
        index events (shares, days of ADV).
    buybacks
        ``buybacks`` panel: blackout windows from ``earnings_date``; with ``prices`` the
        expected repurchases.
    index_events
        ``index_events`` panel: sized index demand (mechanics layer).
    options
        An options chain: sizes the expiring dealer hedge flow on expiry dates.
    rebalance_aum
        Dollars following a fixed ``w_equity`` equity / bond mix, rebalanced each month end.
    equity, bond
        ``asset_id`` of the equity and bond legs in ``prices``.
    w_equity
        Target equity weight of the mix.
    blackout_days, reopen_sessions
        Buyback blackout from ``blackout_days`` calendar days before earnings to the
        ``reopen_sessions``-th session after.
    calendar
        Exchange calendar.

    Returns
    -------
    polars.DataFrame
        Columns :data:`CALENDAR_COLUMNS`, sorted by date, family and asset.

    Raises
    ------
    ConfigError
        ``end`` before ``start``, ``rebalance_sessions`` < 1, ``w_equity`` not in (0, 1).

    Notes
    -----
    Month-end rebalancing of value :math:`W` in a mix :math:`(w_e, w_b)` after the month's
    returns :math:`r_e, r_b`: :math:`\text{trade}_e = W w_e w_b (r_b - r_e)` (+ = buying
    equities).

    Examples
    --------
    >>> cal = flow_calendar("2024-03-01", "2024-03-31")
    >>> cal.select("date", "family", "status").rows()  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.date(2024, 3, 15), 'index_rebalance', 'unsized'),
     (datetime.date(2024, 3, 15), 'quarterly_expiry', 'unsized'),
     (datetime.date(2024, 3, 28), 'quarter_end', 'unsized')]
    """
    from flowpressure.data import last_sessions, period_end_sessions, shift_sessions, third_fridays
    from flowpressure.mechanics import (
        buyback_events,
        gex_events,
        index_demand_events,
        sp500_rebalance_dates,
    )

    lo, hi = as_date(start, "start"), as_date(end, "end")
    assert lo is not None
    assert hi is not None
    if hi < lo:
        raise ConfigError(field="end", expected=f"a date on or after start {lo}", got=hi)
    if rebalance_sessions < 1:
        raise ConfigError(
            field="rebalance_sessions", expected="sessions >= 1", got=rebalance_sessions
        )
    if not 0.0 < w_equity < 1.0:
        raise ConfigError(field="w_equity", expected="a weight in (0, 1)", got=w_equity)
    px = to_polars(prices) if prices is not None else None
    parts: list[pl.DataFrame] = []

    # Month / quarter / year-end rebalancing windows.
    drift: dict[tuple[int, int], float] = {}
    if px is not None and rebalance_aum is not None:
        drift = _period_drift(px, equity, bond)
    w_b = 1.0 - w_equity
    by_family: dict[str, list[dict[str, Any]]] = {
        "month_end": [],
        "quarter_end": [],
        "year_end": [],
    }
    for day in period_end_sessions(lo, hi, "M", calendar):
        fam = (
            "year_end" if day.month == 12 else "quarter_end" if day.month % 3 == 0 else "month_end"
        )
        window = last_sessions(day, rebalance_sessions, calendar)
        d = drift.get((day.year, day.month))
        dollars = None
        note = f"{fam.replace('_', '-')} rebalancing window: last {rebalance_sessions} sessions"
        if d is not None and rebalance_aum is not None:
            dollars = rebalance_aum * w_equity * w_b * d
            note += (
                f"; {w_equity:.0%}/{w_b:.0%} mix of {rebalance_aum:,.0f} after the month's "
                f"{equity}/{bond} returns: W*we*wb*(rb-re)"
            )
        elif rebalance_aum is not None:
            note += "; unsized: the month's returns are not in the prices"
        by_family[fam].append(
            {
                "date": day,
                "asset_id": equity,
                "dollars": dollars,
                "notes": note,
                "window_start": window[0],
                "window_end": day,
            }
        )
    parts += [_frame(rows, fam) for fam, rows in by_family.items()]

    # Option expiries.
    sized_expiry: dict[dt.date, tuple[float, float | None, str, float | None]] = {}
    underlying = "SPX"
    if options is not None:
        gx = gex_events(options, px)
        underlying = str(gx["asset_id"][0]) if gx.height else underlying
        for r in gx.iter_rows(named=True):
            sized_expiry[r["date"]] = (r["dollars"], r["days_of_adv"], r["notes"], r["shares"])
    why = (
        "no contract of the options chain expires then"
        if options is not None
        else ("no options chain")
    )
    quarterly = set(third_fridays(lo, hi, (3, 6, 9, 12), calendar))
    exp_rows: dict[str, list[dict[str, Any]]] = {"opex": [], "quarterly_expiry": []}
    for day in third_fridays(lo, hi, tuple(range(1, 13)), calendar):
        fam = "quarterly_expiry" if day in quarterly else "opex"
        sized = sized_expiry.get(day)
        note = (
            "monthly option expiry (third Friday)"
            if fam == "opex"
            else ("quarterly expiry of options and futures (third Friday of Mar/Jun/Sep/Dec)")
        )
        exp_rows[fam].append(
            {
                "date": day,
                "asset_id": underlying,
                "dollars": sized[0] if sized else None,
                "shares": sized[3] if sized else None,
                "days_of_adv": sized[1] if sized else None,
                "notes": note + ("; " + sized[2] if sized else f"; unsized: {why}"),
                "window_start": day,
                "window_end": day,
            }
        )
    parts += [_frame(rows, fam) for fam, rows in exp_rows.items()]

    # Index rebalances and events.
    rows = []
    for day in sp500_rebalance_dates(lo, hi, calendar):
        rows.append(
            {
                "date": day,
                "asset_id": "SPX",
                "dollars": None,
                "notes": "S&P 500 quarterly rebalance: index funds trade at this close; unsized "
                "without the changes (index_events)",
                "window_start": day,
                "window_end": shift_sessions(day, 1, calendar),
            }
        )
    parts.append(_frame(rows, "index_rebalance"))
    if index_events is not None:
        ie = index_demand_events(index_events, prices)
        ie = ie.filter((pl.col("date") >= lo) & (pl.col("date") <= hi))
        parts.append(ie.with_columns(window_start=pl.col("date"), window_end=pl.col("date")))

    # Buybacks.
    if buybacks is not None:
        bb = to_polars(buybacks)
        require(bb, "buybacks panel", "asset_id", "date")
        rows = []
        if "earnings_date" in bb.columns:
            for asset, earn in (
                bb.select("asset_id", "earnings_date")
                .drop_nulls()
                .unique()
                .sort("earnings_date", "asset_id")
                .rows()
            ):
                first = shift_sessions(earn - dt.timedelta(days=blackout_days), 0, calendar)
                last = shift_sessions(earn, reopen_sessions, calendar)
                if first > hi or last < lo:
                    continue
                rows.append(
                    {
                        "date": first,
                        "asset_id": asset,
                        "dollars": None,
                        "notes": f"buyback blackout to earnings {earn.isoformat()} "
                        f"(+{reopen_sessions} session): no corporate bid",
                        "window_start": first,
                        "window_end": last,
                    }
                )
        parts.append(_frame(rows, "buyback_blackout"))
        if px is not None:
            daily = buyback_events(bb, px).filter((pl.col("date") >= lo) & (pl.col("date") <= hi))
            if daily.height:
                monthly = (
                    daily.with_columns(_m=pl.col("date").dt.truncate("1mo"))
                    .group_by("asset_id", "_m")
                    .agg(
                        pl.col("date").min().alias("date"),
                        pl.col("dollars").sum(),
                        pl.col("shares").sum(),
                        pl.col("days_of_adv").sum(),
                        pl.col("notes").first(),
                        pl.col("date").min().alias("window_start"),
                        pl.col("date").max().alias("window_end"),
                    )
                    .with_columns(
                        family=pl.lit("buyback"),
                        notes=pl.lit("open-window repurchases this month; ") + pl.col("notes"),
                    )
                )
                parts.append(monthly.select(*CALENDAR_COLUMNS[:-1]))

    schema = {**EVENT_SCHEMA, "window_start": pl.Date, "window_end": pl.Date}
    out = pl.concat([p.select(*CALENDAR_COLUMNS[:-1]).cast(schema) for p in parts])  # type: ignore[arg-type]
    return (
        out.with_columns(
            status=pl.when(pl.col("dollars").is_null())
            .then(pl.lit("unsized"))
            .otherwise(pl.lit("sized"))
        )
        .sort("date", "family", "asset_id", maintain_order=True)
        .select(*CALENDAR_COLUMNS)
    )
