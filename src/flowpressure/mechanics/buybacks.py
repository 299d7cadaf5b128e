r"""Buybacks: trailing yield, share-count reduction and expected daily demand under Rule 10b-18.

A company's repurchases are reported per fiscal period; the market meets them as daily
demand on the sessions its trading window is open. This module measures the trailing
buyback yield and spreads each period's repurchases (and the run rate of the next period)
over the open sessions, never above the Rule 10b-18 safe-harbour volume cap.

Assumptions (all parameters):

- **Blackout**: the window closes ``blackout_days`` calendar days before each earnings date
  and reopens after ``reopen_sessions`` sessions following it (default: 30 days before, open
  again on the second session after). A period without open sessions spreads over all.
- **Rule 10b-18 cap**: purchases on a day are at most ``cap`` (25 %) of the ADTV, the average
  daily share volume over the four calendar weeks before the week of the purchase. What the
  cap leaves unbought is moved to other open days of the period (equal dollars per day up to
  each day's cap, "water-filling"); what no day can take is reported as ``unfilled``.
- **Projection**: the period after the last one reported (up to ``as_of``) repeats the mean
  repurchases of the last ``trailing`` periods; sessions after the data use the last close
  and the ADTV of the 28 calendar days ending at the last session; the next earnings date
  after the last known one is estimated one period later.
- A row's repurchases are taken as known at its period end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
from numpy.typing import NDArray

from flowpressure._errors import ConfigError, DataError, SchemaError
from flowpressure.data import DEFAULT_CALENDAR, sessions
from flowpressure.data import validate as _validate
from flowpressure.mechanics._asset_series import as_date, require_columns, to_polars
from flowpressure.mechanics._calendar_events import make_events

__all__ = [
    "BuybackDemand",
    "buyback_demand",
    "buyback_events",
    "buyback_yield",
    "rule_10b18_adtv",
    "water_fill",
]

F64 = NDArray[np.float64]
D64 = NDArray[np.datetime64]


def water_fill(amount: float, caps: F64) -> F64:
    r"""Spread ``amount`` in equal parts over days, none above its cap.

    Returns the allocation; it sums to ``min(amount, caps.sum())``.

    Notes
    -----
    .. math:: x_d = \min(c_d, \lambda), \qquad \sum_d x_d = \min\left(A, \sum_d c_d\right)

    Examples
    --------
    >>> water_fill(10.0, np.array([1.0, 5.0, 5.0])).tolist()
    [1.0, 4.5, 4.5]
    >>> water_fill(20.0, np.array([1.0, 5.0])).tolist()
    [1.0, 5.0]
    """
    caps = np.asarray(caps, dtype=np.float64)
    n = caps.size
    if n == 0:
        return caps.copy()
    if amount >= caps.sum():
        return caps.copy()
    c = np.sort(caps)
    spent = np.r_[0.0, np.cumsum(c)[:-1]]
    level = (amount - spent) / (n - np.arange(n))
    j = int(np.argmax(c >= level))
    out: F64 = np.minimum(caps, level[j])
    return out


def rule_10b18_adtv(prices: Any, assets: list[str] | None = None) -> pl.DataFrame:
    """Rule 10b-18 ADTV of each session: mean share volume over the four calendar weeks before.

    Parameters
    ----------
    prices
        Long prices panel with ``volume``.
    assets
        Assets wanted (default all).

    Returns
    -------
    polars.DataFrame
        ``asset_id, date, close, volume, adtv_shares``; ``adtv_shares`` is null when the
        asset's data do not reach back four full calendar weeks before the week.

    Notes
    -----
    For a session in the week starting Monday :math:`W`, the ADTV is the mean volume of the
    asset's sessions in :math:`[W - 28, W - 1]` (calendar days).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(40)]
    >>> days = [d for d in days if d.weekday() < 5]
    >>> df = pl.DataFrame({"asset_id": "A", "date": days, "close": 10.0,
    ...                    "volume": [float(i) for i in range(len(days))]})
    >>> rule_10b18_adtv(df).filter(pl.col("date") == dt.date(2024, 2, 5))["adtv_shares"].item()
    14.5
    """
    names = list(nw.from_native(prices).collect_schema().names())
    require_columns(names, ("asset_id", "date", "close", "volume"), "prices panel")
    where = nw.col("asset_id").is_in(assets) if assets is not None else None
    df = to_polars(prices, ["asset_id", "date", "close", "volume"], where)
    df = df.with_columns(_week=pl.col("date") - pl.duration(days=pl.col("date").dt.weekday() - 1))
    weekly = df.group_by("asset_id", "_week").agg(
        pl.col("volume").sum().alias("_v"), pl.col("volume").count().alias("_n")
    )
    lagged = pl.concat(
        [weekly.with_columns(pl.col("_week") + pl.duration(days=7 * k)) for k in (1, 2, 3, 4)]
    )
    window = lagged.group_by("asset_id", "_week").agg(pl.col("_v").sum(), pl.col("_n").sum())
    first = df.group_by("asset_id").agg(pl.col("date").min().alias("_first"))
    out = (
        df.join(window, on=["asset_id", "_week"], how="left")
        .join(first, on="asset_id")
        .with_columns(
            adtv_shares=pl.when(pl.col("_first") <= pl.col("_week") - pl.duration(days=28)).then(
                pl.col("_v") / pl.col("_n")
            )
        )
        .select("asset_id", "date", "close", "volume", "adtv_shares")
        .sort("asset_id", "date")
    )
    return out


def _read_buybacks(buybacks: Any, as_of: dt.date | None) -> pl.DataFrame:
    df = to_polars(_validate(buybacks, "buybacks"))
    if as_of is not None:
        df = df.filter(pl.col("date") <= as_of)
    if df.height == 0:
        raise DataError(field="date", expected="buyback rows up to the as-of date", got=as_of)
    return df.sort("asset_id", "date")


def buyback_yield(buybacks: Any, prices: Any = None, *, trailing: int = 4) -> pl.DataFrame:
    r"""Trailing buyback yield, net of issuance, and the share-count reduction, per period.

    Parameters
    ----------
    buybacks
        ``buybacks`` panel (``asset_id, date, repurchases``, optional ``issuance,
        shares_outstanding, market_cap``), validated here.
    prices
        Optional prices panel: gives the market cap when ``market_cap`` is missing
        (``shares_outstanding`` × the last close on or before the period end) and the split
        factors that make share counts comparable.
    trailing
        Periods summed (4 quarters = one year).

    Returns
    -------
    polars.DataFrame
        ``asset_id, date, repurchases, issuance, repurchases_ttm, issuance_ttm, market_cap,
        buyback_yield, net_buyback_yield, shares_outstanding, share_reduction``; trailing
        columns are null for the first ``trailing - 1`` periods of each asset.

    Raises
    ------
    SchemaError
        Neither ``market_cap`` nor ``shares_outstanding`` with ``prices``.

    Notes
    -----
    .. math::

        y_t = \frac{\sum_{k<n} R_{t-k}}{M_t}, \qquad
        y^{net}_t = \frac{\sum_{k<n} (R_{t-k} - I_{t-k})}{M_t}, \qquad
        \text{reduction}_t = 1 - \frac{S_t}{S_{t-n}\,\prod s}

    with :math:`\prod s` the split factors between the two period ends.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> df = pl.DataFrame({"asset_id": "A", "date": [dt.date(2023, 3, 31), dt.date(2023, 6, 30)],
    ...                    "repurchases": [1e6, 3e6], "issuance": [0.0, 1e6],
    ...                    "shares_outstanding": [1e6, 0.98e6], "market_cap": [1e8, 1e8]})
    >>> row = buyback_yield(df, trailing=1).select("buyback_yield", "net_buyback_yield",
    ...                                            "share_reduction").row(1)
    >>> [round(x, 6) for x in row]
    [0.03, 0.02, 0.02]
    """
    if trailing < 1:
        raise ConfigError(field="trailing", expected="periods >= 1", got=trailing)
    df = _read_buybacks(buybacks, None)
    if "issuance" not in df.columns:
        df = df.with_columns(issuance=pl.lit(None, dtype=pl.Float64))
    px: pl.DataFrame | None = None
    if prices is not None:
        assets = df["asset_id"].unique().to_list()
        names = list(nw.from_native(prices).collect_schema().names())
        keep = [c for c in ("asset_id", "date", "close", "split_factor") if c in names]
        px = to_polars(prices, keep, nw.col("asset_id").is_in(assets)).sort("asset_id", "date")
        if "split_factor" not in px.columns:
            px = px.with_columns(split_factor=pl.lit(1.0))
        px = px.with_columns(_cum=pl.col("split_factor").fill_null(1.0).cum_prod().over("asset_id"))
        # Sorted by (asset_id, date) on both sides: the as-of join is valid per asset.
        df = df.sort("asset_id", "date").join_asof(
            px.select("asset_id", "date", "close", "_cum"),
            on="date",
            by="asset_id",
            strategy="backward",
            check_sortedness=False,
        )
    if "market_cap" not in df.columns:
        if "shares_outstanding" not in df.columns or px is None:
            raise SchemaError(
                "buybacks panel: give market_cap, or shares_outstanding with prices",
                field="market_cap",
                expected="market_cap, or shares_outstanding and a prices panel",
            )
        df = df.with_columns(market_cap=pl.col("shares_outstanding") * pl.col("close"))
    n = trailing
    out = df.with_columns(
        repurchases_ttm=pl.col("repurchases").rolling_sum(n, min_samples=n).over("asset_id"),
        issuance_ttm=pl.col("issuance").rolling_sum(n, min_samples=n).over("asset_id"),
    ).with_columns(
        buyback_yield=pl.col("repurchases_ttm") / pl.col("market_cap"),
        net_buyback_yield=(pl.col("repurchases_ttm") - pl.col("issuance_ttm").fill_null(0.0))
        / pl.col("market_cap"),
    )
    if "shares_outstanding" in out.columns:
        split = (
            pl.col("_cum") / pl.col("_cum").shift(n).over("asset_id")
            if "_cum" in out.columns
            else pl.lit(1.0)
        )
        prev = pl.col("shares_outstanding").shift(n).over("asset_id")
        out = out.with_columns(share_reduction=1.0 - pl.col("shares_outstanding") / (prev * split))
    else:
        out = out.with_columns(
            shares_outstanding=pl.lit(None, dtype=pl.Float64),
            share_reduction=pl.lit(None, dtype=pl.Float64),
        )
    return out.select(
        "asset_id",
        "date",
        "repurchases",
        "issuance",
        "repurchases_ttm",
        "issuance_ttm",
        "market_cap",
        "buyback_yield",
        "net_buyback_yield",
        "shares_outstanding",
        "share_reduction",
    )


@dataclass(frozen=True)
class BuybackDemand:
    """Expected buyback demand: one row per session (``daily``) and per period (``periods``).

    ``daily``: ``asset_id, date, period_end, estimated, open, close, adtv_shares,
    cap_shares, demand`` (dollars, + = buying), ``demand_shares, share_of_adv, at_cap``.

    ``periods``: ``asset_id, period_start`` (exclusive), ``period_end, estimated,
    repurchases, sessions, open_sessions, filled, unfilled, blackout, notes``.
    """

    daily: pl.DataFrame
    periods: pl.DataFrame
    as_of: dt.date
    params: dict[str, Any]


def _closed(days: D64, earnings: list[dt.date], before: int, reopen: int) -> NDArray[np.bool_]:
    closed = np.zeros(days.size, dtype=bool)
    for e in earnings:
        e64 = np.datetime64(e, "D")
        lo = e64 - np.timedelta64(before, "D")
        i = int(np.searchsorted(days, e64))  # first session on or after the earnings date
        # Closed through the ``reopen``-th session after the earnings day.
        on = i < days.size and days[i] == e64
        last = i + reopen if on else i + reopen - 1
        hi = days[min(last, days.size - 1)] if last >= 0 else lo
        closed |= (days >= lo) & (days <= hi)
    return closed


def buyback_demand(
    buybacks: Any,
    prices: Any,
    *,
    as_of: dt.date | str | None = None,
    cap: float = 0.25,
    blackout_days: int = 30,
    reopen_sessions: int = 1,
    trailing: int = 4,
    period_months: int = 3,
    project: bool = True,
    calendar: str = DEFAULT_CALENDAR,
) -> BuybackDemand:
    r"""Spread reported (and projected) repurchases over open sessions, capped by Rule 10b-18.

    Parameters
    ----------
    buybacks
        ``buybacks`` panel (``asset_id, date`` = fiscal period end, ``repurchases``,
        optional ``earnings_date``).
    prices
        Long prices panel with ``close`` and ``volume`` of the same assets.
    as_of
        Use data up to this date (default: the later of the last dates of ``prices`` and
        ``buybacks``).
    cap
        Safe-harbour share of ADTV (0.25).
    blackout_days, reopen_sessions
        Blackout from ``blackout_days`` calendar days before each earnings date through the
        ``reopen_sessions``-th session after it.
    trailing
        Periods averaged for the projected run rate.
    period_months
        Length of a fiscal period, for the start of each asset's first period and the
        projected one.
    project
        Add the period after the last one reported, marked ``estimated``.
    calendar
        Exchange calendar of the projected sessions.

    Returns
    -------
    BuybackDemand

    Raises
    ------
    DataError
        A session to size has no Rule 10b-18 ADTV (fewer than four weeks of volume before
        it: "missing ADV"), or an asset has no prices.

    Notes
    -----
    On the open sessions :math:`d` of period :math:`p` with repurchases :math:`R_p`:

    .. math::

        x_d = \min(c_d, \lambda_p), \quad c_d = \text{cap}\cdot ADTV_d \cdot P_d, \quad
        \sum_d x_d = \min\left(R_p, \sum_d c_d\right)

    so demand in shares :math:`x_d / P_d \le \text{cap}\cdot ADTV_d` on every day.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> out = buyback_demand(sample.load("buybacks").filter(asset_id="S01"), sample.load("prices"))
    >>> bool((out.daily["demand_shares"] <= out.daily["cap_shares"] * (1 + 1e-12)).all())
    True
    """
    if not 0.0 < cap <= 1.0:
        raise ConfigError(field="cap", expected="a fraction of ADTV in (0, 1]", got=cap)
    if blackout_days < 0 or reopen_sessions < 0:
        raise ConfigError(
            field="blackout_days" if blackout_days < 0 else "reopen_sessions",
            expected="a number >= 0",
            got=min(blackout_days, reopen_sessions),
        )
    if trailing < 1 or period_months < 1:
        raise ConfigError(field="trailing", expected="periods >= 1", got=trailing)
    end = as_date(as_of)
    names = list(nw.from_native(prices).collect_schema().names())
    require_columns(names, ("asset_id", "date", "close", "volume"), "prices panel")
    bb = _read_buybacks(buybacks, end)
    if end is None:
        # The later of the two panels' last dates (a period may end on a weekend).
        last = to_polars(prices, ["date"]).get_column("date").max()
        last_bb = bb["date"].max()
        assert isinstance(last, dt.date)
        assert isinstance(last_bb, dt.date)
        end = max(last, last_bb)
    assets = sorted(bb["asset_id"].unique().to_list())
    adtv = rule_10b18_adtv(prices, assets).filter(pl.col("date") <= end)
    have = set(adtv["asset_id"].unique().to_list())
    missing = [a for a in assets if a not in have]
    if missing:
        raise DataError(
            field="asset_id",
            key={"asset_id": missing[0]},
            expected="prices with volume for every buyback asset",
        )
    params = {
        "cap": cap,
        "blackout_days": blackout_days,
        "reopen_sessions": reopen_sessions,
        "trailing": trailing,
        "period_months": period_months,
    }
    dailies, periods = [], []
    for asset in assets:
        d, p = _asset_demand(
            bb.filter(pl.col("asset_id") == asset),
            adtv.filter(pl.col("asset_id") == asset),
            params,
            project=project,
            calendar=calendar,
        )
        dailies.append(d)
        periods.append(p)
    daily = pl.concat(dailies).sort("asset_id", "date")
    return BuybackDemand(
        daily=daily,
        periods=pl.concat(periods).sort("asset_id", "period_end"),
        as_of=end,
        params=params,
    )


def _shift_months(day: dt.date, months: int) -> dt.date:
    """Period-end arithmetic: the same day of month, clipped, or the month end for month ends."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (nxt - dt.timedelta(days=1)).day
    is_end = (day + dt.timedelta(days=1)).month != day.month
    return dt.date(year, month, last_day if is_end else min(day.day, last_day))


