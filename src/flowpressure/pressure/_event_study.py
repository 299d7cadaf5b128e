r"""Event studies: abnormal and cumulative abnormal returns around dated events.

Day 0 is the first session of the returns panel on or after the event date. Abnormal
returns come from a market model estimated over an estimation window before the event, or
are market-adjusted (:math:`AR = r - r_m`); the cumulative abnormal return (CAR) path is
averaged across events with cross-sectional t-statistics and confidence intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.pressure._common import require, to_polars

__all__ = ["EventStudyResult", "event_study"]

F64 = NDArray[np.float64]
Model = Literal["market", "adjusted"]


def _student_t(df: NDArray[np.float64], confidence: float) -> tuple[F64, Any]:
    from scipy.stats import t as student_t

    q = student_t.ppf(0.5 + confidence / 2.0, np.maximum(df, 1.0))
    return np.asarray(q, dtype=np.float64), student_t


def _summarise(values: F64, confidence: float) -> dict[str, float | int]:
    """Cross-sectional mean, standard error, t, two-sided p and CI of one value per event."""
    n = int(values.size)
    mean = float(values.mean()) if n else math.nan
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    t = mean / se if n > 1 and se > 0 else math.nan
    q, dist = _student_t(np.array([n - 1.0]), confidence)
    p = float(2 * dist.sf(abs(t), max(n - 1, 1))) if math.isfinite(t) else math.nan
    half = float(q[0]) * se
    return {
        "n": n,
        "mean": mean,
        "se": se,
        "t": t,
        "p": p,
        "ci_low": mean - half,
        "ci_high": mean + half,
    }


@dataclass(frozen=True)
class EventStudyResult:
    r"""Abnormal returns around events, per event and averaged across them.

    Attributes
    ----------
    path
        One row per relative day ``day`` of the event window: ``n`` events, ``aar`` (mean
        abnormal return) and its ``aar_t``, ``car`` (mean cumulative abnormal return from the
        window start), ``car_se``, ``car_t``, ``ci_low``/``ci_high`` (``confidence``).
    events
        One row per event used: ``event_id, asset_id, event_date, day0`` (the session of day
        0), ``alpha, beta, sigma`` (estimation-window residual volatility), ``n_estimation``,
        ``car`` (over the whole window), ``scar`` (``car`` over :math:`\sigma\sqrt{L}`).
    abnormal
        Long frame ``event_id, asset_id, day, ar, car``.
    skipped
        Events left out, by reason (``"window outside the data"``, ``"short estimation"``,
        ``"missing event-window return"``).
    params
        ``model, estimation, window, market, confidence, returns``.
    """

    path: pl.DataFrame
    events: pl.DataFrame
    abnormal: pl.DataFrame
    skipped: dict[str, int]
    params: dict[str, Any]
    _ar: F64 = field(repr=False)

    def car(self, start: int, end: int) -> dict[str, float | int]:
        """CAR over relative days ``start..end`` (inclusive), averaged across events.

        Returns ``n, mean, se, t, p`` (two-sided, Student t with n − 1 degrees of freedom),
        ``ci_low, ci_high`` and ``start, end``.

        Raises
        ------
        ConfigError
            ``start..end`` is not inside the event window.
        """
        w0, w1 = self.params["window"]
        if not w0 <= start <= end <= w1:
            raise ConfigError(
                field="start, end",
                expected=f"days inside the event window {w0}..{w1}, start <= end",
                got=f"{start}..{end}",
            )
        sums = self._ar[:, start - w0 : end - w0 + 1].sum(axis=1)
        out = _summarise(sums, float(self.params["confidence"]))
        out.update(start=start, end=end)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return path, per-event rows, skipped counts and parameters as JSON-ready objects."""
        return {
            "path": self.path.to_dicts(),
            "events": self.events.to_dicts(),
            "skipped": dict(self.skipped),
            "params": dict(self.params),
        }


