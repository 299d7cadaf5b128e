r"""Check ``cta``: does flowpressure's trend model track the CTA industry's returns.

The project's trend model (:func:`flowpressure.mechanics.cta.cta_model`, its documented
defaults) runs on the ETF proxies of futures markets in the Alpha Vantage daily file; the
equal-risk portfolio of the sleeves is compared month by month with the SG CTA index and the
EDHEC "CTA Global" index.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from flowpressure._errors import DataError, SchemaError
from flowpressure.data import shift_sessions
from flowpressure.mechanics.cta import cta_model
from flowpressure.validate._paths import require
from flowpressure.validate._result import ChartSeries, ChartSpec, CheckResult, Verdict
from flowpressure.validate._stats import correlation, ols_newey_west

__all__ = [
    "DEFAULT_ASSETS",
    "NAME",
    "check_cta",
    "detect_splits",
    "model_monthly_returns",
    "read_edhec_cta",
    "read_sg_cta",
    "run",
]

NAME = "cta"
_F64 = np.ndarray[Any, np.dtype[np.float64]]

#: One ETF per futures market the file offers: S&P 500, MSCI EAFE, US long bond, gold.
DEFAULT_ASSETS: tuple[str, ...] = ("SPY", "EFA", "TLT", "GLD")
#: A close-to-close move beyond this is either a split (explained below) or an error.
_JUMP = 0.30
#: A jump is a k-for-1 split when the price ratio is within this of a whole k >= 2.
_SPLIT_TOL = 0.03
_MIN_MONTHS = 36


def detect_splits(dates: Sequence[dt.date], close: _F64, ticker: str) -> _F64:
    r"""Split factor of each row of an unadjusted close series (2.0 for 2-for-1, else 1).

    A row whose close moves by more than 30 % against the previous close is a split when
    :math:`P_{t-1}/P_t` (or, for a reverse split, :math:`P_t/P_{t-1}`) is within 3 % of a
    whole number :math:`k \ge 2`; its factor is then :math:`k` (or :math:`1/k`). No broad
    index ETF moved 30 % in a day, so any other such jump is refused, not dropped.

    Raises
    ------
    DataError
        A jump beyond 30 % that is no whole-number split.

    Examples
    --------
    >>> import datetime as dt
    >>> days = [dt.date(2005, 6, d) for d in (7, 8, 9)]
    >>> detect_splits(days, np.array([156.0, 157.0, 52.54]), "EFA").tolist()
    [1.0, 1.0, 3.0]
    """
    factor = np.ones(close.size)
    if close.size < 2:
        return factor
    ratio = close[1:] / close[:-1]
    for i in np.flatnonzero(np.abs(ratio - 1.0) > _JUMP).tolist():
        down = 1.0 / ratio[i]
        k_down, k_up = round(down), round(ratio[i])
        if k_down >= 2 and abs(down / k_down - 1.0) <= _SPLIT_TOL:
            factor[i + 1] = float(k_down)
        elif k_up >= 2 and abs(ratio[i] / k_up - 1.0) <= _SPLIT_TOL:
            factor[i + 1] = 1.0 / k_up
        else:
            raise DataError(
                field="close",
                key={"ticker": ticker, "date": dates[i + 1]},
                expected=f"a daily move within ±{_JUMP:.0%} or a whole-number split",
                got=f"close {close[i]:g} -> {close[i + 1]:g}",
            )
    return factor


def _read_index(path: Path, column: str, what: str) -> pl.DataFrame:
    """Read ``month_end`` and one return column of a monthly index CSV as ``ym, ret``."""
    try:
        raw = pl.read_csv(path, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(f"{path}: cannot read ({exc})", field="file") from None
    for col in ("month_end", column):
        if col not in raw.columns:
            raise SchemaError(
                f"{path.name}: missing column {col!r} ({what})", field=col, expected=column
            )
    try:
        frame = raw.select(
            pl.col("month_end").str.strptime(pl.Date, "%Y-%m-%d").alias("month_end"),
            pl.col(column).cast(pl.Float64).alias("ret"),
        )
    except pl.exceptions.PolarsError:
        raise DataError(
            field=f"month_end, {column}", expected="YYYY-MM-DD dates and decimal returns"
        ) from None
    frame = frame.filter(pl.col("ret").is_not_null()).with_columns(
        ym=pl.col("month_end").dt.year() * 12 + pl.col("month_end").dt.month() - 1
    )
    if frame.height == 0 or frame["ym"].is_duplicated().any():
        raise DataError(field="month_end", expected=f"one {what} return per month")
    return frame.select("ym", "month_end", "ret").sort("ym")


def read_sg_cta(path: Path) -> pl.DataFrame:
    """SG CTA index monthly returns (``monthly_return``, decimals): ``ym, month_end, ret``."""
    return _read_index(path, "monthly_return", "SG CTA index")


def read_edhec_cta(path: Path) -> pl.DataFrame:
    """EDHEC "CTA Global" monthly returns (decimals): ``ym, month_end, ret``."""
    return _read_index(path, "CTA Global", "EDHEC CTA Global")


def model_monthly_returns(
    etf_prices: Path, assets: Sequence[str] = DEFAULT_ASSETS
) -> tuple[pl.DataFrame, dict[str, Any]]:
    r"""Monthly returns of the equal-risk trend portfolio: ``ym, month_end, ret``; diagnostics.

    Each asset's unadjusted closes get a split factor (:func:`detect_splits`) and go through
    :func:`~flowpressure.mechanics.cta.cta_model` with its defaults (sign signals over
    20/60/120/250 sessions, equal weights, 10 % volatility target on 60-session vol, cap 2).
    The sleeve earns :math:`E_{a,t-1}\,r_{a,t}` (exposure set at the close, held to the next;
    :math:`r` the split-adjusted price return); the portfolio averages the sleeves, so each
    carries the same risk target. Months count from the first month in which every asset has
    an exposure on its first session; the last month is dropped if the file ends inside it.
    """
    names = list(dict.fromkeys(assets))
    if not names:
        raise DataError(field="assets", expected="at least one ticker")
    try:
        raw = pl.read_csv(etf_prices, columns=["date", "ticker", "close"], try_parse_dates=True)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(f"{etf_prices}: cannot read ({exc})", field="file") from None
    if raw.schema["date"] != pl.Date:
        raise DataError(field="date", expected="dates as YYYY-MM-DD")
    raw = raw.filter(pl.col("ticker").is_in(names)).sort("ticker", "date")
    have = set(raw["ticker"].unique().to_list())
    missing = [n for n in names if n not in have]
    if missing:
        raise DataError(
            field="ticker", key={"ticker": missing[0]}, expected=f"price rows for {names}"
        )
    pnl: list[pl.DataFrame] = []
    splits: list[str] = []
    first_live: list[dt.date] = []
    for name in names:
        one = raw.filter(pl.col("ticker") == name)
        dates = one["date"].to_list()
        close = one["close"].to_numpy().astype(np.float64)
        if not np.all(np.isfinite(close) & (close > 0)):
            raise DataError(field="close", key={"ticker": name}, expected="closes > 0")
        factor = detect_splits(dates, close, name)
        splits += [f"{name} {dates[i]} {factor[i]:g}:1" for i in np.flatnonzero(factor != 1.0)]
        panel = pl.DataFrame(
            {"asset_id": name, "date": one["date"], "close": close, "split_factor": factor}
        )
        hist = cta_model(panel, name, aum=1.0).history
        held = hist["exposure"].shift(1)
        sleeve = hist.select("date", (held * pl.col("ret")).alias(name)).filter(
            pl.col(name).is_not_null()
        )
        first_live.append(sleeve["date"][0])
        pnl.append(sleeve)
    daily = pnl[0]
    for part in pnl[1:]:
        daily = daily.join(part, on="date", how="full", coalesce=True)
    daily = daily.sort("date")
    start = max(first_live)
    daily = daily.filter(pl.col("date") > start)
    # A day an asset has no row is a zero P&L day for that sleeve (its next return spans both).
    gaps = int(daily.select(pl.sum_horizontal(pl.col(n).is_null() for n in names)).sum().item())
    ret = daily.select(pl.mean_horizontal(pl.col(n).fill_null(0.0) for n in names)).to_series()
    daily = daily.select("date").with_columns(ret=ret)
    first_month = start.year * 12 + start.month  # the month after the last start
    monthly = (
        daily.with_columns(ym=pl.col("date").dt.year() * 12 + pl.col("date").dt.month() - 1)
        .group_by("ym")
        .agg(
            pl.col("date").max().alias("month_end"),
            ((pl.col("ret") + 1.0).product() - 1.0).alias("ret"),
        )
        .filter(pl.col("ym") >= first_month)
        .sort("ym")
    )
    last = daily["date"].max()
    assert isinstance(last, dt.date)
    if shift_sessions(last, 1).month == last.month:
        monthly = monthly.filter(pl.col("month_end") < dt.date(last.year, last.month, 1))
    diag = {
        "splits": splits,
        "first_exposure": start,
        "last_day": last,
        "days": daily.height,
        "sleeve_days_without_row": gaps,
    }
    return monthly, diag


def _span(frame: pl.DataFrame) -> str:
    a, b = frame["month_end"].min(), frame["month_end"].max()
    assert isinstance(a, dt.date)
    assert isinstance(b, dt.date)
    return f"{a:%Y-%m}..{b:%Y-%m}"


def check_cta(
    etf_prices: Path,
    sg_cta: Path,
    edhec: Path,
    *,
    assets: Sequence[str] = DEFAULT_ASSETS,
) -> CheckResult:
    r"""Correlation and beta of the CTA indices on flowpressure's trend portfolio, monthly.

    Parameters
    ----------
    etf_prices
        ``prices/alphavantage_etf_ohlcv_daily_unadjusted_1999_2024.csv`` (raw closes).
    sg_cta
        ``indices/sg_cta_index_monthly_1999_2019.csv`` (``monthly_return``, decimals).
    edhec
        ``indices/edhec_hedge_fund_style_indices_monthly_1997_2021.csv`` (``CTA Global``).
    assets
        The futures proxies (default SPY, EFA, TLT, GLD: S&P 500, MSCI EAFE, US long bond,
        gold; fixed before the figures were seen).

    Returns
    -------
    CheckResult

    Raises
    ------
    DataError
        A ticker is absent, a jump is no split, or an index file is unreadable.
    SchemaError
        An index file lacks ``month_end`` or its return column.

    Notes
    -----
    **Method.** :func:`model_monthly_returns`: per asset, split factors found from the raw
    closes (a > 30 % move at a whole-number price ratio; EFA's 3-for-1 of 2005-06-09 is the
    only one in the default set), :func:`~flowpressure.mechanics.cta.cta_model` with its
    defaults (sign of the 20/60/120/250-session price change, equal weights, 10 % vol target,
    60-session vol, cap 2), sleeve return :math:`E_{a,t-1} r_{a,t}`, portfolio
    :math:`r_{p,t} = \frac1N\sum_a E_{a,t-1} r_{a,t}` (equal risk: every sleeve has the same
    target), compounded to months :math:`R_m = \prod_{t\in m}(1+r_{p,t}) - 1`. For each index
    :math:`I`, over the months both have: Pearson :math:`\rho(I_m, R_m)` and the OLS slope
    :math:`\beta` of :math:`I_m = a + \beta R_m + e_m` with a Newey–West t (automatic lags).

    **Reference.** Published trend-following replications correlate about 0.6–0.8 with CTA
    indices (Hurst, Ooi and Pedersen 2013, "Demystifying Managed Futures", J. of Investment
    Management: 58 futures; Baltas and Kosowski 2013). Four ETFs span far fewer markets
    (no currencies, rates curve, energies or metals besides gold), so lower is expected.

    **Verdict** (fixed in code before looking at the data): ``pass`` if the correlation is
    >= 0.5 with both indices; ``fail`` if either is negative or both are below 0.2;
    ``partial`` otherwise (only one >= 0.5, or both in [0.2, 0.5)), and also when either
    overlap is shorter than 36 months.
    """
    model, diag = model_monthly_returns(etf_prices, assets)
    sg = read_sg_cta(sg_cta)
    ed = read_edhec_cta(edhec)
    if model.height < 3:
        raise DataError(field="date", expected="at least 3 months of model returns")
    stats: dict[str, dict[str, Any]] = {}
    for key, index in (("sg", sg), ("edhec", ed)):
        both = model.select("ym", "month_end", pl.col("ret").alias("model")).join(
            index.select("ym", pl.col("ret").alias("index")), on="ym", how="inner"
        )
        if both.height < 3:
            raise DataError(
                field="month_end",
                expected=f"months shared by the model ({_span(model)}) and the {key} index",
                got=f"{both.height} months",
            )
        x = both["model"].to_numpy().astype(np.float64)
        y = both["index"].to_numpy().astype(np.float64)
        r, n = correlation(x, y)
        fit = ols_newey_west(y, x)
        stats[key] = {
            "corr": r,
            "n": n,
            "beta": fit.slope,
            "beta_t": fit.t_slope,
            "alpha_pct_yr": fit.coef[0] * 1200.0,
            "r2": fit.r2,
            "lags": fit.lags,
            "span": _span(both),
            "first": both["month_end"][0],
            "last": both["month_end"][-1],
        }
    c_sg, c_ed = float(stats["sg"]["corr"]), float(stats["edhec"]["corr"])
    verdict: Verdict
    if c_sg < 0 or c_ed < 0 or (c_sg < 0.2 and c_ed < 0.2):
        verdict = "fail"
    elif c_sg >= 0.5 and c_ed >= 0.5 and min(stats["sg"]["n"], stats["edhec"]["n"]) >= _MIN_MONTHS:
        verdict = "pass"
    else:
        verdict = "partial"

    mret = model["ret"].to_numpy().astype(np.float64)
    vol = float(np.std(mret, ddof=1) * math.sqrt(12.0))
    sharpe = float(np.mean(mret) / np.std(mret, ddof=1) * math.sqrt(12.0))
    figure = (
        f"corr {c_sg:.2f} with SG CTA (beta {stats['sg']['beta']:.2f}, t "
        f"{stats['sg']['beta_t']:.1f}, {stats['sg']['n']} months {stats['sg']['span']}), "
        f"{c_ed:.2f} with EDHEC CTA Global (beta {stats['edhec']['beta']:.2f}, t "
        f"{stats['edhec']['beta_t']:.1f}, {stats['edhec']['n']} months "
        f"{stats['edhec']['span']})"
    )
    chart = _chart(model, sg, ed, f"flowpressure trend model ({len(assets)} ETFs)")
    figures: dict[str, Any] = {
        f"{k}_{f}": v for k, s in stats.items() for f, v in s.items() if f not in ("span",)
    }
    figures.update(
        {
            "model_months": model.height,
            "model_first_month": model["month_end"][0],
            "model_last_month": model["month_end"][-1],
            "model_vol_ann": vol,
            "model_sharpe_price_only": sharpe,
            "assets": list(assets),
            "splits": diag["splits"],
            "first_exposure_day": diag["first_exposure"],
            "daily_rows": diag["days"],
            "sleeve_days_without_row": diag["sleeve_days_without_row"],
        }
    )
    notes = (
        "Prices are unadjusted: split days were found from the closes (a >30% move at a "
        "whole-number price ratio) and given a split factor, so their return is the true "
        f"price return ({', '.join(diag['splits']) or 'none found'}); any other >30% jump "
        "would be an error, none occurred.",
        "Returns are price-only: the file has no dividends, so each ex-date keeps its small "
        "drop (SPY ~2%/yr, EFA ~3%, TLT ~3-4%, GLD none). A futures position earns the total "
        "return minus cash, so price-only is a rough stand-in for that excess return; no "
        "trading costs or fees (the indices are net of fees).",
        f"Model: cta_model defaults (sign signals 20/60/120/250 sessions, equal weights, "
        f"10% vol target per sleeve, 60-session vol, cap 2) on {', '.join(assets)}; the "
        f"portfolio averages the sleeves (equal risk). It starts {_span(model)[:7]}, the "
        "first month after the last ETF to list has 250 sessions behind it (GLD listed "
        "2004-11-18); SG CTA months before that are not used.",
        f"Only {len(assets)} markets (default: two equity indices, a long bond, gold; no FX, "
        "short rates, energy or other commodities) against the 58+ futures of published "
        f"replications. Sleeve-days with no price row (P&L 0): "
        f"{diag['sleeve_days_without_row']}.",
        "The SG CTA series is a transcription found in code (MANIFEST: several annual "
        "returns match published figures, others unchecked); it ends 2019-04.",
    )
    return CheckResult(
        check=NAME,
        data=(
            f"Alpha Vantage daily closes of {len(assets)} ETFs ({diag['days']} days, "
            f"{model.height} months {_span(model)}); SG CTA {stats['sg']['n']} and EDHEC "
            f"CTA Global {stats['edhec']['n']} overlapping months"
        ),
        figure=figure,
        reference=(
            "Hurst-Ooi-Pedersen (2013) style trend replications: corr ~0.6-0.8 with CTA "
            "indices (58 futures); lower expected with 4 ETFs"
        ),
        verdict=verdict,
        method=(
            "Monthly Pearson correlation and OLS beta (Newey-West t) of each CTA index on the "
            "equal-risk portfolio of flowpressure's cta_model (defaults) run on split-adjusted "
            "ETF closes"
        ),
        figures=figures,
        inputs={"etf_prices": str(etf_prices), "sg_cta": str(sg_cta), "edhec": str(edhec)},
        n=int(min(stats["sg"]["n"], stats["edhec"]["n"])),
        notes=notes,
        chart=chart,
    )


def _chart(model: pl.DataFrame, sg: pl.DataFrame, ed: pl.DataFrame, label: str) -> ChartSpec:
    """Growth of 1 at quarter ends from the model's first month, up to each index's end."""
    start = int(model["ym"][0])
    stop = max(int(sg["ym"][-1]), int(ed["ym"][-1]))
    series = []
    for name, frame in (
        (label, model),
        ("SG CTA index", sg),
        ("EDHEC CTA Global", ed),
    ):
        part = frame.filter((pl.col("ym") >= start) & (pl.col("ym") <= stop))
        growth = np.cumprod(1.0 + part["ret"].to_numpy().astype(np.float64))
        ym = part["ym"].to_numpy()
        keep = (ym % 3 == 2) | (np.arange(ym.size) == ym.size - 1)
        xs = [f"{y // 12:04d}-{y % 12 + 1:02d}" for y in ym[keep].tolist()]
        series.append(ChartSeries(name, xs, [round(float(g), 4) for g in growth[keep]]))
    return ChartSpec(
        title="Growth of 1: flowpressure trend model vs SG CTA and EDHEC CTA Global",
        x_label="quarter end",
        y_label="cumulative return (1 = start of the model)",
        series=tuple(series),
        kind="line",
    )


def run(root: Path) -> CheckResult:
    """Run the check on the files under ``root`` with the default parameters."""
    paths = require(root, "etf_prices", "sg_cta", "edhec")
    return check_cta(paths["etf_prices"], paths["sg_cta"], paths["edhec"])