def _unfilled(amount: float, filled: float) -> float:
    gap = amount - filled
    return 0.0 if abs(gap) <= 1e-9 * max(abs(amount), 1.0) else gap


def _runs(days: D64, mask: NDArray[np.bool_]) -> str:
    """Contiguous runs of ``mask`` as ``first..last`` ranges of ``days``."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return ""
    breaks = np.flatnonzero(np.diff(idx) > 1)
    firsts = np.r_[idx[0], idx[breaks + 1]]
    lasts = np.r_[idx[breaks], idx[-1]]
    return ", ".join(f"{days[a]}..{days[b]}" for a, b in zip(firsts, lasts, strict=True))


def _asset_demand(
    bb: pl.DataFrame,
    px: pl.DataFrame,
    params: dict[str, Any],
    *,
    project: bool,
    calendar: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    asset = str(bb["asset_id"][0])
    months = int(params["period_months"])
    ends: list[dt.date] = bb["date"].to_list()
    amounts = bb["repurchases"].to_numpy().astype(np.float64)
    starts = [_shift_months(ends[0], -months), *ends[:-1]]
    estimated = [False] * len(ends)
    earnings: list[dt.date] = (
        [e for e in bb["earnings_date"].to_list() if e is not None]
        if "earnings_date" in bb.columns
        else []
    )
    notes_extra = "" if earnings else "no earnings dates: no blackout; "
    days: D64 = px["date"].to_numpy().astype("datetime64[D]")
    close = px["close"].to_numpy().astype(np.float64)
    adtv = px["adtv_shares"].fill_null(np.nan).to_numpy().astype(np.float64)
    if project:
        nxt = _shift_months(ends[-1], months)
        starts.append(ends[-1])
        ends.append(nxt)
        amounts = np.r_[amounts, amounts[-int(params["trailing"]) :].mean()]
        estimated.append(True)
        if len(ends) >= 3 and earnings:
            step = ends[-2] - ends[-3]
            earnings = [*earnings, earnings[-1] + step]
        last_px = days[-1].astype(object)  # sessions after the asset's data are projected
        future = sessions(last_px + dt.timedelta(days=1), nxt, calendar)
        if future.size:
            recent = px.filter(pl.col("date") > last_px - dt.timedelta(days=28))
            days = np.r_[days, future]
            close = np.r_[close, np.full(future.size, close[-1])]
            adtv = np.r_[adtv, np.full(future.size, float(recent["volume"].mean()))]  # type: ignore[arg-type]
    closed = _closed(days, earnings, int(params["blackout_days"]), int(params["reopen_sessions"]))
    cap_shares = float(params["cap"]) * adtv
    cap_dollars = cap_shares * close
    demand = np.zeros(days.size)
    period_end = np.full(days.size, np.datetime64("NaT"), dtype="datetime64[D]")
    is_open = ~closed
    est = np.zeros(days.size, dtype=bool)
    run_rate = f"run rate of the last {params['trailing']} periods"
    rows = []
    for k, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
        inside = (days > np.datetime64(lo, "D")) & (days <= np.datetime64(hi, "D"))
        period_end[inside] = np.datetime64(hi, "D")
        est[inside] = estimated[k]
        use = inside & is_open
        note = notes_extra
        if inside.any() and not use.any():
            use = inside
            note += "no open session: spread over all sessions; "
        idx = np.flatnonzero(use)
        bad = idx[np.isnan(cap_dollars[idx])] if amounts[k] > 0 else idx[:0]
        if bad.size:
            raise DataError(
                field="volume",
                key={"asset_id": asset, "date": days[bad[0]].astype(object)},
                expected="four calendar weeks of volume before the week (Rule 10b-18 ADTV)",
                got="missing ADV",
                others=int(bad.size - 1),
            )
        alloc = water_fill(float(amounts[k]), cap_dollars[idx]) if idx.size else idx * 0.0
        demand[idx] = alloc
        if not inside.any():
            note += "no session with prices in the period; "
        rows.append(
            {
                "asset_id": asset,
                "period_start": lo,
                "period_end": hi,
                "estimated": estimated[k],
                "repurchases": float(amounts[k]),
                "sessions": int(inside.sum()),
                "open_sessions": int((inside & is_open).sum()),
                "filled": float(alloc.sum()),
                "unfilled": _unfilled(float(amounts[k]), float(alloc.sum())),
                "blackout": _runs(days, inside & closed),
                "notes": note + (run_rate if estimated[k] else "reported"),
            }
        )
    keep = ~np.isnat(period_end)
    shares = demand / close
    daily = pl.DataFrame(
        {
            "asset_id": asset,
            "date": days[keep],
            "period_end": period_end[keep],
            "estimated": est[keep],
            "open": is_open[keep],
            "close": close[keep],
            "adtv_shares": adtv[keep],
            "cap_shares": cap_shares[keep],
            "demand": demand[keep],
            "demand_shares": shares[keep],
            "share_of_adv": (shares / adtv)[keep],
            "at_cap": (demand >= cap_dollars * (1.0 - 1e-12))[keep] & (demand[keep] > 0),
        }
    ).with_columns(pl.selectors.float().fill_nan(None))
    return daily, pl.DataFrame(rows)


def buyback_events(buybacks: Any, prices: Any, **kwargs: Any) -> pl.DataFrame:
    """Return the expected daily buyback demand as calendar events (family ``buyback``).

    Takes the arguments of :func:`buyback_demand`; days with no demand are left out.
    ``days_of_adv`` is the day's demand in shares over the Rule 10b-18 ADTV.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> ev = buyback_events(sample.load("buybacks").filter(asset_id="S01"), sample.load("prices"))
    >>> ev.columns
    ['date', 'family', 'asset_id', 'dollars', 'shares', 'days_of_adv', 'notes']
    """
    out = buyback_demand(buybacks, prices, **kwargs)
    p = out.params
    base = (
        f"buyback: period repurchases spread over open sessions; blackout {p['blackout_days']}d "
        f"before earnings to {p['reopen_sessions']} session(s) after; 10b-18 cap "
        f"{p['cap']:.0%} of ADTV"
    )
    frame = out.daily.filter(pl.col("demand") > 0).select(
        "date",
        "asset_id",
        pl.col("demand").alias("dollars"),
        pl.col("demand_shares").alias("shares"),
        pl.col("share_of_adv").alias("days_of_adv"),
        pl.when(pl.col("estimated"))
        .then(pl.lit(base + "; estimated from the run rate"))
        .otherwise(pl.lit(base + "; reported period"))
        .alias("notes"),
    )
    return make_events(frame, "buyback")
