r"""Volatility targeting and risk parity: exposure from realised volatility, and the trades.

A vol-targeting fund holds :math:`E_t = \min(L_{max}, \sigma^*/\hat\sigma_t)` of its assets
in the risky asset; after a volatility shock it sells, after calm it buys. Its trade at the
close is :math:`A(E_t - E_{t-1}(1 + r_t))` for assets :math:`A`. Volatility is estimated from
zero-mean squared returns, by a rolling window or an EWMA, and reported annualised
(:math:`\sqrt{252}`). The array kernels broadcast over parameter sets: a sweep of windows,
decays, targets and caps costs about one pass over the returns per set, with no Python loop
over sets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.mechanics._asset_series import AssetSeries, asset_series, fmt_money
from flowpressure.mechanics._calendar_events import make_events
from flowpressure.mechanics._vol_kernels import ewma_variance, rolling_variance

__all__ = [
    "VolShock",
    "exposure_trades",
    "realized_vol",
    "risk_parity_weights",
    "target_exposure",
    "vol_shock",
    "vol_target_events",
    "vol_targeting",
]

F64 = NDArray[np.float64]
PERIODS_PER_YEAR = 252


def _check_window(window: NDArray[np.int64]) -> None:
    if np.any(window < 2):
        raise ConfigError(
            field="window", expected="a whole number of sessions >= 2", got=window.min()
        )


def realized_vol(
    returns: ArrayLike,
    *,
    window: ArrayLike = 20,
    lam: ArrayLike | None = None,
    periods_per_year: int = PERIODS_PER_YEAR,
) -> F64:
    r"""Annualised realised volatility after each return, by rolling window or EWMA.

    Parameters
    ----------
    returns
        Simple returns, shape ``(T,)`` or ``(T, P)`` (one column per parameter set or asset);
        finite.
    window
        Rolling window in returns; with ``lam``, the number of returns whose mean square
        seeds the EWMA. Scalar or shape ``(P,)``.
    lam
        EWMA decay :math:`\lambda` in (0, 1) (RiskMetrics: 0.94); ``None`` for a rolling
        window. Scalar or shape ``(P,)``.
    periods_per_year
        Annualisation factor (252 sessions).

    Returns
    -------
    ndarray
        Shape ``(T,)`` when everything is scalar and ``returns`` is 1-D, else ``(T, P)``;
        NaN before the first full window.

    Notes
    -----
    .. math::

        \hat\sigma^2_t = \frac{252}{n}\sum_{k=0}^{n-1} r^2_{t-k}
        \quad\text{or}\quad
        \hat\sigma^2_t = \lambda\hat\sigma^2_{t-1} + (1-\lambda)\,252\,r^2_t

    Examples
    --------
    >>> r = np.array([0.01, -0.01, 0.01, -0.01])
    >>> realized_vol(r, window=2).round(4).tolist()
    [nan, 0.1587, 0.1587, 0.1587]
    >>> realized_vol(r, window=[2, 4]).shape
    (4, 2)
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim not in (1, 2) or r.shape[0] == 0:
        raise ConfigError(field="returns", expected="an array of shape (T,) or (T, P)", got=r.shape)
    if not np.all(np.isfinite(r)):
        t = int(np.argwhere(~np.isfinite(r))[0][0])
        raise DataError(field="returns", expected="finite returns", got=f"non-finite at row {t}")
    w = np.asarray(window)
    if not np.issubdtype(w.dtype, np.integer) and not np.all(w == np.round(w)):
        raise ConfigError(field="window", expected="a whole number of sessions", got=w)
    w = w.astype(np.int64)
    _check_window(w)
    lam_arr = None if lam is None else np.asarray(lam, dtype=np.float64)
    if lam_arr is not None and np.any((lam_arr <= 0.0) | (lam_arr >= 1.0)):
        raise ConfigError(field="lam", expected="an EWMA decay in (0, 1)", got=lam_arr.min())
    scalar = r.ndim == 1 and w.ndim == 0 and (lam_arr is None or lam_arr.ndim == 0)
    shapes = [r.shape[1:], w.shape] + ([lam_arr.shape] if lam_arr is not None else [])
    p_shape = np.broadcast_shapes(*shapes)
    if len(p_shape) > 1:
        raise ConfigError(field="window", expected="scalars or 1-D parameter arrays", got=p_shape)
    n_p = p_shape[0] if p_shape else 1
    n_t = r.shape[0]
    r2 = np.ascontiguousarray((r * r).reshape(n_t, -1))  # (T, K), K = 1 or P
    wp = np.ascontiguousarray(np.broadcast_to(w.reshape(-1), (n_p,)), dtype=np.int64)
    if lam_arr is None:
        var = rolling_variance(r2, wp)
    else:
        lp = np.ascontiguousarray(np.broadcast_to(lam_arr.reshape(-1), (n_p,)), dtype=np.float64)
        var = ewma_variance(r2, lp, wp)
    vol: F64 = np.sqrt(np.maximum(var, 0.0) * periods_per_year)
    return vol[:, 0] if scalar else vol


