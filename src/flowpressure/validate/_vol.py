r"""Check ``vol-target``: does scaling market exposure by inverse volatility earn alpha.

No vol-control index is in the data, so the check rebuilds Moreira and Muir's (2017)
volatility-managed market portfolio from Ken French's daily factors and runs the project's
own vol-target model (:func:`flowpressure.mechanics.vol_target.vol_targeting`, its defaults)
on the same daily market index; both are regressed on the market.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from flowpressure._errors import DataError
from flowpressure.mechanics.vol_target import vol_targeting
from flowpressure.validate._paths import require
from flowpressure.validate._result import ChartSeries, ChartSpec, CheckResult, Verdict
from flowpressure.validate._stats import ols_newey_west

__all__ = ["NAME", "check_vol_target", "read_ff_daily", "run"]

NAME = "vol-target"
_F64 = np.ndarray[Any, np.dtype[np.float64]]
_ROW = re.compile(r"^\s*(\d{8})\s*,(.*)$")


def read_ff_daily(path: Path) -> pl.DataFrame:
    r"""Read Ken French's daily factors CSV: ``date, mkt_rf, rf`` as fractions (file: percent).

    The preamble lines and the copyright footer are skipped: a data row starts with a
    YYYYMMDD date.

    Raises
    ------
    DataError
        No ``Mkt-RF``/``RF`` header, no data row, or a value that is not a number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = "pre\n\n,Mkt-RF,SMB,HML,RF\n19260701, 0.10, -0.25, -0.27, 0.009\n\nCopyright\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "ff.csv"
    ...     _ = p.write_text(text)
    ...     day, mkt_rf, rf = read_ff_daily(p).row(0)
    >>> day, mkt_rf, round(rf, 8)
    (datetime.date(1926, 7, 1), 0.001, 9e-05)
    """
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})", field="file") from None
    header: list[str] | None = None
    days: list[str] = []
    mkt: list[float] = []
    rf: list[float] = []
    for line in lines:
        if header is None:
            cells = [c.strip() for c in line.split(",")]
            if "Mkt-RF" in cells and "RF" in cells:
                header = cells
            continue
        m = _ROW.match(line)
        if m is None:
            if days:  # the first non-data line after the daily block ends it
                break
            continue
        cells = [m.group(1), *(c.strip() for c in m.group(2).split(","))]
        try:
            mkt.append(float(cells[header.index("Mkt-RF")]) / 100.0)
            rf.append(float(cells[header.index("RF")]) / 100.0)
        except (ValueError, IndexError):
            raise DataError(
                field="Mkt-RF, RF", key={"date": m.group(1)}, expected="numbers (percent)"
            ) from None
        days.append(m.group(1))
    if header is None or not days:
        raise DataError(
            f"{path.name}: no Fama-French daily rows (a ',Mkt-RF,...,RF' header, then YYYYMMDD "
            "rows)",
            field="Mkt-RF",
        )
    frame = pl.DataFrame({"date": days, "mkt_rf": mkt, "rf": rf}).with_columns(
        pl.col("date").str.strptime(pl.Date, "%Y%m%d")
    )
    if frame["date"].is_duplicated().any() or not frame["date"].is_sorted():
        raise DataError(field="date", expected="increasing dates, one row per day")
    return frame


def _sharpe(x: _F64) -> float:
    return float(x.mean() / x.std(ddof=1) * math.sqrt(12.0))


def check_vol_target(
    ff_daily: Path,
    *,
    target: float = 0.10,
    max_leverage: float = 2.0,
    window: int = 20,
) -> CheckResult:
    r"""Alpha of volatility-managed market exposure: Moreira–Muir and flowpressure's model.

    Parameters
    ----------
    ff_daily
        ``factors/F-F_Research_Data_Factors_daily.CSV`` (Ken French; Mkt-RF and RF in percent).
    target, max_leverage, window
        Parameters of :func:`~flowpressure.mechanics.vol_target.vol_targeting`; the defaults
        are the model's own (10 % target, cap 2, 20-session rolling volatility).

    Returns
    -------
    CheckResult

    Raises
    ------
    DataError
        The file has no Fama–French daily rows, or fewer than 36 months.

    Notes
    -----
    **Method.** Daily market total return :math:`r_d = (\text{Mkt-RF} + \text{RF})/100`.
    Monthly market excess return :math:`f_t = \prod_d (1+r_d) - \prod_d (1+\text{RF}_d)`;
    realised variance :math:`RV_t = \sum_{d\in t} (x_d - \bar x_t)^2` of the daily excess
    returns :math:`x_d` (Moreira–Muir). Managed return :math:`f^\sigma_t = c\,f_t / RV_{t-1}`,
    :math:`c` set so that :math:`f^\sigma` and :math:`f` have the same standard deviation over
    the sample (ex post, as in the paper). The model under test: ``vol_targeting`` on the
    index :math:`\prod(1+r_d)` gives the exposure :math:`E_d` at each close; the fund earns
    :math:`\text{RF}_{d+1} + E_d\,x_{d+1}` the next day (cash, or borrowing, at the bill rate;
    no costs), compounded to monthly excess returns over months with an exposure every day.
    Each managed series is regressed on :math:`f_t`: alpha (×12, in %) with a Newey–West t
    (automatic lags), and annualised Sharpe ratios (√12) against buy-and-hold.

    **Reference.** Moreira and Muir (2017), "Volatility-Managed Portfolios", Journal of Finance
    72(4), Table I: the volatility-managed market has an alpha of about 4.9 % a year on the
    market (t about 3, 1926–2015) and a higher Sharpe ratio than buy-and-hold.

    **Verdict** (fixed in code before looking at the data): ``pass`` if the Moreira–Muir alpha
    is > 0 with t > 1.65 and the model's alpha is > 0; ``fail`` if either alpha is < 0;
    ``partial`` otherwise (both positive, Moreira–Muir's not significant).
    """
    daily = read_ff_daily(ff_daily)
    mkt_rf = daily["mkt_rf"].to_numpy().astype(np.float64)
    rf = daily["rf"].to_numpy().astype(np.float64)
    r_tot = mkt_rf + rf
    dates = daily["date"]
    panel = pl.DataFrame({"asset_id": "MKT", "date": dates, "close": np.cumprod(1.0 + r_tot)})
    out = vol_targeting(panel, "MKT", target=target, max_leverage=max_leverage, window=window)
    expo = out["exposure"].fill_null(np.nan).to_numpy().astype(np.float64)
    held = np.r_[np.nan, expo[:-1]]  # exposure set at the previous close
    vt_daily = rf + held * mkt_rf

    month = (dates.dt.year() * 12 + dates.dt.month() - 1).to_numpy()
    cut = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
    bounds = np.r_[cut, month.size]
    n_months = cut.size
    f = np.empty(n_months)
    rv = np.empty(n_months)
    vt = np.full(n_months, np.nan)
    for i in range(n_months):
        a, b = bounds[i], bounds[i + 1]
        bill = float(np.prod(1.0 + rf[a:b]))
        f[i] = float(np.prod(1.0 + r_tot[a:b])) - bill
        x = mkt_rf[a:b]
        rv[i] = float(((x - x.mean()) ** 2).sum())
        seg = vt_daily[a:b]
        if np.all(np.isfinite(seg)):
            vt[i] = float(np.prod(1.0 + seg)) - bill
    if n_months < 36:
        raise DataError(f"{ff_daily.name}: {n_months} months, need at least 36", field="date")
    ends = [dates[int(b) - 1] for b in bounds[1:]]

    # Moreira–Muir: f_t scaled by 1 / RV_{t-1}; c equalises the standard deviations.
    f_mm, raw = f[1:], f[1:] / np.where(rv[:-1] > 0, rv[:-1], np.nan)
    keep = np.isfinite(raw)
    f_mm, raw = f_mm[keep], raw[keep]
    c = float(np.std(f_mm, ddof=1) / np.std(raw, ddof=1))
    managed = c * raw
    mm = ols_newey_west(managed, f_mm)
    mm_alpha, mm_t = mm.coef[0] * 12.0 * 100.0, mm.t[0]

    ok = np.isfinite(vt)
    f_vt, r_vt = f[ok], vt[ok]
    ours = ols_newey_west(r_vt, f_vt)
    our_alpha, our_t = ours.coef[0] * 12.0 * 100.0, ours.t[0]
    sr_mkt, sr_mm = _sharpe(f_mm), _sharpe(managed)
    sr_mkt_vt, sr_vt = _sharpe(f_vt), _sharpe(r_vt)

    verdict: Verdict
    if mm_alpha > 0 and mm_t > 1.65 and our_alpha > 0:
        verdict = "pass"
    elif mm_alpha < 0 or our_alpha < 0:
        verdict = "fail"
    else:
        verdict = "partial"

    mm_ends = [e for e, k in zip(ends[1:], keep, strict=True) if k]
    vt_ends = [e for e, k in zip(ends, ok, strict=True) if k]
    span = f"{mm_ends[0]:%Y-%m}..{mm_ends[-1]:%Y-%m}"
    figure = (
        f"Moreira-Muir alpha {mm_alpha:+.2f}%/yr (t {mm_t:.2f}), Sharpe {sr_mkt:.2f} -> "
        f"{sr_mm:.2f}; our vol-target ({target:.0%}) alpha {our_alpha:+.2f}%/yr "
        f"(t {our_t:.2f}), Sharpe {sr_mkt_vt:.2f} -> {sr_vt:.2f}; {span}"
    )

    # Chart: cumulative log excess return at each year end (a hundred points per line).
    start = vt_ends[0]
    i_mkt = np.array([e >= start for e in ends])
    x_all = [e for e in ends if e >= start]
    mk = np.cumsum(np.log1p(f[i_mkt]))
    clipped = np.log1p(np.maximum(managed, -0.999))  # a -100 % month would end the log
    mm_map = dict(zip(mm_ends, clipped, strict=True))
    mmc = np.cumsum([mm_map.get(e, 0.0) for e in x_all])
    vt_map = dict(zip(vt_ends, np.log1p(r_vt), strict=True))
    vtc = np.cumsum([vt_map.get(e, 0.0) for e in x_all])
    year_end = [
        j for j in range(len(x_all)) if j == len(x_all) - 1 or x_all[j].year != x_all[j + 1].year
    ]
    xs = [x_all[j] for j in year_end]
    chart = ChartSpec(
        title="Cumulative log excess return: market, Moreira-Muir managed, flowpressure vol-target",
        x_label="year end",
        y_label="cumulative log excess return",
        series=(
            ChartSeries("market (buy and hold)", xs, [round(float(mk[j]), 4) for j in year_end]),
            ChartSeries("Moreira-Muir c/RV", xs, [round(float(mmc[j]), 4) for j in year_end]),
            ChartSeries(
                f"vol-target {target:.0%} (flowpressure)",
                xs,
                [round(float(vtc[j]), 4) for j in year_end],
            ),
        ),
        kind="line",
    )
    lev = held[np.isfinite(held)]
    figures: dict[str, Any] = {
        "mm_alpha_pct_yr": mm_alpha,
        "mm_alpha_t": mm_t,
        "mm_beta": mm.slope,
        "mm_r2": mm.r2,
        "mm_c": c,
        "mm_sharpe_market": sr_mkt,
        "mm_sharpe_managed": sr_mm,
        "mm_sharpe_change": sr_mm - sr_mkt,
        "mm_months": mm.n,
        "mm_first_month": mm_ends[0],
        "mm_last_month": mm_ends[-1],
        "vt_alpha_pct_yr": our_alpha,
        "vt_alpha_t": our_t,
        "vt_beta": ours.slope,
        "vt_r2": ours.r2,
        "vt_sharpe_market": sr_mkt_vt,
        "vt_sharpe": sr_vt,
        "vt_sharpe_change": sr_vt - sr_mkt_vt,
        "vt_months": ours.n,
        "vt_first_month": vt_ends[0],
        "vt_mean_exposure": float(lev.mean()),
        "vt_share_days_at_cap": float(np.mean(lev >= max_leverage - 1e-12)),
        "vt_target": target,
        "vt_max_leverage": max_leverage,
        "vt_window": window,
        "nw_lags": mm.lags,
        "daily_rows": daily.height,
    }
    notes = (
        "No vol-control index is in the data: the reference is Moreira-Muir's construction, "
        "rebuilt here from the daily factors (monthly excess returns compounded from daily "
        "Mkt-RF + RF, so they differ slightly from French's monthly file).",
        "c is chosen ex post over the whole sample (as in the paper), which does not change the "
        "alpha's t or the Sharpe ratio, only the scale.",
        f"flowpressure vol-target: vol_targeting defaults (target {target:.0%}, cap "
        f"{max_leverage:g}, {window}-session rolling zero-mean vol), exposure set at the close "
        "and held the next session, idle cash and leverage at the T-bill rate, no trading "
        "costs; its Sharpe is compared with the market over the same months.",
        f"Sample ends {ends[-1]} (the file's 202405 CRSP vintage); Moreira-Muir's 1926-2015 "
        "figure is for a shorter sample.",
    )
    return CheckResult(
        check=NAME,
        data=f"Fama-French daily factors, {daily.height} days, {mm.n} months ({span})",
        figure=figure,
        reference=(
            "Moreira-Muir (2017, JF) Table I: managed market alpha ~4.9%/yr (t ~3), higher "
            "Sharpe than buy-and-hold"
        ),
        verdict=verdict,
        method=(
            "Monthly OLS (Newey-West t) of the managed excess return on the market excess "
            "return: Moreira-Muir c/RV_{t-1} f_t, and flowpressure's vol_targeting exposure "
            "applied to next-day market excess returns"
        ),
        figures=figures,
        inputs={"ff_daily": str(ff_daily)},
        n=mm.n,
        notes=notes,
        chart=chart,
    )


def run(root: Path) -> CheckResult:
    """Run the check on the files under ``root`` with the default parameters."""
    paths = require(root, "ff_daily")
    return check_vol_target(paths["ff_daily"])
