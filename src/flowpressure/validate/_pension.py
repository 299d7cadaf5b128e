r"""Check ``pension-month-end``: does the equity-minus-bond spread predict month-end returns.

Harvey, Mazzoleni and Melone (2025) show that mechanical 60/40 rebalancers sell equities at
month end after equities beat bonds, so the month's spread predicts *lower* equity returns in
the last sessions of the month and a partial reversal early in the next one. This check runs
the project's pension model (:func:`flowpressure.mechanics.pension.two_asset_trade`) on the real
S&P 500 and a real bond total-return index and tests the predicted sign.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from flowpressure._errors import ConfigError, DataError
from flowpressure.mechanics.pension import two_asset_trade
from flowpressure.validate._paths import require
from flowpressure.validate._readers import read_spx_closes
from flowpressure.validate._result import ChartSeries, ChartSpec, CheckResult, Verdict
from flowpressure.validate._stats import ols_newey_west

__all__ = ["NAME", "check_pension_month_end", "run"]

NAME = "pension-month-end"
#: The bond leg read by default: ICE BofA US Corporate Index, total-return level (FRED copy).
BOND_SERIES = "BAMLCC0A0CMTRIV"
#: Sessions either side of the last session of the month in the event-time chart.
EVENT_WINDOW = 5
_F64 = np.ndarray[Any, np.dtype[np.float64]]


def _read_bond(path: Path, series: str) -> pl.DataFrame:
    from flowpressure.data import load_file

    panel: pl.DataFrame = load_file(path, "prices", fmt="fred")
    got = panel.filter(pl.col("asset_id") == series)
    if got.height < 2:
        have = sorted(panel["asset_id"].unique().to_list())
        raise ConfigError(
            field="bond_series",
            expected=f"a daily total-return series of {path.name} (one of {', '.join(have)})",
            got=series,
        )
    return got.select("date", pl.col("close").alias("bond")).sort("date")


def check_pension_month_end(
    spx: Path,
    fred: Path,
    *,
    bond_series: str = BOND_SERIES,
    k: int = 3,
    w_equity: float = 0.6,
    aum: float = 1e12,
    start: dt.date | str | None = None,
    end: dt.date | str = "2024-12-31",
) -> CheckResult:
    r"""Regress the last-``k``-session S&P 500 return on the month's equity-minus-bond spread.

    Parameters
    ----------
    spx
        ``prices/SPX_index_daily_1927_2026.csv`` (DATE as MM/DD/YYYY, CLOSE): a price index,
        without dividends.
    fred
        A FRED long file (``series_id, date, value``) read by the ``fred`` format, holding
        ``bond_series`` as a daily total-return level (default the ICE BofA US Corporate TR).
    bond_series
        Series of ``fred`` used as the bond leg.
    k
        Sessions before the month's last session where the signal stops (and the sessions of
        the end-of-month and start-of-month returns).
    w_equity, aum
        The model mandate (60/40, $1tn) whose implied trade is reported.
    start, end
        Sample bounds (months whose last session lies inside); default from the first month
        with the bond leg at its start to 2024.

    Returns
    -------
    CheckResult

    Raises
    ------
    ConfigError
        ``bond_series`` is not in ``fred``, or ``k`` is not in 1..5.
    DataError
        A file cannot be read, or fewer than 24 months have both legs.

    Notes
    -----
    **Method.** For each calendar month :math:`m` with last session :math:`T` (S&P 500 sessions) and
    previous month end :math:`P`, the spread up to the signal day :math:`T-k` is

    .. math:: s_m = \frac{S_{T-k}}{S_P} - \frac{B_{T-k}}{B_P}

    (:math:`S` the S&P 500 price index, :math:`B` the bond total-return level carried forward
    onto equity sessions). The project's model turns it into the trade a ``w_equity`` mandate of
    ``aum`` must make at month end, :math:`T_e = W w_e w_b (r_b - r_e)` (``two_asset_trade``).
    The headline is the OLS slope of :math:`y_m = S_T / S_{T-k} - 1` (the last ``k`` sessions)
    on :math:`s_m`, with a Newey–West t (automatic lags); the reversal regresses the first ``k``
    sessions of the next month, :math:`S_{T+k}/S_T - 1`, on :math:`s_m`. The chart is the
    average S&P 500 daily return at sessions −5…+5 around :math:`T` (0 = last session of the
    month) in the top and bottom terciles of :math:`s_m`.

    **Reference.** Harvey, Mazzoleni and Melone (2025), "The Unintended Consequences of
    Rebalancing" (NBER working paper): when stocks are overweight, rebalancers sell stocks and
    equity returns are lower (a 2024 seminar abstract quotes 17 bps over the next day, for
    their signal on S&P 500 and T-note futures, 1997–2023; other table figures are not checked
    here). The sign here must be negative; a one-sd spread should move the last sessions'
    return by a few to a few tens of bps.

    **Verdict** (fixed in code before looking at the data):
    ``pass`` if the slope < 0 and its t < −1.65; ``partial`` if the slope < 0 but not
    significant; ``fail`` if the slope >= 0.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= EVENT_WINDOW:
        raise ConfigError(field="k", expected=f"sessions in 1..{EVENT_WINDOW}", got=k)
    lo = dt.date.fromisoformat(str(start)) if start is not None else None
    hi = dt.date.fromisoformat(str(end))
    eq = read_spx_closes(spx).rename({"close": "spx"})
    bond = _read_bond(fred, bond_series)
    b_first: dt.date = bond["date"].min()  # type: ignore[assignment]
    b_last: dt.date = bond["date"].max()  # type: ignore[assignment]
    on_bond_day = eq.join(bond, on="date", how="left")["bond"].is_not_null()
    frame = eq.join_asof(bond, on="date", strategy="backward").with_columns(
        ym=pl.col("date").dt.year() * 12 + pl.col("date").dt.month() - 1
    )
    dates = frame["date"].to_list()
    s = frame["spx"].to_numpy().astype(np.float64)
    b = frame["bond"].fill_null(np.nan).to_numpy().astype(np.float64)
    ym = frame["ym"].to_numpy()
    last_rows = np.flatnonzero(np.r_[ym[1:] != ym[:-1], False])  # the series' last row is open
    months: list[dt.date] = []
    spread, y_end, y_next, trade = [], [], [], []
    paths: list[_F64] = []
    carried = 0
    for j in range(1, last_rows.size):
        p_row, t_row = int(last_rows[j - 1]), int(last_rows[j])
        sig = t_row - k
        day = dates[t_row]
        if sig <= p_row or t_row + EVENT_WINDOW >= len(s) or day > hi:
            continue
        if lo is not None and day < lo:
            continue
        if dates[p_row] < b_first or dates[sig] > b_last:
            continue
        r_e = s[sig] / s[p_row] - 1.0
        r_b = b[sig] / b[p_row] - 1.0
        if not (math.isfinite(r_e) and math.isfinite(r_b)):
            continue
        carried += int(not on_bond_day[p_row]) + int(not on_bond_day[sig])
        months.append(day)
        spread.append(r_e - r_b)
        trade.append(two_asset_trade(aum, w_equity, r_e, r_b))
        y_end.append(s[t_row] / s[sig] - 1.0)
        y_next.append(s[t_row + k] / s[t_row] - 1.0)
        rows = np.arange(t_row - EVENT_WINDOW, t_row + EVENT_WINDOW + 1)
        paths.append(s[rows] / s[rows - 1] - 1.0)
    n = len(months)
    if n < 24:
        raise DataError(
            f"{spx.name} and {fred.name}: {n} months with both legs, need at least 24",
            field="date",
            expected="at least 24 common months",
        )
    x = np.array(spread)
    fit = ols_newey_west(np.array(y_end), x)
    rev = ols_newey_west(np.array(y_next), x)
    trade_pct = np.array(trade) / aum
    fit_model = ols_newey_west(np.array(y_end), trade_pct * 100.0)
    sd = float(np.std(x, ddof=1))
    effect_bps = fit.slope * sd * 1e4
    rev_bps = rev.slope * sd * 1e4
    path = np.vstack(paths)
    q1, q2 = np.quantile(x, [1.0 / 3.0, 2.0 / 3.0])
    top, bottom = path[x >= q2], path[x <= q1]
    offsets = list(range(-EVENT_WINDOW, EVENT_WINDOW + 1))
    top_bps = (top.mean(axis=0) * 1e4).round(2).tolist()
    bottom_bps = (bottom.mean(axis=0) * 1e4).round(2).tolist()
    end_window = slice(EVENT_WINDOW - k + 1, EVENT_WINDOW + 1)
    diff_end_bps = float(
        (top[:, end_window].sum(axis=1).mean() - bottom[:, end_window].sum(axis=1).mean()) * 1e4
    )

    verdict: Verdict
    if fit.slope < 0 and fit.t_slope < -1.65:
        verdict = "pass"
    elif fit.slope < 0:
        verdict = "partial"
    else:
        verdict = "fail"
    first, last = months[0], months[-1]
    span = f"{first:%Y-%m}..{last:%Y-%m}"
    figure = (
        f"slope {fit.slope:.3f} (NW t {fit.t_slope:.2f}): 1-sd spread {effect_bps:+.1f} bps over "
        f"the last {k} sessions; next month's first {k}: {rev_bps:+.1f} bps (t {rev.t_slope:.2f}); "
        f"{span}, {n} months"
    )
    chart = ChartSpec(
        title="S&P 500 return around month end, by the month's equity-minus-bond spread",
        x_label="session relative to the last session of the month (0)",
        y_label="average daily return (bps)",
        series=(
            ChartSeries(f"top tercile of spread ({top.shape[0]} months)", offsets, top_bps),
            ChartSeries(
                f"bottom tercile of spread ({bottom.shape[0]} months)", offsets, bottom_bps
            ),
        ),
        kind="line",
    )
    figures: dict[str, Any] = {
        "slope": fit.slope,
        "t_slope": fit.t_slope,
        "intercept": fit.coef[0],
        "r2": fit.r2,
        "nw_lags": fit.lags,
        "spread_sd": sd,
        "effect_1sd_bps": effect_bps,
        "reversal_slope": rev.slope,
        "reversal_t": rev.t_slope,
        "reversal_1sd_bps": rev_bps,
        "model_slope_per_pct_aum": fit_model.slope,
        "model_t": fit_model.t_slope,
        "model_trade_mean_abs_usd": float(np.mean(np.abs(trade))),
        "model_trade_sd_pct_aum": float(np.std(trade_pct, ddof=1)),
        "top_minus_bottom_last_k_bps": diff_end_bps,
        "k": k,
        "w_equity": w_equity,
        "aum": aum,
        "first_month": first,
        "last_month": last,
        "months": n,
        "bond_series": bond_series,
        "event_offsets": offsets,
        "event_top_bps": top_bps,
        "event_bottom_bps": bottom_bps,
    }
    notes = (
        "S&P 500 is the price index (no dividends): the equity leg of the spread and the "
        "month-end returns are price returns; dividends add under 1 bp a day, about the same in "
        "every month, so they move the intercept, not the slope.",
        f"Bond leg: {bond_series} (ICE BofA US Corporate Index total return, FRED copy, "
        f"{b_first}..{b_last}); no Treasury total-return index is in the data, so corporate "
        "bonds (credit as well as duration) stand in for the paper's 10-year T-note futures.",
        f"The bond level is carried forward onto S&P 500 sessions without a bond print "
        f"({carried} of the {2 * n} signal/base dates).",
        f"Signal through session T-{k}, so it uses no return it predicts; the paper uses "
        "futures from 1997 and a threshold plus calendar signal, this is the calendar one only.",
        f"Size: {effect_bps:+.1f} bps per 1-sd spread over {k} sessions is "
        f"{effect_bps / k:+.1f} bps a session, the order of the paper's 17 bps next-day figure "
        "(their signal and sample differ; the comparison is of order of magnitude only).",
        f"Model: two_asset_trade for a {w_equity:.0%}/{1 - w_equity:.0%} mandate; its trade is "
        f"-{w_equity * (1 - w_equity):.2f} x spread x AUM, so its regression is the spread's "
        "with the sign flipped (mean |trade| for $1tn reported).",
    )
    return CheckResult(
        check=NAME,
        data=(f"SPX daily closes and {bond_series} daily TR level, {span}, {n} month ends"),
        figure=figure,
        reference=(
            "Harvey-Mazzoleni-Melone (2025): negative slope (stocks overweight -> lower "
            "month-end returns, ~17 bps next day in a 2024 abstract); a few to ~20 bps per 1-sd"
        ),
        verdict=verdict,
        method=(
            f"OLS with Newey-West t of the last-{k}-session S&P 500 return on the month's "
            f"equity-minus-bond return through session T-{k}; reversal: first {k} sessions of "
            "the next month; model trade = two_asset_trade(60/40)"
        ),
        figures=figures,
        inputs={"spx": str(spx), "fred": str(fred)},
        n=n,
        notes=notes,
        chart=chart,
    )


def run(root: Path) -> CheckResult:
    """Run the check on the files under ``root`` with the default parameters."""
    paths = require(root, "spx", "ice_bofa")
    return check_pension_month_end(paths["spx"], paths["ice_bofa"])
