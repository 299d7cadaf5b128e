r"""CTA trend following: a transparent model of positions, flows and trigger prices.

Each lookback :math:`L` gives a signal from the price change over :math:`L` sessions, either
its sign or its size in units of volatility (capped at ±1); the signals are averaged and
scaled to a risk target:

.. math::

    s_{L,t} = \operatorname{sign}(P_t - P_{t-L})
    \ \text{or}\ \operatorname{clip}\left(\frac{P_t/P_{t-L} - 1}{z_{cap}\,\sigma_{d,t}\sqrt{L}},
    -1, 1\right), \qquad
    E_t = \operatorname{clip}\left(\sum_L w_L s_{L,t}\,\frac{\sigma^*}{\hat\sigma_t},
    -L_{max}, L_{max}\right)

The dollar position is :math:`A E_t` for the aggregate CTA assets :math:`A` (a required
parameter, never a hidden constant) and the implied flow :math:`A(E_t - E_{t-1}(1 + r_t))`.
Tomorrow, lookback :math:`L` compares the close with :math:`P_{t+1-L}`, the close
:math:`L - 1` sessions back from today: that is its trigger price. Prices are back-adjusted
for splits, so triggers are in today's price units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.data import DEFAULT_CALENDAR, shift_sessions
from flowpressure.mechanics._asset_series import asset_series, fmt_money
from flowpressure.mechanics._calendar_events import make_events
from flowpressure.mechanics.vol_target import PERIODS_PER_YEAR, realized_vol

__all__ = ["CtaResult", "cta_events", "cta_model", "trend_exposure", "trend_signals"]

F64 = NDArray[np.float64]
Signal = Literal["sign", "scaled"]
DEFAULT_LOOKBACKS = (20, 60, 120, 250)
DEFAULT_MOVES = (-0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03)


def _lookbacks(lookbacks: Sequence[int]) -> NDArray[np.int64]:
    lb = np.asarray(list(lookbacks), dtype=np.int64)
    if lb.ndim != 1 or lb.size == 0 or np.any(lb < 1):
        raise ConfigError(
            field="lookbacks", expected="one or more whole numbers of sessions >= 1", got=lookbacks
        )
    if len(set(lb.tolist())) != lb.size:
        raise ConfigError(field="lookbacks", expected="distinct lookbacks", got=list(lookbacks))
    return lb


def _daily_vol(close: F64, vol_window: int) -> F64:
    """Daily zero-mean RMS volatility after each close (NaN until a full window)."""
    r = close[1:] / close[:-1] - 1.0
    vol = realized_vol(r, window=vol_window, periods_per_year=1)
    out: F64 = np.r_[np.nan, vol]
    return out


def trend_signals(
    close: ArrayLike,
    lookbacks: Sequence[int] = DEFAULT_LOOKBACKS,
    *,
    signal: Signal = "sign",
    vol_window: int = 60,
    z_cap: float = 1.0,
) -> F64:
    r"""Signal of each lookback after each close, shape ``(T, L)``; NaN until defined.

    Parameters
    ----------
    close
        Prices, shape ``(T,)``, oldest first (back-adjusted for splits).
    lookbacks
        Lookbacks in sessions.
    signal
        ``"sign"``: :math:`\operatorname{sign}(P_t - P_{t-L})`; ``"scaled"``: the
        :math:`L`-session return over :math:`z_{cap}\sigma_d\sqrt{L}`, clipped to ±1.
    vol_window
        Sessions of the daily volatility :math:`\sigma_d` (zero-mean) for ``"scaled"``.
    z_cap
        Return in volatility units that earns a full signal.

    Examples
    --------
    >>> trend_signals([1.0, 2.0, 3.0, 2.5], [1, 2]).tolist()
    [[nan, nan], [1.0, nan], [1.0, 1.0], [-1.0, 1.0]]
    """
    c = np.asarray(close, dtype=np.float64)
    lb = _lookbacks(lookbacks)
    if signal not in ("sign", "scaled"):
        raise ConfigError(field="signal", expected="'sign' or 'scaled'", got=signal)
    if not z_cap > 0.0:
        raise ConfigError(field="z_cap", expected="a number > 0", got=z_cap)
    n = c.size
    t = np.arange(n)[:, None]
    back = t - lb[None, :]
    ok = back >= 0
    past = np.where(ok, c[np.maximum(back, 0)], np.nan)
    if signal == "sign":
        out: F64 = np.where(ok, np.sign(c[:, None] - past), np.nan)
        return out
    sd = _daily_vol(c, vol_window)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (c[:, None] / past - 1.0) / (z_cap * sd * np.sqrt(lb[None, :]))
    scaled: F64 = np.clip(z, -1.0, 1.0)
    return scaled


def _combine(signals: F64, weights: ArrayLike | None, n_lb: int) -> tuple[F64, bool]:
    """Weighted signal, shape (T, P); flag whether the weights were a single set."""
    if weights is None:
        w = np.full((1, n_lb), 1.0 / n_lb)
        single = True
    else:
        w = np.asarray(weights, dtype=np.float64)
        single = w.ndim == 1
        w = np.atleast_2d(w)
        if w.shape[-1] != n_lb:
            raise ConfigError(
                field="weights", expected=f"{n_lb} weights per parameter set", got=w.shape
            )
        if np.any(~np.isfinite(w)) or np.any(np.abs(w.sum(axis=1) - 1.0) > 1e-9):
            raise ConfigError(field="weights", expected="weights summing to 1", got=w.sum(axis=1))
    out: F64 = signals @ w.T
    return out, single


def trend_exposure(
    close: ArrayLike,
    lookbacks: Sequence[int] = DEFAULT_LOOKBACKS,
    *,
    weights: ArrayLike | None = None,
    risk_target: ArrayLike = 0.10,
    max_leverage: ArrayLike = 2.0,
    vol_window: int = 60,
    signal: Signal = "sign",
    z_cap: float = 1.0,
) -> F64:
    r"""Exposure (fraction of CTA assets, + = long) after each close, vectorised over sets.

    ``weights`` (shape ``(L,)`` or ``(P, L)``), ``risk_target`` and ``max_leverage``
    (scalars or ``(P,)``) broadcast over ``P`` parameter sets; the signals are computed once.

    Returns
    -------
    ndarray
        ``(T,)`` for one parameter set, else ``(T, P)``; NaN until every lookback and the
        volatility window are defined.

    Raises
    ------
    DataError
        Realised volatility is zero on a defined row ("zero volatility").

    Notes
    -----
    .. math::

        E_t = \operatorname{clip}\left(\sum_L w_L s_{L,t}\,
        \frac{\sigma^*}{\hat\sigma_t}, -L_{max}, L_{max}\right)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = 100 * np.cumprod(1 + rng.normal(0.001, 0.01, 300))
    >>> trend_exposure(p, [20, 60], risk_target=[0.05, 0.10, 0.40]).shape
    (300, 3)
    """
    c = np.asarray(close, dtype=np.float64)
    lb = _lookbacks(lookbacks)
    sig = trend_signals(c, lb.tolist(), signal=signal, vol_window=vol_window, z_cap=z_cap)
    combined, single = _combine(sig, weights, lb.size)
    vol = _daily_vol(c, vol_window) * np.sqrt(PERIODS_PER_YEAR)
    if np.any(vol == 0.0):
        t = int(np.flatnonzero(vol == 0.0)[0])
        raise DataError(
            field="close",
            expected="prices that move: realised volatility is zero over the window",
            got=f"zero volatility at row {t}",
        )
    tg = np.atleast_1d(np.asarray(risk_target, dtype=np.float64))
    cap = np.atleast_1d(np.asarray(max_leverage, dtype=np.float64))
    if np.any(~(tg > 0.0)):
        raise ConfigError(field="risk_target", expected="a volatility > 0", got=tg.min())
    if np.any(~(cap > 0.0)):
        raise ConfigError(field="max_leverage", expected="a cap > 0", got=cap.min())
    expo = np.clip(combined * tg[None, :] / vol[:, None], -cap[None, :], cap[None, :])
    scalar = single and np.ndim(risk_target) == 0 and np.ndim(max_leverage) == 0
    out: F64 = expo[:, 0] if scalar else expo
    return out


@dataclass(frozen=True)
class CtaResult:
    """The CTA model at ``as_of``: history, trigger prices, flip level and scenarios.

    ``history``: ``date, close, adj_close, ret, s_<L>..., signal, realized_vol, exposure,
    position, flow, flipped`` (dollars for ``position`` and ``flow``).
    ``triggers``: ``lookback, signal, trigger_price`` (tomorrow's comparison price of each
    lookback), ``distance_pct, flips_to, signal_if_crossed, flow_if_crossed`` (tomorrow's
    combined signal and flow with the close just beyond that trigger).
    ``scenarios``: ``move, price, signal, exposure, position, flow`` for tomorrow's close.
    ``flip_level``: the close nearest today's at which tomorrow's combined signal loses its
    sign (None when today's signal is 0 or no such price is within ±50 %).
    """

    asset_id: str
    as_of: dt.date
    aum: float
    close: float
    signal: float
    realized_vol: float
    exposure: float
    position: float
    flow: float
    history: pl.DataFrame
    triggers: pl.DataFrame
    scenarios: pl.DataFrame
    flip_level: float | None
    params: dict[str, Any]


def _tomorrow(
    adj: F64,
    lb: NDArray[np.int64],
    w: F64,
    *,
    signal: Signal,
    vol_window: int,
    z_cap: float,
    risk_target: float,
    max_leverage: float,
) -> Callable[[F64], tuple[F64, F64]]:
    """Return f(x) -> (combined signal, exposure) for tomorrow's close x (vector)."""
    last = adj[-1]
    trig = adj[adj.size - lb]  # P_{t+1-L}
    r_hist = adj[1:] / adj[:-1] - 1.0
    keep = r_hist[-(vol_window - 1) :] if vol_window > 1 else r_hist[:0]
    base = float(np.sum(keep**2))

    def f(x: F64) -> tuple[F64, F64]:
        r_new = x / last - 1.0
        sd = np.sqrt((base + r_new**2) / vol_window)
        if signal == "sign":
            s = np.sign(x[:, None] - trig[None, :])
        else:
            z = (x[:, None] / trig[None, :] - 1.0) / (z_cap * sd[:, None] * np.sqrt(lb[None, :]))
            s = np.clip(z, -1.0, 1.0)
        comb = s @ w
        expo = np.clip(
            comb * risk_target / (sd * np.sqrt(PERIODS_PER_YEAR)), -max_leverage, max_leverage
        )
        return comb, expo

    return f


def _flip_level(f: Callable[[F64], tuple[F64, F64]], x0: float, now: float) -> float | None:
    """Nearest price to ``x0`` where tomorrow's signal starts or stops having today's sign."""
    if now == 0.0:
        return None
    grid = x0 * np.linspace(0.5, 1.5, 4001)
    lost = np.sign(f(grid)[0]) != np.sign(now)
    edges = np.flatnonzero(lost[1:] != lost[:-1])  # boundary between grid[i] and grid[i + 1]
    if edges.size == 0:
        return None
    k = int(edges[np.argmin(np.abs(grid[edges] - x0))])
    a, b = float(grid[k]), float(grid[k + 1])
    a_lost = bool(lost[k])
    for _ in range(80):
        m = 0.5 * (a + b)
        if (np.sign(f(np.array([m]))[0][0]) != np.sign(now)) == a_lost:
            a = m
        else:
            b = m
    return a if a_lost else b


def cta_model(
    prices: Any,
    asset_id: str,
    *,
    aum: float,
    lookbacks: Sequence[int] = DEFAULT_LOOKBACKS,
    signal: Signal = "sign",
    weights: Sequence[float] | None = None,
    risk_target: float = 0.10,
    vol_window: int = 60,
    max_leverage: float = 2.0,
    z_cap: float = 1.0,
    as_of: dt.date | str | None = None,
    moves: Sequence[float] = DEFAULT_MOVES,
) -> CtaResult:
    r"""Run the trend model on one asset: positions, flows, triggers and tomorrow's scenarios.

    Parameters
    ----------
    prices
        Long prices panel (any narwhals frame).
    asset_id
        The traded asset (an index or future proxy).
    aum
        Aggregate CTA assets following the model, currency units (required).
    lookbacks, signal, weights, z_cap
        As for :func:`trend_signals`; ``weights`` default to equal.
    risk_target, vol_window, max_leverage
        Annualised volatility target, its estimation window, and the exposure cap.
    as_of
        Last close used (default: the asset's last date).
    moves
        Tomorrow's price changes for the scenario table.

    Returns
    -------
    CtaResult

    Raises
    ------
    DataError
        Fewer prices than the longest lookback (or volatility window) plus one, or zero
        volatility.

    Notes
    -----
    Flow at the close: :math:`A(E_t - E_{t-1}(1 + r_t))`. Tomorrow's trigger of lookback
    :math:`L` is :math:`P_{t+1-L}`; tomorrow's exposure at a close :math:`x` recomputes every
    signal and the volatility with :math:`x` appended.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> res = cta_model(sample.load("prices"), "SPX", aum=3e11, lookbacks=[20, 60])
    >>> res.triggers.select("lookback", "signal").rows()
    [(20, -1.0), (60, -1.0)]
    >>> res.flip_level is not None and res.flip_level > res.close
    True
    """
    lb = _lookbacks(lookbacks)
    if not (np.isfinite(aum) and aum > 0):
        raise ConfigError(field="aum", expected="CTA assets > 0 in currency units", got=aum)
    if vol_window < 2:
        raise ConfigError(field="vol_window", expected="sessions >= 2", got=vol_window)
    need = int(max(lb.max(), vol_window)) + 1
    series = asset_series(prices, asset_id, as_of, min_rows=need)
    adj = series.adj_close
    sig = trend_signals(adj, lb.tolist(), signal=signal, vol_window=vol_window, z_cap=z_cap)
    w = (
        np.full(lb.size, 1.0 / lb.size)
        if weights is None
        else np.asarray(list(weights), dtype=np.float64)
    )
    combined, _ = _combine(sig, w, lb.size)
    expo = trend_exposure(
        adj,
        lb.tolist(),
        weights=w,
        risk_target=risk_target,
        max_leverage=max_leverage,
        vol_window=vol_window,
        signal=signal,
        z_cap=z_cap,
    )
    vol = _daily_vol(adj, vol_window) * np.sqrt(PERIODS_PER_YEAR)
    ret = np.r_[np.nan, adj[1:] / adj[:-1] - 1.0]
    prev = np.r_[np.nan, expo[:-1]]
    flow = aum * (expo - prev * (1.0 + ret))
    changed = np.any(np.sign(sig[1:]) != np.sign(sig[:-1]), axis=1)
    flipped = np.r_[False, changed & ~np.isnan(sig[:-1]).any(axis=1)]
    hist = {
        "date": series.dates,
        "close": series.close,
        "adj_close": adj,
        "ret": ret,
        **{f"s_{L}": sig[:, i] for i, L in enumerate(lb.tolist())},
        "signal": combined[:, 0],
        "realized_vol": vol,
        "exposure": expo,
        "position": aum * expo,
        "flow": flow,
        "flipped": flipped,
    }
    history = pl.DataFrame(hist).with_columns(pl.selectors.float().fill_nan(None))
    if np.isnan(expo[-1]):
        raise DataError(
            field="close",
            key={"asset_id": asset_id, "date": series.last},
            expected=f"{need} prices up to the date for lookbacks {lb.tolist()}",
        )

    f = _tomorrow(
        adj,
        lb,
        w,
        signal=signal,
        vol_window=vol_window,
        z_cap=z_cap,
        risk_target=risk_target,
        max_leverage=max_leverage,
    )
    last, e_now, s_now = float(adj[-1]), float(expo[-1]), float(combined[-1, 0])
    trig = adj[adj.size - lb]
    s_today = sig[-1]
    # Just beyond each trigger, on the side where that lookback's signal flips.
    beyond = trig * (1.0 - 1e-9 * np.sign(s_today))
    comb_b, e_b = f(beyond)
    rows = [
        {
            "lookback": L,
            "signal": float(s_today[i]),
            "trigger_price": float(trig[i]),
            "distance_pct": float(trig[i] / last - 1.0),
            "flips_to": _flips_to(float(s_today[i])),
            "signal_if_crossed": float(comb_b[i]) if s_today[i] != 0 else np.nan,
            "flow_if_crossed": (
                aum * float(e_b[i] - e_now * beyond[i] / last) if s_today[i] != 0 else np.nan
            ),
        }
        for i, L in enumerate(lb.tolist())
    ]
    triggers = pl.DataFrame(rows).with_columns(pl.selectors.float().fill_nan(None))
    flip = _flip_level(f, last, s_now)
    if flip is not None and signal == "sign":
        # Sign signals change only at trigger prices: report the trigger itself.
        flip = float(trig[np.argmin(np.abs(trig - flip))])
    mv = np.asarray(list(moves), dtype=np.float64)
    px = last * (1.0 + mv)
    comb_x, e_x = f(px)
    scenarios = pl.DataFrame(
        {
            "move": mv,
            "price": px,
            "signal": comb_x,
            "exposure": e_x,
            "position": aum * e_x,
            "flow": aum * (e_x - e_now * (1.0 + mv)),
        }
    )
    return CtaResult(
        asset_id=asset_id,
        as_of=series.last,
        aum=float(aum),
        close=float(series.close[-1]),
        signal=s_now,
        realized_vol=float(vol[-1]),
        exposure=e_now,
        position=aum * e_now,
        flow=float(flow[-1]),
        history=history,
        triggers=triggers,
        scenarios=scenarios,
        flip_level=flip,
        params={
            "lookbacks": lb.tolist(),
            "signal": signal,
            "weights": w.tolist(),
            "risk_target": risk_target,
            "vol_window": vol_window,
            "max_leverage": max_leverage,
            "z_cap": z_cap,
        },
    )


def _flips_to(s: float) -> str:
    if s > 0:
        return "short below"
    if s < 0:
        return "long above"
    return "n/a"


def cta_events(
    prices: Any,
    asset_id: str,
    *,
    aum: float,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    triggers: bool = True,
    adv_window: int = 20,
    calendar: str = DEFAULT_CALENDAR,
    **kwargs: Any,
) -> pl.DataFrame:
    """Return CTA flows as calendar events (family ``cta``).

    One row per session from ``start`` to ``end`` (the as-of date) with the model's flow,
    and, with ``triggers``, one conditional row per lookback dated the next session: the
    flow if tomorrow's close crosses that lookback's trigger price (the notes say so).
    Other arguments are those of :func:`cta_model`.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> ev = cta_events(sample.load("prices"), "SPX", aum=3e11, start="2018-12-24")
    >>> ev.filter(ev["notes"].str.starts_with("conditional")).height
    4
    """
    res = cta_model(prices, asset_id, aum=aum, as_of=end, **kwargs)
    series = asset_series(prices, asset_id, end)
    adv = (
        pl.Series(series.volume).rolling_mean(adv_window).shift(1).to_numpy()
        if series.volume is not None
        else np.full(series.close.size, np.nan)
    )
    p = res.params
    base = (
        f"CTA model: lookbacks {p['lookbacks']} ({p['signal']}), risk target "
        f"{p['risk_target']:.0%}, vol window {p['vol_window']}, max leverage "
        f"{p['max_leverage']:g}, AUM {fmt_money(aum)}"
    )
    hist = res.history.with_columns(_adv=pl.Series(adv)).filter(pl.col("flow").is_not_null())
    if start is not None:
        hist = hist.filter(pl.col("date") >= dt.date.fromisoformat(str(start)))
    rows = hist.select(
        "date",
        pl.lit(asset_id).alias("asset_id"),
        pl.col("flow").alias("dollars"),
        (pl.col("flow") / pl.col("close")).alias("shares"),
        ((pl.col("flow") / pl.col("close")).abs() / pl.col("_adv")).alias("days_of_adv"),
        pl.lit(base).alias("notes"),
    )
    parts = [rows]
    if triggers:
        nxt = shift_sessions(res.as_of, 1, calendar)
        last_adv = float(adv[-1]) if series.volume is not None else np.nan
        ratio = res.close / float(series.adj_close[-1])
        trig = res.triggers.filter(pl.col("flow_if_crossed").is_not_null())
        parts.append(
            trig.select(
                pl.lit(nxt).alias("date"),
                pl.lit(asset_id).alias("asset_id"),
                pl.col("flow_if_crossed").alias("dollars"),
                (pl.col("flow_if_crossed") / (pl.col("trigger_price") * ratio)).alias("shares"),
                (
                    (pl.col("flow_if_crossed") / (pl.col("trigger_price") * ratio)).abs() / last_adv
                ).alias("days_of_adv"),
                (
                    pl.lit("conditional: if the close is ")
                    + pl.when(pl.col("signal") > 0)
                    .then(pl.lit("below "))
                    .otherwise(pl.lit("above "))
                    + pl.col("trigger_price").round(2).cast(pl.String)
                    + pl.lit(", the ")
                    + pl.col("lookback").cast(pl.String)
                    + pl.lit("-session signal flips; ")
                    + pl.lit(base)
                ).alias("notes"),
            )
        )
    return make_events(pl.concat(parts), "cta")
