r"""Dealer gamma exposure (GEX) from an option chain, by strike and expiry, and the gamma flip.

Dealers who are long gamma sell into rallies and buy dips to stay hedged; short gamma, they
chase the move. With Black–Scholes gamma :math:`\Gamma` per contract, open interest
:math:`OI`, contract multiplier :math:`m` and the dealers' sign :math:`\delta` (+1 long,
−1 short),

.. math::

    GEX = \sum \delta\,\Gamma\,OI\,m\,S^2 \cdot 0.01

is the change in the dealers' delta, in dollars, for a 1 % move of the underlying; the hedge
flow for a +1 % move is :math:`-GEX` (DESIGN.md "Contract conventions"). Time to expiry is
calendar days / 365. Default positioning: dealers long calls and short puts (customers
sell calls and buy puts); a ``dealer_sign`` column sets it per row. The gamma flip is the
spot at which total GEX changes sign, found by re-pricing the chain across spot with each
contract's implied volatility held (sticky strike).

When the chain carries the source's own gamma (a ``gamma`` column, e.g. CBOE's), the GEX at
spot uses it (``gamma="auto"`` or ``"chain"``); the profile and the flip level are always the
model's re-pricing. A chain with several snapshots of one underlying on one date (a
``snapshot`` column) is never summed: pick one with ``snapshot``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw
import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.data import DEFAULT_CALENDAR, adv, third_fridays
from flowpressure.data import validate as _validate
from flowpressure.mechanics._asset_series import as_date, fmt_money, to_polars
from flowpressure.mechanics._calendar_events import make_events

__all__ = ["GexResult", "bs_gamma", "gamma_exposure", "gex_events", "gex_profile", "opex_dates"]

F64 = NDArray[np.float64]
DEFAULT_MULTIPLIER = 100.0
GammaSource = Literal["auto", "chain", "model"]
#: The unit of every GEX figure.
GEX_UNITS = "dollars per 1% move of the underlying"


def bs_gamma(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend_yield: ArrayLike = 0.0,
) -> F64:
    r"""Black–Scholes gamma (per unit of underlying), broadcast over arrays.

    Parameters
    ----------
    spot, strike
        Underlying price and strike.
    t
        Time to expiry in years (> 0).
    vol
        Implied volatility, annualised (> 0).
    rate, dividend_yield
        Continuously compounded risk-free rate and dividend yield.

    Notes
    -----
    .. math::

        \Gamma = \frac{e^{-qT}\,\varphi(d_1)}{S\sigma\sqrt{T}}, \qquad
        d_1 = \frac{\ln(S/K) + (r - q + \sigma^2/2)T}{\sigma\sqrt{T}}

    Calls and puts share the same gamma.

    Examples
    --------
    >>> round(float(bs_gamma(100.0, 100.0, 1.0, 0.2)), 6)
    0.019848
    """
    s = np.asarray(spot, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    tt = np.asarray(t, dtype=np.float64)
    v = np.asarray(vol, dtype=np.float64)
    r = np.asarray(rate, dtype=np.float64)
    q = np.asarray(dividend_yield, dtype=np.float64)
    sd = v * np.sqrt(tt)
    d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * tt) / sd
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi)  # the standard normal density
    out: F64 = np.exp(-q * tt) * pdf / (s * sd)
    return out


def opex_dates(
    start: dt.date | str, end: dt.date | str, name: str = DEFAULT_CALENDAR
) -> list[dt.date]:
    """Monthly option expiries (OPEX): third Fridays, the session before when a holiday.

    Examples
    --------
    >>> opex_dates("2019-03-01", "2019-04-30")
    [datetime.date(2019, 3, 15), datetime.date(2019, 4, 18)]
    """
    return third_fridays(start, end, name=name)


@dataclass(frozen=True)
class _Chain:
    asset_id: str
    as_of: dt.date
    spot: float
    rows: pl.DataFrame  # expiry, strike, type, open_interest, iv, multiplier, rate, sign, t,
    # chain_gamma (null where the chain has none)
    dropped_expiring: int
    per_row_sign: bool
    snapshot: str | None = None


def _read_chain(
    chain: Any,
    *,
    spot: float | None,
    rate: float | None,
    as_of: dt.date | str | None,
    asset_id: str | None,
    call_sign: float,
    put_sign: float,
    snapshot: str | None = None,
) -> _Chain:
    df = nw.from_native(chain)
    names = list(df.collect_schema().names())
    lf = df.lazy() if isinstance(df, nw.DataFrame) else df
    day = as_date(as_of, "as_of")
    extra = {}
    if "asset_id" not in names:
        extra["asset_id"] = nw.lit(asset_id or "UNDERLYING")
    if "date" not in names:
        if day is None:
            raise ConfigError(
                "the chain has no date column: give as_of (the snapshot date)",
                field="as_of",
                expected="a date as YYYY-MM-DD",
            )
        extra["date"] = nw.lit(day)
    if extra:
        lf = lf.with_columns(**extra)
    frame = to_polars(_validate(lf.to_native(), "options", check_sessions=False))
    if asset_id is not None:
        frame = frame.filter(pl.col("asset_id") == asset_id)
        if frame.height == 0:
            raise DataError(field="asset_id", expected="an underlying of the chain", got=asset_id)
    ids = sorted(frame["asset_id"].unique().to_list())
    if len(ids) != 1:
        raise ConfigError(
            field="asset_id", expected=f"one underlying; the chain has {ids}", got=asset_id
        )
    frame, chosen = _pick_snapshot(frame, ids[0], day, snapshot)
    if day is None:
        last = frame["date"].max()
        assert isinstance(last, dt.date)
        day = last
    frame = frame.filter(pl.col("date") == day)
    if frame.height == 0:
        raise DataError(
            field="date", key={"asset_id": ids[0]}, expected="a snapshot on the date", got=day
        )
    if chosen is None and "snapshot" in frame.columns:
        found = sorted(s for s in frame["snapshot"].unique().to_list() if s)
        if len(found) > 1:
            raise ConfigError(
                f"the chain has {len(found)} snapshots of {ids[0]} on {day.isoformat()} "
                f"({', '.join(found)}); pick one with snapshot= (--snapshot), they are not summed",
                field="snapshot",
                expected="one snapshot per underlying and date",
            )
        chosen = found[0] if found else None
    past = frame.filter(pl.col("expiry") < day).sort("expiry", "strike", "type")
    if past.height:
        row = past.row(0, named=True)
        raise DataError(
            field="expiry",
            key={k: row[k] for k in ("asset_id", "expiry", "strike", "type")},
            expected=f"an expiry on or after the as-of date {day.isoformat()}",
            got=row["expiry"],
            others=past.height - 1,
        )
    today = frame.filter(pl.col("expiry") == day).height
    frame = frame.filter(pl.col("expiry") > day)
    if spot is None:
        if "underlying_price" not in frame.columns or frame["underlying_price"].is_null().all():
            raise ConfigError(
                "give spot, or a chain with an underlying_price column",
                field="spot",
                expected="the underlying price > 0",
            )
        spot = float(frame["underlying_price"].drop_nulls().median())  # type: ignore[arg-type]
    if not (np.isfinite(spot) and spot > 0.0):
        raise ConfigError(field="spot", expected="the underlying price > 0", got=spot)
    if rate is not None:
        frame = frame.with_columns(rate=pl.lit(float(rate)))
    elif "rate" not in frame.columns:
        frame = frame.with_columns(rate=pl.lit(0.0))
    if "multiplier" not in frame.columns:
        frame = frame.with_columns(multiplier=pl.lit(DEFAULT_MULTIPLIER))
    default = pl.when(pl.col("type") == "call").then(pl.lit(call_sign)).otherwise(pl.lit(put_sign))
    sign = (
        pl.col("dealer_sign").cast(pl.Float64).fill_null(default)
        if "dealer_sign" in frame.columns
        else default
    )
    chain_gamma = (
        pl.col("gamma").cast(pl.Float64)
        if "gamma" in frame.columns
        else pl.lit(None, dtype=pl.Float64)
    )
    rows = frame.select(
        "expiry",
        "strike",
        "type",
        "open_interest",
        "iv",
        pl.col("multiplier").fill_null(DEFAULT_MULTIPLIER),
        pl.col("rate").fill_null(0.0),
        sign.alias("sign"),
        ((pl.col("expiry") - pl.lit(day)).dt.total_days() / 365.0).alias("t"),
        chain_gamma.alias("chain_gamma"),
        *([pl.col("contract")] if "contract" in frame.columns else []),
    ).sort("expiry", "strike", "type", *(["contract"] if "contract" in frame.columns else []))
    return _Chain(ids[0], day, float(spot), rows, today, "dealer_sign" in frame.columns, chosen)


def _pick_snapshot(
    frame: pl.DataFrame, asset: str, day: dt.date | None, snapshot: str | None
) -> tuple[pl.DataFrame, str | None]:
    """Keep the rows of ``snapshot`` (when given); refuse one the chain does not have."""
    if snapshot is None:
        return frame, None
    if "snapshot" not in frame.columns:
        raise ConfigError(field="snapshot", expected="a chain with a snapshot column", got=snapshot)
    kept = frame.filter(pl.col("snapshot") == snapshot)
    if kept.height == 0:
        seen = frame if day is None else frame.filter(pl.col("date") == day)
        have = sorted(s for s in seen["snapshot"].unique().to_list() if s)
        raise DataError(
            field="snapshot",
            key={"asset_id": asset},
            expected=f"one of the chain's snapshots ({', '.join(have) or 'none'})",
            got=snapshot,
        )
    return kept, snapshot


def _gex_matrix(c: _Chain, spots: F64) -> F64:
    """GEX per contract (columns) at each spot (rows), dollars per 1 % move."""
    r = c.rows
    s = spots[:, None]
    gamma = bs_gamma(
        s,
        r["strike"].to_numpy()[None, :],
        r["t"].to_numpy()[None, :],
        r["iv"].to_numpy()[None, :],
        r["rate"].to_numpy()[None, :],
    )
    w = (r["sign"] * r["open_interest"] * r["multiplier"]).to_numpy()[None, :]
    out: F64 = w * gamma * s * s * 0.01
    return out


def gex_profile(
    chain: Any,
    levels: ArrayLike,
    *,
    rate: float | None = None,
    as_of: dt.date | str | None = None,
    asset_id: str | None = None,
    call_sign: float = 1.0,
    put_sign: float = -1.0,
    snapshot: str | None = None,
) -> F64:
    """Total GEX (dollars per 1 % move) with the chain re-priced at each spot of ``levels``.

    Gamma is the model's (Black–Scholes from ``iv``) at every level; ``snapshot`` as for
    :func:`gamma_exposure`.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> chain = pl.DataFrame({"expiry": [dt.date(2024, 4, 19)], "strike": [100.0],
    ...                       "type": ["put"], "open_interest": [1000.0], "iv": [0.2]})
    >>> bool((gex_profile(chain, [90.0, 100.0, 110.0], as_of="2024-03-28") < 0).all())
    True
    """
    lv = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    c = _read_chain(
        chain,
        spot=float(lv[0]),
        rate=rate,
        as_of=as_of,
        asset_id=asset_id,
        call_sign=call_sign,
        put_sign=put_sign,
        snapshot=snapshot,
    )
    out: F64 = _gex_matrix(c, lv).sum(axis=1)
    return out


@dataclass(frozen=True)
class GexResult:
    """Dealer gamma exposure of a chain at ``spot`` on ``as_of``.

    ``total_gex`` is in dollars per 1 % move (+ = dealers long gamma); ``hedge_flow_1pct`` =
    −GEX is the dealers' trade for a +1 % move. ``by_strike``: ``strike, call_gex, put_gex,
    gex``; ``by_expiry``: ``expiry, days, call_gex, put_gex, gex, open_interest``;
    ``profile``: ``spot, gex`` over the scanned range; ``contracts``: one row per contract
    with ``gamma`` and ``gex``. ``flip_level`` is None when total GEX keeps one sign over
    the scanned range. ``gamma_source`` says whose gamma the figures at spot use: ``"chain"``
    (the source's ``gamma`` column), ``"model"`` (Black–Scholes from ``iv``) or ``"mixed"``;
    ``model_total_gex`` is the model's total at spot, for comparison; ``snapshot`` the chain
    snapshot used (None when the chain has no ``snapshot`` column).
    """

    asset_id: str
    as_of: dt.date
    spot: float
    total_gex: float
    hedge_flow_1pct: float
    flip_level: float | None
    by_strike: pl.DataFrame
    by_expiry: pl.DataFrame
    profile: pl.DataFrame
    contracts: pl.DataFrame
    diagnostics: dict[str, int]
    positioning: str
    gamma_source: str = "model"
    snapshot: str | None = None
    model_total_gex: float | None = None
    units: str = GEX_UNITS


def _flip(c: _Chain, grid: F64, total: F64) -> float | None:
    sgn = np.sign(total)
    change = np.flatnonzero(sgn[1:] * sgn[:-1] < 0)
    if change.size == 0:
        return None
    i0 = int(np.searchsorted(grid, c.spot))
    k = int(change[np.argmin(np.abs(change + 0.5 - i0))])
    a, b = float(grid[k]), float(grid[k + 1])
    fa = float(total[k])
    for _ in range(60):
        m = 0.5 * (a + b)
        fm = float(_gex_matrix(c, np.array([m])).sum())
        if np.sign(fm) == np.sign(fa):
            a, fa = m, fm
        else:
            b = m
    return 0.5 * (a + b)


def gamma_exposure(
    chain: Any,
    *,
    spot: float | None = None,
    rate: float | None = None,
    as_of: dt.date | str | None = None,
    asset_id: str | None = None,
    call_sign: float = 1.0,
    put_sign: float = -1.0,
    scan: tuple[float, float] = (0.8, 1.2),
    n_levels: int = 201,
    snapshot: str | None = None,
    gamma: GammaSource = "auto",
) -> GexResult:
    r"""Dealer gamma exposure of an option chain, by strike and expiry, with the gamma flip.

    Parameters
    ----------
    chain
        Option chain (any narwhals frame) with ``expiry, strike, type`` (call/put),
        ``open_interest, iv``; optional ``multiplier`` (default 100), ``underlying_price``,
        ``rate``, ``asset_id``, ``date`` (snapshot date) and ``dealer_sign`` (per-row
        positioning: +1 dealers long, −1 short). Validated as an ``options`` panel.
    spot
        Underlying price (default: the chain's ``underlying_price``).
    rate
        Risk-free rate for every row (default: the chain's ``rate``, else 0).
    as_of
        Snapshot date (default: the chain's last ``date``); T = calendar days / 365.
    asset_id
        Underlying to keep when the chain has several.
    call_sign, put_sign
        Dealers' sign on calls and puts where ``dealer_sign`` is absent (default long calls,
        short puts).
    scan, n_levels
        Spot range (as multiples of ``spot``) and points re-priced for the flip level.
    snapshot
        The snapshot to use when the chain has a ``snapshot`` column with several snapshots
        of the underlying on the date (they are never summed).
    gamma
        Gamma per contract at spot: ``"auto"`` (default) the chain's ``gamma`` where given,
        else Black–Scholes from ``iv``; ``"chain"`` requires the chain's on every row;
        ``"model"`` always Black–Scholes. The profile and flip are the model's.

    Returns
    -------
    GexResult

    Raises
    ------
    DataError
        Negative open interest, non-positive iv or strike, an expiry before ``as_of``.
        Contracts expiring on ``as_of`` itself are left out and counted in
        ``diagnostics["expiring_today"]``.
        With ``gamma="chain"``, a row without the chain's gamma.
    ConfigError
        No spot, no snapshot date, several underlyings, or several snapshots of the
        underlying on the date without ``snapshot``.

    Notes
    -----
    .. math::

        GEX = \sum_i \delta_i\,\Gamma_i\,OI_i\,m_i\,S^2 \times 0.01, \qquad
        \text{hedge flow}(+1\%) = -GEX

    Units: dollars per 1 % move of the underlying. Sign as positioned: :math:`\delta_i = +1`
    where dealers are long the contract (default: calls) and :math:`-1` where short (puts),
    so a positive total means dealers long gamma (they sell rallies, buy dips).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> chain = pl.DataFrame({"expiry": [dt.date(2025, 3, 28)], "strike": [100.0],
    ...                       "type": ["call"], "open_interest": [1000.0], "iv": [0.2]})
    >>> res = gamma_exposure(chain, spot=100.0, as_of="2024-03-28")
    >>> round(res.total_gex, 2)  # 0.019848 x 1000 x 100 x 100^2 x 0.01
    198476.27
    """
    if n_levels < 3 or not 0.0 < scan[0] < 1.0 < scan[1]:
        raise ConfigError(
            field="scan", expected="(low, high) around 1 and n_levels >= 3", got=(scan, n_levels)
        )
    c = _read_chain(
        chain,
        spot=spot,
        rate=rate,
        as_of=as_of,
        asset_id=asset_id,
        call_sign=call_sign,
        put_sign=put_sign,
        snapshot=snapshot,
    )
    if gamma not in ("auto", "chain", "model"):
        raise ConfigError(field="gamma", expected="auto, chain or model", got=gamma)
    if c.rows.height == 0:
        raise DataError(field="expiry", expected="contracts expiring after the as-of date")
    model = bs_gamma(
        c.spot,
        c.rows["strike"].to_numpy(),
        c.rows["t"].to_numpy(),
        c.rows["iv"].to_numpy(),
        c.rows["rate"].to_numpy(),
    )
    given = c.rows["chain_gamma"]
    if gamma == "model":
        given = pl.Series("chain_gamma", [None] * c.rows.height, dtype=pl.Float64)
    elif gamma == "chain" and given.null_count():
        row = c.rows.filter(pl.col("chain_gamma").is_null()).row(0, named=True)
        raise DataError(
            field="gamma",
            key={"asset_id": c.asset_id, **{k: row[k] for k in ("expiry", "strike", "type")}},
            expected="the chain's gamma on every row (gamma='chain')",
            got=None,
            others=given.null_count() - 1,
        )
    n_chain = c.rows.height - given.null_count()
    used = np.where(given.is_null().to_numpy(), model, given.fill_null(0.0).to_numpy())
    weight = (c.rows["sign"] * c.rows["open_interest"] * c.rows["multiplier"]).to_numpy()
    per = weight * used * c.spot * c.spot * 0.01
    model_total = float((weight * model * c.spot * c.spot * 0.01).sum())
    source = "chain" if n_chain == c.rows.height else "model" if n_chain == 0 else "mixed"
    contracts = c.rows.drop("chain_gamma").with_columns(gamma=pl.Series(used), gex=pl.Series(per))
    is_call = pl.col("type") == "call"
    parts = [
        pl.col("gex").filter(is_call).sum().alias("call_gex"),
        pl.col("gex").filter(~is_call).sum().alias("put_gex"),
        pl.col("gex").sum().alias("gex"),
    ]
    by_strike = contracts.group_by("strike").agg(parts).sort("strike")
    by_expiry = (
        contracts.group_by("expiry")
        .agg([*parts, pl.col("open_interest").sum()])
        .with_columns(days=(pl.col("expiry") - pl.lit(c.as_of)).dt.total_days())
        .select("expiry", "days", "call_gex", "put_gex", "gex", "open_interest")
        .sort("expiry")
    )
    grid = c.spot * np.linspace(scan[0], scan[1], n_levels)
    total_grid = _gex_matrix(c, grid).sum(axis=1)
    total = float(per.sum())
    signs = "dealer_sign column, else " if c.per_row_sign else ""
    positioning = (
        f"{signs}dealers {'long' if call_sign > 0 else 'short'} calls, "
        f"{'long' if put_sign > 0 else 'short'} puts"
    )
    return GexResult(
        asset_id=c.asset_id,
        as_of=c.as_of,
        spot=c.spot,
        total_gex=total,
        hedge_flow_1pct=-total,
        flip_level=_flip(c, grid, total_grid),
        by_strike=by_strike,
        by_expiry=by_expiry,
        profile=pl.DataFrame({"spot": grid, "gex": total_grid}),
        contracts=contracts,
        diagnostics={
            "contracts": c.rows.height,
            "expiring_today": c.dropped_expiring,
            "rows_chain_gamma": n_chain,
        },
        positioning=positioning,
        gamma_source=source,
        snapshot=c.snapshot,
        model_total_gex=model_total,
    )


def gex_events(
    chain: Any,
    prices: Any = None,
    *,
    adv_window: int = 20,
    **kwargs: Any,
) -> pl.DataFrame:
    """Return gamma rolling off at each expiry as calendar events (family ``gex``).

    One row per expiry of the chain, dated the expiry: ``dollars`` is the dealers' hedge flow
    for a +1 % move (−GEX) carried by the contracts that expire then, ``shares`` that flow
    over spot, ``days_of_adv`` against the underlying's ADV (``prices``, window ending on
    the as-of date) when given. Other arguments are those of :func:`gamma_exposure`.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> ev = gex_events(sample.load("options"))
    >>> ev.height, ev["family"][0]
    (6, 'gex')
    """
    res = gamma_exposure(chain, **kwargs)
    adv_shares = np.nan
    if prices is not None:
        panel = to_polars(prices, None, nw.col("asset_id") == res.asset_id)
        got = adv(panel, res.as_of, adv_window, [res.asset_id])
        adv_shares = float(got[res.asset_id]["adv_shares"])
    note = (
        f"gamma expiring: dealers' hedge flow per +1% move (-GEX) that ceases; "
        f"{res.positioning}; spot {res.spot:,.2f} on {res.as_of.isoformat()}; total GEX "
        f"{fmt_money(res.total_gex)} per 1%"
    )
    frame = res.by_expiry.select(
        pl.col("expiry").alias("date"),
        pl.lit(res.asset_id).alias("asset_id"),
        (-pl.col("gex")).alias("dollars"),
        (-pl.col("gex") / res.spot).alias("shares"),
        ((pl.col("gex") / res.spot).abs() / adv_shares).alias("days_of_adv"),
        pl.lit(note).alias("notes"),
    )
    return make_events(frame, "gex")