def _returns_frame(panel: Any, returns: str | None) -> tuple[pl.DataFrame, str]:
    frame = to_polars(panel)
    require(frame, "returns panel", "asset_id", "date")
    if returns is None:
        for name in ("ret_total", "ret"):
            if name in frame.columns:
                returns = name
                break
    if returns is None:
        from flowpressure.data import adjusted_returns

        require(frame, "returns panel", "asset_id", "date", "close")
        frame = adjusted_returns(frame)
        returns = "ret_total"
    require(frame, "returns panel", returns)
    return frame.select("asset_id", "date", pl.col(returns).cast(pl.Float64)), returns


def _events_frame(events: Any) -> pl.DataFrame:
    if isinstance(events, Sequence) and not isinstance(events, str):
        if not events:
            raise DataError(field="events", expected="at least one (asset_id, date) event")
        ev = pl.DataFrame(
            [(str(a), d) for a, d in events], schema=["asset_id", "date"], orient="row"
        )
    else:
        ev = to_polars(events)
        if "date" not in ev.columns and "event_date" in ev.columns:
            ev = ev.rename({"event_date": "date"})
        require(ev, "events", "asset_id", "date")
    if ev.height == 0:
        raise DataError(field="events", expected="at least one (asset_id, date) event", got=0)
    if ev.schema["date"] == pl.String:
        ev = ev.with_columns(pl.col("date").str.to_date())
    elif isinstance(ev.schema["date"], pl.Datetime):
        ev = ev.with_columns(pl.col("date").cast(pl.Date))
    if "event_id" not in ev.columns:
        ev = ev.with_row_index("event_id")
    return ev.select(pl.col("event_id").cast(pl.String), "asset_id", "date")


