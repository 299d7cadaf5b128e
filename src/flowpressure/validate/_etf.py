r"""Check ``etf-flows``: ETF flows from shares outstanding against flows measured another way.

The project measures an ETF's creations and redemptions as :math:`(SO_t - SO_{t-1})\,NAV_t`
(:func:`flowpressure.flows.etf_flows`). Two real files let that be checked against a second
measure: the SPDR Gold Trust archive gives the trust's gold in ounces, so the flow is also
:math:`\Delta\text{ounces}_t \times \text{gold}_t`; the scraped stockanalysis panel gives total
assets, so the flow is also :math:`AUM_t - AUM_{t-1}\,NAV_t/NAV_{t-1}`.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from flowpressure._errors import DataError
from flowpressure.data._calendar import non_sessions
from flowpressure.data.formats import get_format
from flowpressure.flows import etf_flows, note_counts
from flowpressure.validate._paths import require
from flowpressure.validate._result import ChartSeries, ChartSpec, CheckResult, Verdict
from flowpressure.validate._stats import correlation

__all__ = [
    "GLD_FEE",
    "NAME",
    "STALE_LARGE",
    "check_etf_flows",
    "gld_flows",
    "panel_flows",
    "read_etf_panel",
    "run",
]

NAME = "etf-flows"
#: SPDR Gold Shares' sponsor fee (0.40 % a year, paid by selling gold): the expected yearly
#: gap between the share leg and the ounce leg, in % of average assets.
GLD_FEE = 0.0040
#: A stale-share day is "large" when the AUM-implied flow exceeds this fraction of AUM_{t-1}
#: (about five times the rounding of the scraped AUM and NAV).
STALE_LARGE = 0.001
#: Verdict thresholds, fixed before the data was looked at.
GLD_CORR_PASS = 0.95
PANEL_CORR_PASS = 0.9
CORR_FAIL = 0.5

_PANEL_COLUMNS = ("snapshot_date_et", "ticker", "nav", "assets_musd", "shares_out_m")


def _gld_panel(path: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    con = duckdb.connect()
    try:
        read = get_format("etf", "spdr_gld").read(con, path)
        frame = read.relation.pl()
    except duckdb.Error as exc:
        raise DataError(f"{path.name}: cannot read as spdr_gld ({exc})", field="file") from None
    frame = frame.with_columns(pl.col("date").str.to_date(strict=False)).filter(
        pl.col("date").is_not_null()
        & pl.col("shares_outstanding").is_not_null()
        & pl.col("nav").is_not_null()
    )
    if frame.height < 3:
        raise DataError(f"{path.name}: fewer than 3 days with shares and NAV", field="nav")
    return frame.sort("date"), dict(read.notes)


def gld_flows(path: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    r"""GLD's daily flow two ways: ``flow`` (:math:`\Delta SO\cdot NAV_t`, by ``etf_flows``) and
    ``flow_oz`` (:math:`\Delta\text{ounces}_t\cdot\text{gold}_t`), on the days with a flow.

    ``gold`` is the trust's gold price per ounce, trust NAV / trust ounces (the reader's
    ``gold_usd_oz``). Returns the frame (``date, flow, flow_oz, aum``) and the reader's notes
    with the ``etf_flows`` note counts.
    """
    panel, notes = _gld_panel(path)
    out = pl.DataFrame(
        etf_flows(panel.select("fund_id", "date", "shares_outstanding", "nav", "aum"))
    ).sort("date")
    oz = panel.select(
        "date",
        flow_oz=(pl.col("trust_ounces") - pl.col("trust_ounces").shift(1)) * pl.col("gold_usd_oz"),
    )
    joined = out.join(oz, on="date", how="left")
    notes = {**notes, "flow_notes": note_counts(out)}
    kept = joined.filter(pl.col("flow").is_not_null() & pl.col("flow_oz").is_not_null())
    return kept.select("date", "flow", "flow_oz", "aum"), notes


def read_etf_panel(path: Path) -> tuple[pl.DataFrame, dict[str, int]]:
    """Read the stockanalysis scrape as an ``etf`` panel (currency units, XNYS sessions).

    ``shares_outstanding = shares_out_m·1e6``, ``aum = assets_musd·1e6``; rows without a share
    count, NAV or assets, and rows on dates that are not XNYS sessions, are set aside and
    counted.
    """
    try:
        raw = pl.read_csv(path, columns=list(_PANEL_COLUMNS), infer_schema_length=0)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(
            f"{path.name}: cannot read {', '.join(_PANEL_COLUMNS)} ({exc})", field="file"
        ) from None
    panel = raw.select(
        fund_id=pl.col("ticker").str.strip_chars(),
        date=pl.col("snapshot_date_et").str.to_date(strict=False),
        shares_outstanding=pl.col("shares_out_m").cast(pl.Float64, strict=False) * 1e6,
        nav=pl.col("nav").cast(pl.Float64, strict=False),
        aum=pl.col("assets_musd").cast(pl.Float64, strict=False) * 1e6,
    )
    complete = panel.drop_nulls()
    closed = (
        set(non_sessions(complete["date"].unique().to_list(), "XNYS")) if complete.height else set()
    )
    kept = complete.filter(~pl.col("date").is_in(sorted(closed)))
    if kept.height < 3:
        raise DataError(
            f"{path.name}: fewer than 3 complete rows on sessions", field="shares_out_m"
        )
    counts = {
        "rows": raw.height,
        "rows_incomplete": raw.height - complete.height,
        "rows_not_session": complete.height - kept.height,
    }
    return kept.sort("fund_id", "date"), counts


def panel_flows(panel: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    r"""``etf_flows`` on the panel, with ``d_so``, ``aum_prev`` and both flows in % of AUM.

    ``flow`` is :math:`\Delta SO\cdot NAV_t`; ``flow_aum`` is
    :math:`AUM_t - AUM_{t-1}\,NAV_t/NAV_{t-1}` (``etf_flows``' cross-check with the NAV price
    return). Only rows with a flow are returned, with ``etf_flows``' note counts.
    """
    out = pl.DataFrame(etf_flows(panel)).sort("fund_id", "date")
    out = out.with_columns(
        d_so=pl.col("shares_outstanding").diff().over("fund_id"),
        aum_prev=pl.col("aum").shift(1).over("fund_id"),
    )
    kept = out.filter(pl.col("flow").is_not_null() & pl.col("flow_aum").is_not_null())
    kept = kept.with_columns(
        flow_frac=pl.col("flow") / pl.col("aum_prev"),
        flow_aum_frac=pl.col("flow_aum") / pl.col("aum_prev"),
    )
    return kept, note_counts(out)


def _years(days: pl.Series) -> float:
    first, last = days.min(), days.max()
    if isinstance(first, dt.date) and isinstance(last, dt.date):
        return max((last - first).days / 365.25, 1.0 / 365.25)
    return float("nan")


def check_etf_flows(gld: Path, etf_panel: Path) -> CheckResult:
    r"""ETF flows from shares outstanding against gold ounces (GLD) and against AUM (panel).

    Parameters
    ----------
    gld
        ``etf/spdr_gld_daily_archive_2004_2025.csv`` (SPDR Gold Trust daily archive), read
        with the project's ``spdr_gld`` format.
    etf_panel
        ``etf/stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv`` (scraped daily assets,
        NAV and shares of 43 ETFs).

    Returns
    -------
    CheckResult

    Raises
    ------
    DataError
        A file cannot be read, or has fewer than 3 usable rows.

    Notes
    -----
    **Method.** (a) GLD: :math:`F_t = (SO_t - SO_{t-1})\,NAV_t` by
    :func:`~flowpressure.flows.etf_flows` (defaults: no lag, gaps not bridged) against
    :math:`F^{oz}_t = (\text{oz}_t - \text{oz}_{t-1})\,g_t` with :math:`g_t` = trust NAV /
    trust ounces, on the same days; Pearson correlation of the daily flows and of their
    calendar-month sums, and the aggregate difference
    :math:`(\sum F - \sum F^{oz}) / \overline{AUM}` in total and per year. (b) Panel:
    ``etf_flows``' :math:`F_t` against :math:`F^{AUM}_t = AUM_t - AUM_{t-1}NAV_t/NAV_{t-1}`
    per fund and day, both in fractions of :math:`AUM_{t-1}`; days with
    :math:`\Delta SO \ne 0` ("non-stale") give the pooled correlation; stale days
    (:math:`\Delta SO = 0`) with :math:`|F^{AUM}| > 0.1\%` of :math:`AUM_{t-1}` are counted
    with their share of :math:`\sum |F^{AUM} - F|`.

    **Reference.** Identities. GLD: the trust's ounces move only by creations, redemptions and
    the gold sold for the sponsor fee (0.40 % a year), so the two legs should correlate near 1
    and differ in aggregate by about the fee per year. Panel: with the NAV price return the
    AUM and share legs are the same number exactly (DESIGN), so they differ only where the
    scraped share count is stale or rounded.

    **Verdict** (fixed in code before looking at the data): ``pass`` when the GLD monthly
    correlation > 0.95 and the panel's non-stale correlation > 0.9; ``fail`` when either is
    < 0.5; ``partial`` otherwise.
    """
    # (a) GLD --------------------------------------------------------------------------------
    daily, gld_notes = gld_flows(gld)
    r_day, n_day = correlation(daily["flow"].to_numpy(), daily["flow_oz"].to_numpy())
    monthly = (
        daily.group_by(month=pl.col("date").dt.truncate("1mo"))
        .agg(pl.col("flow").sum(), pl.col("flow_oz").sum(), pl.len().alias("days"))
        .sort("month")
    )
    r_month, n_month = correlation(monthly["flow"].to_numpy(), monthly["flow_oz"].to_numpy())
    avg_aum = float(daily["aum"].mean() or float("nan"))  # type: ignore[arg-type]
    sum_so = float(daily["flow"].sum())
    sum_oz = float(daily["flow_oz"].sum())
    years = _years(daily["date"])
    diff_pct = (sum_so - sum_oz) / avg_aum
    diff_pct_year = diff_pct / years

    # (b) panel ------------------------------------------------------------------------------
    panel, panel_counts = read_etf_panel(etf_panel)
    cmp, panel_notes = panel_flows(panel)
    live = cmp.filter(pl.col("d_so") != 0)
    stale = cmp.filter(pl.col("d_so") == 0)
    large = stale.filter(pl.col("flow_aum_frac").abs() > STALE_LARGE)
    r_live, n_live = correlation(live["flow_frac"].to_numpy(), live["flow_aum_frac"].to_numpy())
    r_live_usd, _ = correlation(live["flow"].to_numpy(), live["flow_aum"].to_numpy())
    total_abs = float(cmp["flow_diff"].abs().sum())
    share_large = (
        float(large["flow_diff"].abs().sum()) / total_abs if total_abs > 0 else float("nan")
    )
    share_stale = (
        float(stale["flow_diff"].abs().sum()) / total_abs if total_abs > 0 else float("nan")
    )
    mad_live = float((live["flow_frac"] - live["flow_aum_frac"]).abs().median() or float("nan"))  # type: ignore[arg-type]
    per_fund: dict[str, dict[str, Any]] = {}
    for (fund,), grp in cmp.group_by(["fund_id"], maintain_order=True):
        g_live = grp.filter(pl.col("d_so") != 0)
        r_f, n_f = correlation(g_live["flow_frac"].to_numpy(), g_live["flow_aum_frac"].to_numpy())
        g_stale = grp.filter(pl.col("d_so") == 0)
        per_fund[str(fund)] = {
            "days": grp.height,
            "non_stale_days": n_f,
            "corr_non_stale": r_f,
            "stale_days": g_stale.height,
            "stale_days_large": int((g_stale["flow_aum_frac"].abs() > STALE_LARGE).sum()),
        }

    fund_corrs = [v["corr_non_stale"] for v in per_fund.values()]
    n_good = sum(1 for c in fund_corrs if math.isfinite(c) and c > PANEL_CORR_PASS)
    worst = sorted(
        (k for k, v in per_fund.items() if math.isfinite(v["corr_non_stale"])),
        key=lambda k: per_fund[k]["corr_non_stale"],
    )[:3]

    def bad(x: float) -> bool:
        return not math.isfinite(x) or x < CORR_FAIL

    verdict: Verdict
    if r_month > GLD_CORR_PASS and r_live > PANEL_CORR_PASS:
        verdict = "pass"
    elif bad(r_month) or bad(r_live):
        verdict = "fail"
    else:
        verdict = "partial"

    figure = (
        f"GLD monthly corr {r_month:.5f} (daily {r_day:.5f}), share minus ounce leg "
        f"{100 * diff_pct_year:+.2f}% of AUM a year (fee {100 * GLD_FEE:.2f}%); panel corr "
        f"{r_live:.3f} on {n_live:,} non-stale days ({n_good}/{len(per_fund)} funds > "
        f"{PANEL_CORR_PASS}), {large.height} large stale days = "
        f"{100 * share_large:.0f}% of |difference|"
    )
    notes = (
        "GLD's shares_outstanding_est was built from the ounces (ounces / ounces per share), "
        "so the two GLD legs share the ounce count: their agreement checks NAV per share "
        "against ounces per share x gold price and the fee accrual, not an independent "
        "share count.",
        f"The GLD share leg exceeds the ounce leg by {100 * diff_pct_year:.2f}% of average AUM "
        "a year: the trust sells gold for its 0.40 % sponsor fee, which lowers ounces but not "
        "shares (ounces per share fall instead).",
        f"GLD: {gld_notes.get('rows_no_data', 0)} rows without holdings and "
        f"{gld_notes.get('rows_not_session', 0)} non-session rows set aside by the reader; "
        f"etf_flows notes {gld_notes.get('flow_notes', {})} (gaps not bridged).",
        "Panel: shares_out_m is a lagged, often stale issuer value (unchanged for weeks); on a "
        "stale day the AUM-implied flow is the creation the share count has not caught up "
        "with. Large stale days are those with |AUM flow| > "
        f"{100 * STALE_LARGE:.1f}% of AUM_(t-1); all stale days hold "
        f"{100 * share_stale:.0f}% of the absolute difference.",
        f"Panel rows: {panel_counts['rows_incomplete']} without shares/NAV/AUM (shares start "
        f"about Aug 2021), {panel_counts['rows_not_session']} on non-sessions; etf_flows "
        f"notes {panel_notes} (the scraper skipped days: no flow across a gap).",
        "Lowest per-fund non-stale correlations: "
        + ", ".join(f"{k} {per_fund[k]['corr_non_stale']:.2f}" for k in worst)
        + " (few share updates, each catching up several days of AUM flow).",
    )
    figures: dict[str, Any] = {
        "gld_corr_daily": r_day,
        "gld_corr_monthly": r_month,
        "gld_days": n_day,
        "gld_months": n_month,
        "gld_sum_flow_shares": sum_so,
        "gld_sum_flow_ounces": sum_oz,
        "gld_avg_aum": avg_aum,
        "gld_diff_pct_of_avg_aum": diff_pct,
        "gld_diff_pct_of_avg_aum_per_year": diff_pct_year,
        "gld_years": years,
        "gld_fee": GLD_FEE,
        "panel_corr_non_stale": r_live,
        "panel_corr_non_stale_usd": r_live_usd,
        "panel_median_abs_diff_non_stale": mad_live,
        "panel_days_compared": cmp.height,
        "panel_non_stale_days": n_live,
        "panel_stale_days": stale.height,
        "panel_stale_days_large": large.height,
        "panel_share_abs_diff_large_stale": share_large,
        "panel_share_abs_diff_stale": share_stale,
        "panel_funds": len(per_fund),
        "panel_funds_corr_above_pass": n_good,
        "panel_worst_funds": {k: per_fund[k]["corr_non_stale"] for k in worst},
        "panel_per_fund": per_fund,
        "panel_rows": panel_counts,
        "stale_large_threshold": STALE_LARGE,
        "thresholds": {
            "gld_corr_pass": GLD_CORR_PASS,
            "panel_corr_pass": PANEL_CORR_PASS,
            "corr_fail": CORR_FAIL,
        },
    }
    months = monthly["month"].to_list()
    chart = ChartSpec(
        title="GLD monthly flows: shares x NAV and ounces x gold",
        x_label="month",
        y_label="flow, USD bn",
        series=(
            ChartSeries("ΔSO × NAV", months, (monthly["flow"] / 1e9).to_list()),
            ChartSeries("Δounces × gold", months, (monthly["flow_oz"] / 1e9).to_list()),
        ),
        kind="line",
    )
    first, last = str(daily["date"].min()), str(daily["date"].max())
    return CheckResult(
        check=NAME,
        data=f"SPDR GLD archive {first}..{last}, {n_day:,} days; stockanalysis scrape, "
        f"{len(per_fund)} ETFs, {cmp.height:,} fund-days",
        figure=figure,
        reference="identities: Δounces×gold = ΔSO×NAV up to the 0.40% fee; ΔAUM − return "
        "effect = ΔSO×NAV",
        verdict=verdict,
        method="etf_flows (ΔSO×NAV_t) against Δounces×gold (GLD) and against AUM_t − "
        "AUM_{t−1}·NAV_t/NAV_{t−1} (panel), daily and by month; stale share days counted.",
        figures=figures,
        inputs={"gld": str(gld), "etf_panel": str(etf_panel)},
        n=n_month,
        notes=notes,
        chart=chart,
    )


def run(root: Path) -> CheckResult:
    """Run :func:`check_etf_flows` on the files under ``root``."""
    paths = require(root, "gld", "etf_panel")
    return check_etf_flows(paths["gld"], paths["etf_panel"])