def target_exposure(vol: ArrayLike, target: ArrayLike, max_leverage: ArrayLike = 2.0) -> F64:
    r"""Exposure of a vol-targeting fund: :math:`\min(L_{max}, \sigma^*/\hat\sigma)`.

    Parameters
    ----------
    vol
        Annualised volatility estimates (NaN passes through as NaN).
    target
        Annualised volatility target :math:`\sigma^*`, > 0.
    max_leverage
        Cap :math:`L_{max}` on the exposure, > 0.

    Raises
    ------
    DataError
        A volatility is zero or negative (an exposure cannot be set from zero volatility).
    ConfigError
        ``target`` or ``max_leverage`` is not positive.

    Notes
    -----
    .. math:: E_t = \min\left(L_{max}, \frac{\sigma^*}{\hat\sigma_t}\right)

    Examples
    --------
    >>> target_exposure([0.10, 0.20, 0.04], 0.10, 2.0).tolist()  # vol doubles: exposure halves
    [1.0, 0.5, 2.0]
    """
    v = np.asarray(vol, dtype=np.float64)
    tg = np.asarray(target, dtype=np.float64)
    cap = np.asarray(max_leverage, dtype=np.float64)
    if np.any(~(tg > 0.0)) or np.any(~np.isfinite(tg)):
        raise ConfigError(field="target", expected="an annualised volatility > 0", got=tg.min())
    if np.any(~(cap > 0.0)) or np.any(np.isnan(cap)):
        raise ConfigError(field="max_leverage", expected="a cap > 0", got=cap.min())
    if np.any(v <= 0.0):
        raise DataError(
            field="vol",
            expected="a volatility > 0 (zero volatility leaves the exposure undefined)",
            got=float(v[v <= 0.0].min()),
            others=int((v <= 0.0).sum() - 1),
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.minimum(cap, tg / v)
    return out


def exposure_trades(exposure: ArrayLike, returns: ArrayLike, aum: ArrayLike = 1.0) -> F64:
    r"""Trades (currency, + = buy) that move drifted exposure back to target at each close.

    Notes
    -----
    .. math:: \text{trade}_t = A\,\left(E_t - E_{t-1}(1 + r_t)\right)

    The first row (no previous exposure; the initial investment is not a trade) is NaN.

    Examples
    --------
    >>> exposure_trades([1.0, 0.5], [0.0, -0.04], 1e9).round(2).tolist()
    [nan, -460000000.0]
    """
    e = np.asarray(exposure, dtype=np.float64)
    r = np.asarray(returns, dtype=np.float64)
    a = np.asarray(aum, dtype=np.float64)
    if e.ndim == 2 and r.ndim == 1:
        r = r[:, None]
    prev = np.concatenate([np.full((1, *e.shape[1:]), np.nan), e[:-1]], axis=0)
    out: F64 = a * (e - prev * (1.0 + r))
    return out


def _zero_vol_check(series: AssetSeries, vol: F64, offset: int) -> None:
    zero = np.flatnonzero(vol == 0.0)
    if zero.size:
        raise DataError(
            field="close",
            key={"asset_id": series.asset_id, "date": series.date(int(zero[0]) + offset)},
            expected="prices that move: realised volatility is zero over the window",
            got=0.0,
            others=int(zero.size - 1),
        )


def vol_targeting(
    prices: Any,
    asset_id: str,
    *,
    target: float = 0.10,
    max_leverage: float = 2.0,
    window: int = 20,
    lam: float | None = None,
    aum: float = 1.0,
    as_of: dt.date | str | None = None,
) -> pl.DataFrame:
    r"""Daily realised volatility, exposure and rebalancing trade of a vol-targeting fund.

    Parameters
    ----------
    prices
        Long prices panel (any narwhals frame); returns are split-adjusted, with dividends
        (``ret_total``).
    asset_id
        The risky asset.
    target, max_leverage
        :math:`\sigma^*` (annualised) and :math:`L_{max}`.
    window, lam
        Rolling window, or EWMA decay (the first ``window`` returns seed it).
    aum
        Assets of the funds, in currency units; ``trade`` is in the same units.
    as_of
        Last date used (default: the asset's last date).

    Returns
    -------
    polars.DataFrame
        ``date, close, ret, realized_vol, exposure, trade, trade_pct``; the warm-up rows
        have nulls.

    Raises
    ------
    DataError
        Too few prices for one window, or zero realised volatility ("zero volatility").

    Notes
    -----
    .. math::

        E_t = \min\left(L_{max}, \frac{\sigma^*}{\hat\sigma_t}\right), \qquad
        \text{trade}_t = A\left(E_t - E_{t-1}(1 + r_t)\right)

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> out = vol_targeting(sample.load("prices"), "SPX", target=0.10, aum=1e11)
    >>> day, exposure = out.select("date", "exposure").row(-1)
    >>> day, round(exposure, 4)
    (datetime.date(2018, 12, 31), 0.3401)
    """
    series = asset_series(prices, asset_id, as_of, min_rows=window + 2)
    r = series.ret_total[1:]
    vol = realized_vol(r, window=window, lam=lam)
    _zero_vol_check(series, vol, 1)
    expo = target_exposure(vol, target, max_leverage)
    trade = exposure_trades(expo, r, aum)
    nan = np.array([np.nan])
    return pl.DataFrame(
        {
            "date": series.dates,
            "close": series.close,
            "ret": series.ret_total,
            "realized_vol": np.r_[nan, vol],
            "exposure": np.r_[nan, expo],
            "trade": np.r_[nan, trade],
            "trade_pct": np.r_[nan, trade / aum],
        }
    ).with_columns(pl.selectors.float().fill_nan(None))


@dataclass(frozen=True)
class VolShock:
    """A vol-control shock scenario, one column per parameter set.

    ``vol``, ``exposure`` and ``trade`` have shape ``(days, P)``; row 0 is the shock day's
    close. ``exposure_before`` is the exposure held into the shock, shape ``(P,)``.
    """

    vol: F64
    exposure: F64
    trade: F64
    exposure_before: F64

    @property
    def total(self) -> F64:
        """Sum of the trades over the scenario's days (currency, + = buy), shape ``(P,)``."""
        out: F64 = self.trade.sum(axis=0)
        return out


def vol_shock(
    aum: ArrayLike,
    target: ArrayLike,
    shock: ArrayLike,
    *,
    days: int = 5,
    vol_before: ArrayLike | None = None,
    max_leverage: ArrayLike = 2.0,
    window: ArrayLike = 20,
    lam: ArrayLike | None = None,
    after: float = 0.0,
) -> VolShock:
    r"""Trades of vol-control funds after a one-day shock, over the next ``days`` closes.

    "Vol-control funds with $X AUM, target 10 %, after a day of −4 % sell $Y over the next N
    days." Before the shock, realised volatility is steady at ``vol_before`` (default: the
    target, so the exposure is 1 when the cap allows); the shock day returns ``shock``; the
    following days return ``after`` (default 0: flat, so the estimate drifts down and the
    funds buy some exposure back). Every argument but ``days`` and ``after`` broadcasts over
    parameter sets. The funds trade at each close (no execution lag), so most of the sale is
    on the shock day.

    Returns
    -------
    VolShock

    Notes
    -----
    The history is :math:`\pm\sigma_0/\sqrt{252}` on alternate days, so both estimators read
    exactly :math:`\sigma_0` before the shock; then each close trades
    :math:`A(E_t - E_{t-1}(1+r_t))` with :math:`E_t = \min(L_{max}, \sigma^*/\hat\sigma_t)`.

    Examples
    --------
    >>> out = vol_shock(1e11, 0.10, -0.04, days=5)
    >>> round(float(out.exposure_before[0]), 6), round(float(out.total[0]) / 1e9, 1)
    (1.0, -35.9)
    >>> vol_shock(1e11, 0.10, [-0.02, -0.04, -0.06]).total.shape
    (3,)
    """
    if days < 1:
        raise ConfigError(field="days", expected="sessions >= 1", got=days)
    tg = np.asarray(target, dtype=np.float64)
    v0 = tg if vol_before is None else np.asarray(vol_before, dtype=np.float64)
    if np.any(~(v0 > 0.0)):
        raise DataError(field="vol_before", expected="a volatility > 0", got=float(v0.min()))
    a, sh, cap = (np.asarray(x, dtype=np.float64) for x in (aum, shock, max_leverage))
    w = np.asarray(window)
    lam_arr = None if lam is None else np.asarray(lam, dtype=np.float64)
    shapes = [a.shape, tg.shape, sh.shape, v0.shape, cap.shape, w.shape]
    if lam_arr is not None:
        shapes.append(lam_arr.shape)
    p_shape = np.broadcast_shapes(*shapes)
    n_p = int(np.prod(p_shape)) if p_shape else 1

    def flat(x: NDArray[Any]) -> NDArray[Any]:
        return np.broadcast_to(x, p_shape).reshape(n_p)

    a, tg, sh, v0, cap = (flat(x) for x in (a, tg, sh, v0, cap))
    wp = flat(w.astype(np.int64))
    _check_window(wp)
    hist = int(wp.max()) + 1 + (int(wp.max()) % 2)
    sign = np.where(np.arange(hist) % 2 == 0, 1.0, -1.0)
    calm = sign[:, None] * (v0 / np.sqrt(PERIODS_PER_YEAR))[None, :]
    path = np.vstack([calm[:hist], sh[None, :], np.full((days - 1, n_p), after)])
    vol = realized_vol(path, window=wp, lam=None if lam_arr is None else flat(lam_arr))
    expo = target_exposure(vol, tg, cap)
    trade = exposure_trades(expo, path, a)
    return VolShock(
        vol=vol[hist:], exposure=expo[hist:], trade=trade[hist:], exposure_before=expo[hist - 1]
    )


def risk_parity_weights(
    vols: ArrayLike,
    *,
    target: ArrayLike | None = None,
    max_leverage: ArrayLike = 1.0,
    corr: ArrayLike | None = None,
) -> F64:
    r"""Inverse-volatility (naive risk parity) weights, optionally scaled to a vol target.

    Parameters
    ----------
    vols
        Annualised volatilities, shape ``(..., N)`` (leading axes: dates or parameter sets).
    target
        Portfolio volatility target; ``None`` keeps the weights summing to 1 (times the cap
        when it is below 1).
    max_leverage
        Cap on the gross exposure :math:`\sum_i |w_i|`.
    corr
        Correlation matrix ``(N, N)`` for the portfolio volatility (default: identity, i.e.
        uncorrelated assets; a stated assumption).

    Raises
    ------
    DataError
        A volatility is zero or negative.

    Notes
    -----
    .. math::

        w_i = \frac{1/\sigma_i}{\sum_j 1/\sigma_j}\,
        \min\left(L_{max}, \frac{\sigma^*}{\sqrt{w^\top \Sigma w}}\right)

    Examples
    --------
    >>> risk_parity_weights([0.10, 0.20]).round(4).tolist()
    [0.6667, 0.3333]
    >>> w = risk_parity_weights([0.10, 0.20], target=0.10, max_leverage=2.0)  # 9.4 % vol at 1x
    >>> float(w.sum().round(4))
    1.0607
    >>> float(risk_parity_weights([0.10, 0.20], target=0.20, max_leverage=1.5).sum())
    1.5
    """
    v = np.asarray(vols, dtype=np.float64)
    if v.ndim == 0 or v.shape[-1] == 0:
        raise ConfigError(field="vols", expected="an array of shape (..., N)", got=v.shape)
    if np.any(~(v > 0.0)):
        raise DataError(
            field="vols", expected="volatilities > 0 (zero volatility)", got=float(np.nanmin(v))
        )
    cap = np.asarray(max_leverage, dtype=np.float64)
    if np.any(~(cap > 0.0)):
        raise ConfigError(field="max_leverage", expected="a cap > 0", got=cap.min())
    inv = 1.0 / v
    w = inv / inv.sum(axis=-1, keepdims=True)
    if target is None:
        scale = np.minimum(1.0, cap)
    else:
        tg = np.asarray(target, dtype=np.float64)
        if np.any(~(tg > 0.0)):
            raise ConfigError(field="target", expected="a volatility > 0", got=tg.min())
        c = np.eye(v.shape[-1]) if corr is None else np.asarray(corr, dtype=np.float64)
        wv = w * v
        port = np.sqrt(np.einsum("...i,ij,...j->...", wv, c, wv))
        scale = np.minimum(cap, tg / port)
    out: F64 = w * np.asarray(scale)[..., None]
    return out


def vol_target_events(
    prices: Any,
    asset_id: str,
    *,
    target: float = 0.10,
    aum: float,
    max_leverage: float = 2.0,
    window: int = 20,
    lam: float | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    adv_window: int = 20,
) -> pl.DataFrame:
    """Return vol-targeting trades as calendar events (family ``vol_target``), one per session.

    ``aum`` is required (no hidden default); ``days_of_adv`` uses the ADV of the
    ``adv_window`` sessions before the trade day when the panel has volume.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> ev = vol_target_events(sample.load("prices"), "SPX", aum=1e11, start="2018-12-24")
    >>> ev.height, ev["family"][0]
    (5, 'vol_target')
    """
    out = vol_targeting(
        prices,
        asset_id,
        target=target,
        max_leverage=max_leverage,
        window=window,
        lam=lam,
        aum=aum,
        as_of=end,
    )
    series = asset_series(prices, asset_id, end)
    if series.volume is not None:
        vol = pl.Series(series.volume)
        adv = vol.rolling_mean(adv_window).shift(1).to_numpy()
    else:
        adv = np.full(series.close.size, np.nan)
    method = f"EWMA lambda {lam}" if lam is not None else f"rolling {window} sessions"
    note = (
        f"vol target {target:.0%} ({method}), max leverage {max_leverage:g}, "
        f"AUM {fmt_money(aum)}; trade = A(E_t - E_t-1 (1 + r_t)) at the close"
    )
    frame = (
        out.with_columns(
            shares=pl.col("trade") / pl.col("close"),
            _adv=pl.Series(adv),
        )
        .with_columns(days_of_adv=pl.col("shares").abs() / pl.col("_adv"))
        .filter(pl.col("trade").is_not_null())
        .select(
            "date",
            pl.lit(asset_id).alias("asset_id"),
            pl.col("trade").alias("dollars"),
            "shares",
            "days_of_adv",
            pl.lit(note).alias("notes"),
        )
    )
    lo = None if start is None else dt.date.fromisoformat(str(start))
    if lo is not None:
        frame = frame.filter(pl.col("date") >= lo)
    return make_events(frame, "vol_target")