def event_study(
    panel: Any,
    events: Any,
    *,
    market: str = "SPX",
    model: Model = "market",
    estimation: tuple[int, int] = (-250, -21),
    window: tuple[int, int] = (-10, 10),
    min_estimation: int | None = None,
    returns: str | None = None,
    confidence: float = 0.95,
) -> EventStudyResult:
    r"""Cumulative abnormal returns around events, with cross-sectional t-statistics.

    Parameters
    ----------
    panel
        Long panel ``asset_id, date`` with a return column (``ret_total``, else ``ret``, or
        the one named by ``returns``) or with ``close`` (returns are then computed with
        :func:`flowpressure.data.adjusted_returns`). The market is one of its assets.
    events
        Frame with ``asset_id`` and ``date`` (or ``event_date``), optional ``event_id``; or a
        list of ``(asset_id, date)`` pairs.
    market
        ``asset_id`` of the market return (default ``SPX``).
    model
        ``"market"`` (OLS :math:`r = \alpha + \beta r_m` over the estimation window) or
        ``"adjusted"`` (:math:`\alpha = 0, \beta = 1`).
    estimation, window
        Relative session ranges, inclusive: the estimation window (e.g. −250..−21) and the
        event window (e.g. −10..+10). They must not overlap.
    min_estimation
        Fewest estimation-window returns an event needs (default 80 % of the window).
    returns
        Name of the return column to use.
    confidence
        Confidence level of the intervals (0.95).

    Returns
    -------
    EventStudyResult

    Raises
    ------
    DataError
        No events; an event's asset is not in the panel; an event date outside the panel's
        date range; no event left after the checks.
    ConfigError
        Windows empty, overlapping, or ``confidence`` not in (0, 1).

    Notes
    -----
    For event :math:`i` with market-model estimates :math:`\hat\alpha_i, \hat\beta_i`:

    .. math::

        AR_{i\tau} = r_{i\tau} - \hat\alpha_i - \hat\beta_i r_{m\tau},\qquad
        CAR_i(\tau_1, \tau_2) = \sum_{\tau=\tau_1}^{\tau_2} AR_{i\tau}

    and across the :math:`N` events

    .. math::

        \overline{CAR} = \frac{1}{N}\sum_i CAR_i,\qquad
        t = \frac{\overline{CAR}}{s_{CAR}/\sqrt{N}}

    with :math:`s_{CAR}` the cross-sectional standard deviation (robust to event-induced
    variance); the interval is :math:`\overline{CAR} \pm t_{N-1} s_{CAR}/\sqrt N`.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> ev = [("S01", "2010-06-15"), ("S02", "2012-03-01"), ("S03", "2015-09-10")]
    >>> res = event_study(sample.load("prices"), ev, window=(-5, 5))
    >>> res.path.height, res.events.height, sorted(res.car(0, 5))[:3]
    (11, 3, ['ci_high', 'ci_low', 'end'])
    """
    if model not in ("market", "adjusted"):
        raise ConfigError(field="model", expected="'market' or 'adjusted'", got=model)
    e0, e1 = (int(x) for x in estimation)
    w0, w1 = (int(x) for x in window)
    if w0 > w1:
        raise ConfigError(field="window", expected="start <= end", got=f"{w0}..{w1}")
    if e0 > e1:
        raise ConfigError(field="estimation", expected="start <= end", got=f"{e0}..{e1}")
    if not (e1 < w0 or e0 > w1):
        raise ConfigError(
            field="estimation",
            expected=f"a window that does not overlap the event window {w0}..{w1}",
            got=f"{e0}..{e1}",
        )
    if not 0.0 < confidence < 1.0:
        raise ConfigError(field="confidence", expected="a level in (0, 1)", got=confidence)
    est_len = e1 - e0 + 1
    need = max(3, math.ceil(0.8 * est_len) if min_estimation is None else min_estimation)

    ev = _events_frame(events)
    rets, col = _returns_frame(panel, returns)
    known = set(rets["asset_id"].unique().to_list())
    if market not in known:
        raise DataError(field="market", expected="an asset_id of the returns panel", got=market)
    missing = ev.filter(~pl.col("asset_id").is_in(sorted(known)))
    if missing.height:
        first = missing.sort("asset_id", "date").row(0, named=True)
        raise DataError(
            field="asset_id",
            key={"asset_id": first["asset_id"], "date": first["date"]},
            expected="an event asset in the returns panel",
            others=missing.height - 1,
        )

    from flowpressure.data import price_matrix

    assets = sorted(set(ev["asset_id"].to_list()) | {market})
    dates, ids, mat = price_matrix(rets.filter(pl.col("asset_id").is_in(assets)), col, assets)
    days = dates.astype("datetime64[D]")
    lo, hi = days[0].astype(object), days[-1].astype(object)
    outside = ev.filter((pl.col("date") < lo) | (pl.col("date") > hi))
    if outside.height:
        first = outside.sort("date", "asset_id").row(0, named=True)
        raise DataError(
            field="date",
            key={"asset_id": first["asset_id"], "date": first["date"]},
            expected=f"an event date inside the price range {lo.isoformat()}..{hi.isoformat()}",
            others=outside.height - 1,
        )
    col_of = {a: j for j, a in enumerate(ids)}
    mkt = mat[:, col_of[market]]
    ev_days = ev["date"].to_numpy().astype("datetime64[D]")
    i0 = np.searchsorted(days, ev_days, side="left")
    cols = np.array([col_of[a] for a in ev["asset_id"].to_list()], dtype=np.int64)

    t_len = days.size
    est_idx = i0[:, None] + np.arange(e0, e1 + 1)[None, :]
    win_idx = i0[:, None] + np.arange(w0, w1 + 1)[None, :]
    skipped: dict[str, int] = {}
    inside = (est_idx.min(axis=1) >= 0) & (win_idx.max(axis=1) < t_len) & (win_idx.min(axis=1) >= 0)
    inside &= est_idx.max(axis=1) < t_len
    if (~inside).any():
        skipped["window outside the data"] = int((~inside).sum())
    keep = np.flatnonzero(inside)
    est_idx, win_idx, cols_k, i0_k = est_idx[keep], win_idx[keep], cols[keep], i0[keep]
    r_est = mat[est_idx, cols_k[:, None]]
    m_est = mkt[est_idx]
    r_win = mat[win_idx, cols_k[:, None]]
    m_win = mkt[win_idx]

    ok = np.isfinite(r_est) & np.isfinite(m_est)
    n_est = ok.sum(axis=1)
    good = n_est >= need
    if (~good).any():
        skipped["short estimation"] = int((~good).sum())
    full = np.isfinite(r_win).all(axis=1) & np.isfinite(m_win).all(axis=1)
    bad_win = good & ~full
    if bad_win.any():
        skipped["missing event-window return"] = int(bad_win.sum())
    use = good & full
    if not use.any():
        raise DataError(
            field="events",
            expected="at least one event with full estimation and event windows in the data",
            got=f"{ev.height} events, none usable ({skipped})",
        )
    sel = np.flatnonzero(use)
    okm = ok[sel]
    cnt = n_est[sel].astype(np.float64)
    r = np.where(okm, r_est[sel], 0.0)
    m = np.where(okm, m_est[sel], 0.0)
    if model == "market":
        rbar = r.sum(axis=1) / cnt
        mbar = m.sum(axis=1) / cnt
        dm = np.where(okm, m - mbar[:, None], 0.0)
        dr = np.where(okm, r - rbar[:, None], 0.0)
        sxx = (dm * dm).sum(axis=1)
        beta = np.where(sxx > 0, (dm * dr).sum(axis=1) / np.where(sxx > 0, sxx, 1.0), 0.0)
        alpha = rbar - beta * mbar
        dof = cnt - 2.0
    else:
        alpha = np.zeros(sel.size)
        beta = np.ones(sel.size)
        dof = cnt - 1.0
    resid = np.where(okm, r - alpha[:, None] - beta[:, None] * m, 0.0)
    if model == "adjusted":
        resid = np.where(okm, resid - (resid.sum(axis=1) / cnt)[:, None], 0.0)
    sigma = np.sqrt((resid * resid).sum(axis=1) / dof)

    ar = r_win[sel] - alpha[:, None] - beta[:, None] * m_win[sel]
    car = np.cumsum(ar, axis=1)
    n = sel.size
    rel = np.arange(w0, w1 + 1)
    aar = ar.mean(axis=0)
    mean_car = car.mean(axis=0)
    if n > 1:
        aar_se = ar.std(axis=0, ddof=1) / math.sqrt(n)
        car_se = car.std(axis=0, ddof=1) / math.sqrt(n)
    else:
        aar_se = np.full(rel.size, np.nan)
        car_se = np.full(rel.size, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        aar_t = np.where(aar_se > 0, aar / aar_se, np.nan)
        car_t = np.where(car_se > 0, mean_car / car_se, np.nan)
    q, _ = _student_t(np.array([n - 1.0]), confidence)
    path = pl.DataFrame(
        {
            "day": rel,
            "n": np.full(rel.size, n),
            "aar": aar,
            "aar_t": aar_t,
            "car": mean_car,
            "car_se": car_se,
            "car_t": car_t,
            "ci_low": mean_car - q[0] * car_se,
            "ci_high": mean_car + q[0] * car_se,
        }
    ).with_columns(pl.col(c).fill_nan(None) for c in ("aar_t", "car_se", "car_t"))

    ev_used = ev[keep[sel].tolist()]
    day0 = days[i0_k[sel]]
    per_event = ev_used.select(
        "event_id",
        "asset_id",
        pl.col("date").alias("event_date"),
        pl.Series("day0", day0).cast(pl.Date),
        pl.Series("alpha", alpha),
        pl.Series("beta", beta),
        pl.Series("sigma", sigma),
        pl.Series("n_estimation", n_est[sel].astype(np.int64)),
        pl.Series("car", car[:, -1]),
        pl.Series("scar", car[:, -1] / (sigma * math.sqrt(rel.size))),
    )
    abnormal = pl.DataFrame(
        {
            "event_id": np.repeat(ev_used["event_id"].to_numpy(), rel.size),
            "asset_id": np.repeat(ev_used["asset_id"].to_numpy(), rel.size),
            "day": np.tile(rel, n),
            "ar": ar.ravel(),
            "car": car.ravel(),
        }
    )
    params: dict[str, Any] = {
        "model": model,
        "estimation": (e0, e1),
        "window": (w0, w1),
        "market": market,
        "confidence": confidence,
        "returns": col,
        "min_estimation": need,
        "events_in": ev.height,
    }
    return EventStudyResult(
        path=path, events=per_event, abnormal=abnormal, skipped=skipped, params=params, _ar=ar
    )
