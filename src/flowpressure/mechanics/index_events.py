r"""Index events: passive demand from additions, deletions and reweightings, and their calendars.

An index fund holding :math:`A` dollars tracks weights :math:`w`; when the index provider
changes the weights, the funds trade the difference at the close before the effective date.
Between the announcement and that close the old weights drift with returns, so

.. math::

    D_i = A\left(w^{new}_i - w^{old}_i \frac{1 + r_i}{1 + r_{index}}\right)

An addition (:math:`w^{old} = 0`) is :math:`A w^{new}`, roughly the passive ownership share
times the float-adjusted market cap. Demand is reported in dollars, in shares at the trade
close and in days of average daily volume (ADV over the window ending the session before the
announcement, DESIGN.md "Contract conventions").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.data import DEFAULT_CALENDAR, adjusted_returns, adv, shift_sessions
from flowpressure.data import validate as _validate
from flowpressure.mechanics._asset_series import fmt_money, require_columns, to_date, to_polars
from flowpressure.mechanics._calendar_events import make_events
from flowpressure.mechanics._index_calendar import (
    index_event_window,
    index_rebalance_schedule,
    russell_reconstitution_dates,
    sp500_rebalance_dates,
)

__all__ = [
    "demand_from_weights",
    "index_demand",
    "index_demand_events",
    "index_event_window",
    "index_rebalance_schedule",
    "russell_reconstitution_dates",
    "sp500_rebalance_dates",
]

F64 = NDArray[np.float64]


def demand_from_weights(
    indexed_assets: ArrayLike,
    w_old: ArrayLike,
    w_new: ArrayLike,
    r_asset: ArrayLike = 0.0,
    r_index: ArrayLike = 0.0,
) -> F64:
    r"""Passive demand (dollars, + = buy) for a weight change, broadcast over arrays.

    Parameters
    ----------
    indexed_assets
        Assets indexed to the benchmark, :math:`A`, in currency units.
    w_old, w_new
        Index weights (fractions) at the announcement and after the event.
    r_asset, r_index
        Simple returns of the asset and of the index from the announcement close to the
        trade close.

    Returns
    -------
    ndarray
        :math:`A(w^{new} - w^{old}(1+r_i)/(1+r_{index}))`, shaped as the broadcast inputs.

    Notes
    -----
    .. math:: D_i = A\left(w^{new}_i - w^{old}_i \frac{1 + r_i}{1 + r_{index}}\right)

    Across a complete reweighting (both weight vectors sum to 1) with
    :math:`r_{index} = \sum_i w^{old}_i r_i`, the demands sum to zero.

    Examples
    --------
    >>> float(demand_from_weights(1.5e12, 0.0, 0.01))  # an addition at 1 % of $1.5tn
    15000000000.0
    >>> demand_from_weights(1e9, [0.5, 0.5], [0.6, 0.4], [0.1, -0.1], 0.0).round(2).tolist()
    [50000000.0, -50000000.0]
    """
    a = np.asarray(indexed_assets, dtype=np.float64)
    wo = np.asarray(w_old, dtype=np.float64)
    wn = np.asarray(w_new, dtype=np.float64)
    ri = np.asarray(r_asset, dtype=np.float64)
    rx = np.asarray(r_index, dtype=np.float64)
    out: F64 = a * (wn - wo * (1.0 + ri) / (1.0 + rx))
    return out


# -------------------------------------------------------------------------------------- demand
def _event_kind(w_old: float, w_new: float) -> str:
    if w_old == 0.0:
        return "addition"
    if w_new == 0.0:
        return "deletion"
    return "reweight"


def _check_events(ev: pl.DataFrame, group: list[str], complete: bool, tolerance: float) -> None:
    both_zero = ev.filter((pl.col("w_old") == 0.0) & (pl.col("w_new") == 0.0)).sort(
        "asset_id", "effective_date"
    )
    if both_zero.height:
        row = both_zero.row(0, named=True)
        raise DataError(
            field="w_new",
            key={"asset_id": row["asset_id"], "effective_date": row["effective_date"]},
            expected="w_old or w_new > 0 (an event with both weights 0 changes nothing)",
            got=0.0,
            others=both_zero.height - 1,
        )
    early = ev.filter(pl.col("effective_date") <= pl.col("announce_date")).sort(
        "asset_id", "effective_date"
    )
    if early.height:
        row = early.row(0, named=True)
        raise DataError(
            field="effective_date",
            key={"asset_id": row["asset_id"], "effective_date": row["effective_date"]},
            expected=f"a session after announce_date {row['announce_date'].isoformat()}",
            got=row["effective_date"],
            others=early.height - 1,
        )
    sums = ev.group_by(group).agg(pl.col("w_old").sum(), pl.col("w_new").sum()).sort(group)
    for row in sums.iter_rows(named=True):
        key = {k: row[k] for k in group}
        for name in ("w_old", "w_new"):
            total = row[name]
            if complete and abs(total - 1.0) > tolerance:
                raise DataError(
                    field=name,
                    key=key,
                    expected=f"weights of a complete reweighting summing to 1 (within {tolerance})",
                    got=round(total, 12),
                )
            if total > 1.0 + tolerance:
                raise DataError(
                    field=name,
                    key=key,
                    expected="weights of one index summing to at most 1",
                    got=round(total, 12),
                )


def _indexed_assets(
    ev: pl.DataFrame, indexed_assets: float | Mapping[str, float] | None
) -> tuple[F64, list[str]]:
    """Return A per event and a note per event."""
    n = ev.height
    if indexed_assets is None:
        for name in ("float_mcap", "passive_share"):
            if name not in ev.columns:
                raise ConfigError(
                    f"give indexed_assets (A) or events with float_mcap and passive_share; "
                    f"the events lack {name!r}",
                    field="indexed_assets",
                    expected="a positive amount, or float_mcap and passive_share columns",
                )
            nulls = ev.with_row_index("_i").filter(pl.col(name).is_null())
            if nulls.height:
                row = nulls.row(0, named=True)
                raise DataError(
                    field=name,
                    key={"asset_id": row["asset_id"], "effective_date": row["effective_date"]},
                    expected="a value when indexed_assets is not given",
                    others=nulls.height - 1,
                )
        fm = ev["float_mcap"].to_numpy().astype(np.float64)
        ps = ev["passive_share"].to_numpy().astype(np.float64)
        wo = ev["w_old"].to_numpy().astype(np.float64)
        wn = ev["w_new"].to_numpy().astype(np.float64)
        w_ref = np.where(wn > 0.0, wn, wo)
        a = ps * fm / w_ref
        notes = [
            f"A = passive {p:.1%} x float cap {fmt_money(f)} / weight {w:.6f}"
            for p, f, w in zip(ps, fm, w_ref, strict=True)
        ]
        return a, notes
    if isinstance(indexed_assets, Mapping):
        if "index_id" not in ev.columns:
            raise ConfigError(
                field="indexed_assets",
                expected="one amount when the events have no index_id column",
                got=dict(indexed_assets),
            )
        ids = ev["index_id"].to_list()
        missing = sorted({i for i in ids if i not in indexed_assets})
        if missing:
            raise ConfigError(
                field="indexed_assets", expected=f"an amount for index {missing[0]!r}"
            )
        values = [float(indexed_assets[i]) for i in ids]
    else:
        values = [float(indexed_assets)] * n
    bad = [v for v in values if not np.isfinite(v) or v <= 0.0]
    if bad:
        raise ConfigError(
            field="indexed_assets", expected="a positive amount in currency units", got=bad[0]
        )
    return np.array(values, dtype=np.float64), [f"A = {fmt_money(v)}" for v in values]


def _window_returns(
    rets: pl.DataFrame, assets: list[str], start: list[dt.date], end: list[dt.date]
) -> tuple[F64, list[dt.date | None]]:
    """Compound ``ret`` of each (asset, (start, end]) window; also the last date used."""
    req = pl.DataFrame(
        {"_i": list(range(len(assets))), "asset_id": assets, "_lo": start, "_hi": end},
        schema={"_i": pl.Int64, "asset_id": pl.String, "_lo": pl.Date, "_hi": pl.Date},
    )
    joined = (
        req.join(rets, on="asset_id", how="left")
        .filter((pl.col("date") > pl.col("_lo")) & (pl.col("date") <= pl.col("_hi")))
        .group_by("_i")
        .agg((pl.col("ret").fill_null(0.0) + 1.0).product().alias("g"), pl.col("date").max())
    )
    out = req.select("_i").join(joined, on="_i", how="left").sort("_i")
    growth = out["g"].fill_null(1.0).to_numpy().astype(np.float64) - 1.0
    return growth, out["date"].to_list()


def index_demand(
    events: Any,
    prices: Any = None,
    *,
    indexed_assets: float | Mapping[str, float] | None = None,
    index_id: str | None = None,
    index_asset: str | None = None,
    adv_window: int = 20,
    complete: bool = False,
    tolerance: float = 1e-6,
    calendar: str = DEFAULT_CALENDAR,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    unpriced: Literal["raise", "keep"] = "raise",
) -> pl.DataFrame:
    r"""Passive demand per index event, in dollars, shares and days of ADV.

    Parameters
    ----------
    events
        ``index_events`` panel (``asset_id, announce_date, effective_date, w_old, w_new``,
        optional ``index_id, float_mcap, passive_share``), any frame narwhals accepts. It is
        validated (weights in [0, 1], session dates).
    prices
        Long prices panel (``asset_id, date, close, volume``, optional ``split_factor``,
        ``dividend``) for drift, shares and ADV. Without it, drift is ignored and
        ``demand_shares``/``days_of_adv`` are null.
    indexed_assets
        :math:`A`, the dollars indexed to the benchmark (one amount, or one per ``index_id``).
        When omitted, each event uses ``passive_share · float_mcap`` (float-cap mode):
        :math:`A_i = s_i F_i / w_i` with :math:`w_i` the new weight (the old one for a
        deletion), so an addition demands :math:`s_i F_i`.
    index_id
        Keep only the events of this index.
    index_asset
        Asset of ``prices`` holding the index level, for :math:`r_{index}`. Default: the
        event's ``index_id`` when that is an asset of ``prices``.
    adv_window
        Sessions of the ADV window, which ends the session before the announcement.
    complete
        The events of each (index, effective date) are a complete reweighting: each weight
        column must sum to 1 and :math:`r_{index} = \sum_i w^{old}_i r_i` is implied by the
        constituents.
    tolerance
        Tolerance of the weight sums.
    calendar
        Exchange calendar of the dates.
    start, end
        Keep only the events effective in ``[start, end]`` (a public change list spans
        decades; a prices file covers a few years).
    unpriced
        ``"raise"`` (default): an event whose asset has no price on or before its trade date,
        or fewer than ``adv_window`` sessions of volume before the announcement, is an error.
        ``"keep"``: such an event keeps its row, with the dollar demand without drift, null
        ``price, demand_shares, adv_shares, days_of_adv`` and a note saying why (not with
        ``complete``).

    Returns
    -------
    polars.DataFrame
        One row per event, sorted by trade date and asset: ``index_id`` (when given),
        ``asset_id, kind`` (addition/deletion/reweight), ``announce_date, effective_date,
        trade_date, w_old, w_new, indexed_assets, r_asset, r_index, demand`` (dollars, + =
        buy), ``price`` (trade close), ``demand_shares, adv_shares, days_of_adv, notes``.

    Raises
    ------
    SchemaError
        A required column is missing.
    DataError
        A weight is outside [0, 1]; weights of one index sum above 1 (or, with ``complete``,
        not to 1); the effective date is not after the announcement; an asset has no price
        on or before its trade date; fewer than ``adv_window`` sessions of volume end at the
        session before the announcement ("missing ADV").
    ConfigError
        A bad parameter, or neither ``indexed_assets`` nor float-cap columns.

    Notes
    -----
    .. math::

        D_i = A\left(w^{new}_i - w^{old}_i \frac{1 + r_i}{1 + r_{index}}\right), \quad
        \text{shares}_i = D_i / P_i, \quad
        \text{days of ADV}_i = |\text{shares}_i| / \text{ADV}_i

    :math:`r_i` and :math:`r_{index}` compound the split-adjusted price returns from the
    announcement close to the trade close (the close before ``effective_date``), or to the
    last close of ``prices`` when the event is still ahead.

    Examples
    --------
    A $50bn float cap added with a 30 % passive share:

    >>> import datetime as dt, polars as pl
    >>> ev = pl.DataFrame({"asset_id": ["NEW"], "announce_date": [dt.date(2024, 3, 8)],
    ...                    "effective_date": [dt.date(2024, 3, 18)], "w_old": [0.0],
    ...                    "w_new": [0.001], "float_mcap": [50e9], "passive_share": [0.30]})
    >>> index_demand(ev).select("kind", "trade_date", "demand").row(0)
    ('addition', datetime.date(2024, 3, 15), 15000000000.0)
    """
    if adv_window < 1:
        raise ConfigError(field="adv_window", expected="sessions >= 1", got=adv_window)
    if not tolerance >= 0.0:
        raise ConfigError(field="tolerance", expected="a number >= 0", got=tolerance)
    if unpriced not in ("raise", "keep"):
        raise ConfigError(field="unpriced", expected="raise or keep", got=unpriced)
    if unpriced == "keep" and complete:
        raise ConfigError(
            field="unpriced",
            expected="'raise' with complete (r_index is implied by every constituent)",
            got=unpriced,
        )
    ev = to_polars(_validate(events, "index_events", calendar=calendar))
    ev = _date_range(ev, start, end)
    if index_id is not None:
        if "index_id" not in ev.columns:
            raise ConfigError(
                field="index_id", expected="events with an index_id column", got=index_id
            )
        ev = ev.filter(pl.col("index_id") == index_id)
        if ev.height == 0:
            raise DataError(field="index_id", expected="events of that index", got=index_id)
    group = ["index_id", "effective_date"] if "index_id" in ev.columns else ["effective_date"]
    _check_events(ev, group, complete, tolerance)
    ev = ev.sort("effective_date", "asset_id")
    n = ev.height
    a, a_notes = _indexed_assets(ev, indexed_assets)

    ann: list[dt.date] = ev["announce_date"].to_list()
    eff: list[dt.date] = ev["effective_date"].to_list()
    assets: list[str] = ev["asset_id"].to_list()
    trade = [shift_sessions(d, -1, calendar) for d in eff]
    adv_day = [shift_sessions(d, -1, calendar) for d in ann]
    w_old = ev["w_old"].to_numpy().astype(np.float64)
    w_new = ev["w_new"].to_numpy().astype(np.float64)
    idx_ids: list[str | None] = ev["index_id"].to_list() if "index_id" in ev.columns else [None] * n

    r_asset = np.zeros(n)
    r_index = np.zeros(n)
    price = np.full(n, np.nan)
    adv_shares = np.full(n, np.nan)
    notes = [f"{k}; " for k in map(_event_kind, w_old, w_new)]
    if prices is not None:
        why = (
            _unpriced(prices, assets, trade, adv_day, adv_window)
            if unpriced == "keep"
            else [None] * n
        )
        ok = [i for i in range(n) if why[i] is None]
        drift_notes = [f"not priced: {w}; drift ignored, no shares or ADV" for w in why]
        if ok:
            sub = _market_inputs(
                prices,
                ev.select(pl.all().gather(ok)),
                [trade[i] for i in ok],
                [adv_day[i] for i in ok],
                [idx_ids[i] for i in ok],
                group,
                index_asset=index_asset,
                adv_window=adv_window,
                complete=complete,
            )
            for arr, got in zip((r_asset, r_index, price, adv_shares), sub[:4], strict=True):
                arr[ok] = got
            for i, text in zip(ok, sub[4], strict=True):
                drift_notes[i] = text
        notes = [a + b for a, b in zip(notes, drift_notes, strict=True)]
    else:
        notes = [s + "no prices: drift ignored, no shares or ADV" for s in notes]
    demand = demand_from_weights(a, w_old, w_new, r_asset, r_index)
    shares = demand / price
    days = np.abs(shares) / adv_shares
    notes = [f"{s}; {an}" for s, an in zip(notes, a_notes, strict=True)]
    out = {
        **({"index_id": idx_ids} if "index_id" in ev.columns else {}),
        "asset_id": assets,
        "kind": [_event_kind(o, w) for o, w in zip(w_old, w_new, strict=True)],
        "announce_date": ann,
        "effective_date": eff,
        "trade_date": trade,
        "w_old": w_old,
        "w_new": w_new,
        "indexed_assets": a,
        "r_asset": r_asset,
        "r_index": r_index,
        "demand": demand,
        "price": price,
        "demand_shares": shares,
        "adv_shares": adv_shares,
        "days_of_adv": days,
        "notes": notes,
    }
    frame = pl.DataFrame(out).with_columns(pl.selectors.float().fill_nan(None))
    return frame.sort("trade_date", "asset_id", maintain_order=True)


def _date_range(
    ev: pl.DataFrame, start: dt.date | str | None, end: dt.date | str | None
) -> pl.DataFrame:
    """Keep the events effective in [start, end]; refuse an empty or inverted range."""
    lo = to_date(start, "start") if start is not None else None
    hi = to_date(end, "end") if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise ConfigError(field="end", expected=f"a date on or after start {lo}", got=hi)
    if lo is not None:
        ev = ev.filter(pl.col("effective_date") >= lo)
    if hi is not None:
        ev = ev.filter(pl.col("effective_date") <= hi)
    if ev.height == 0 and (lo is not None or hi is not None):
        raise DataError(
            field="effective_date",
            expected=f"events effective in {lo or '...'}..{hi or '...'}",
            got="none",
        )
    return ev


def _unpriced(
    prices: Any,
    assets: list[str],
    trade: list[dt.date],
    adv_day: list[dt.date],
    window: int,
) -> list[str | None]:
    """Why each event cannot be priced (``None`` when it can), as :func:`adv` would count."""
    import narwhals as nw

    names = list(nw.from_native(prices).collect_schema().names())
    require_columns(names, ("asset_id", "date", "close", "volume"), "prices panel")
    panel = to_polars(
        prices, ["asset_id", "date", "volume"], nw.col("asset_id").is_in(sorted(set(assets)))
    )
    req = pl.DataFrame(
        {"_i": list(range(len(assets))), "asset_id": assets, "_t": trade, "_a": adv_day},
        schema={"_i": pl.Int64, "asset_id": pl.String, "_t": pl.Date, "_a": pl.Date},
    )
    counts = (
        req.join(panel, on="asset_id", how="left")
        .group_by("_i")
        .agg(
            pl.col("date").is_not_null().sum().alias("rows"),
            (pl.col("date") <= pl.col("_t")).sum().alias("priced"),
            ((pl.col("date") <= pl.col("_a")) & pl.col("volume").is_not_null()).sum().alias("adv"),
        )
        .sort("_i")
    )
    out: list[str | None] = []
    for rows, priced, n_adv in counts.select("rows", "priced", "adv").iter_rows():
        if not rows:
            out.append("no prices for the asset")
        elif not priced:
            out.append("no close on or before the trade date")
        elif n_adv < window:
            out.append(f"{n_adv} of {window} sessions of volume for ADV")
        else:
            out.append(None)
    return out


def _market_inputs(
    prices: Any,
    ev: pl.DataFrame,
    trade: list[dt.date],
    adv_day: list[dt.date],
    idx_ids: list[str | None],
    group: list[str],
    *,
    index_asset: str | None,
    adv_window: int,
    complete: bool,
) -> tuple[F64, F64, F64, F64, list[str]]:
    """Drift returns, trade closes, ADV and notes of each event from the prices panel."""
    import narwhals as nw

    assets: list[str] = ev["asset_id"].to_list()
    ann: list[dt.date] = ev["announce_date"].to_list()
    w_old = ev["w_old"].to_numpy().astype(np.float64)
    names = list(nw.from_native(prices).collect_schema().names())
    require_columns(names, ("asset_id", "date", "close", "volume"), "prices panel")
    n = len(assets)
    in_prices = set(to_polars(prices, ["asset_id"]).get_column("asset_id").unique().to_list())
    if index_asset is not None and index_asset not in in_prices:
        raise DataError(
            field="index_asset", expected="an asset of the prices panel", got=index_asset
        )
    idx_asset = [
        index_asset if index_asset is not None else (i if i in in_prices else None) for i in idx_ids
    ]
    wanted = sorted(set(assets) | {i for i in idx_asset if i is not None})
    keep = [c for c in ("asset_id", "date", "close", "volume", "split_factor") if c in names]
    panel = to_polars(prices, keep, nw.col("asset_id").is_in(wanted))
    rets = adjusted_returns(panel).select("asset_id", "date", "ret", "close")
    last = rets.group_by("asset_id").agg(pl.col("date").max().alias("last"))
    last_of = dict(zip(last["asset_id"].to_list(), last["last"].to_list(), strict=True))

    missing = sorted({a for a in assets if a not in last_of})
    if missing:
        first = assets.index(missing[0])
        raise DataError(
            field="asset_id",
            key={"asset_id": missing[0], "effective_date": ev["effective_date"][first]},
            expected="prices for every event asset",
        )
    end = [min(t, last_of[a]) for a, t in zip(assets, trade, strict=True)]
    r_asset, used = _window_returns(rets, assets, ann, end)

    # Trade close: the last close on or before the trade date.
    req = pl.DataFrame(
        {"_i": list(range(n)), "asset_id": assets, "_hi": trade},
        schema={"_i": pl.Int64, "asset_id": pl.String, "_hi": pl.Date},
    )
    px = (
        req.join(rets, on="asset_id", how="left")
        .filter(pl.col("date") <= pl.col("_hi"))
        .sort("date")
        .group_by("_i")
        .agg(pl.col("close").last(), pl.col("date").last().alias("px_date"))
    )
    px = req.select("_i").join(px, on="_i", how="left").sort("_i")
    if px["close"].is_null().any():
        i = int(px.filter(pl.col("close").is_null())["_i"][0])
        raise DataError(
            field="close",
            key={"asset_id": assets[i], "date": trade[i]},
            expected="a close on or before the trade date",
        )
    price = px["close"].to_numpy().astype(np.float64)
    px_date = px["px_date"].to_list()

    if complete:
        frame = ev.select(group).with_columns(_w=pl.Series(w_old), _r=pl.Series(r_asset))
        implied = frame.with_columns(
            _rx=((pl.col("_w") * pl.col("_r")).sum() / pl.col("_w").sum()).over(group)
        )
        r_index = implied["_rx"].to_numpy().astype(np.float64)
        idx_note = ["r_index implied by the constituents"] * n
    else:
        r_index = np.zeros(n)
        idx_note = []
        have = [i for i in range(n) if idx_asset[i] is not None]
        if have:
            rx, _ = _window_returns(
                rets,
                [str(idx_asset[i]) for i in have],
                [ann[i] for i in have],
                [end[i] for i in have],
            )
            r_index[have] = rx
        for i in range(n):
            idx_note.append(
                f"r_index from {idx_asset[i]}"
                if idx_asset[i] is not None
                else "no index prices: r_index 0"
            )

    adv_shares = np.full(n, np.nan)
    for day in sorted(set(adv_day)):
        rows = [i for i in range(n) if adv_day[i] == day]
        got = adv(panel, day, adv_window, sorted({assets[i] for i in rows}))
        for i in rows:
            adv_shares[i] = got[assets[i]]["adv_shares"]

    notes = []
    for i in range(n):
        ahead = px_date[i] < trade[i]
        stop = used[i]
        upto = stop.isoformat() if stop is not None else ann[i].isoformat()
        text = f"drift {ann[i].isoformat()}..{upto}; {idx_note[i]}"
        if ahead:
            text += f"; event ahead of the data: priced at the {px_date[i].isoformat()} close"
        notes.append(text)
    return r_asset, r_index, price, adv_shares, notes


def index_demand_events(
    events: Any,
    prices: Any = None,
    *,
    indexed_assets: float | Mapping[str, float] | None = None,
    **kwargs: Any,
) -> pl.DataFrame:
    """Index-event demand as calendar events (family ``index_event``, dated the trade close).

    Takes the arguments of :func:`index_demand`; returns the event frame of
    :mod:`flowpressure.mechanics` (``date, family, asset_id, dollars, shares, days_of_adv,
    notes``).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> ev = pl.DataFrame({"asset_id": ["NEW"], "announce_date": [dt.date(2024, 3, 8)],
    ...                    "effective_date": [dt.date(2024, 3, 18)], "w_old": [0.0],
    ...                    "w_new": [0.001]})
    >>> index_demand_events(ev, indexed_assets=1.5e13).select("date", "dollars").row(0)
    (datetime.date(2024, 3, 15), 15000000000.0)
    """
    out = index_demand(events, prices, indexed_assets=indexed_assets, **kwargs)
    prefix = pl.col("index_id") + pl.lit(" ") if "index_id" in out.columns else pl.lit("")
    frame = out.select(
        pl.col("trade_date").alias("date"),
        "asset_id",
        pl.col("demand").alias("dollars"),
        pl.col("demand_shares").alias("shares"),
        "days_of_adv",
        (
            prefix
            + pl.lit("index ")
            + pl.col("notes")
            + pl.lit("; effective ")
            + pl.col("effective_date").cast(pl.String)
            + pl.lit(", traded at the close before")
        ).alias("notes"),
    )
    return make_events(frame, "index_event")
