"""Sections of measured flows: mutual funds and ETFs (the "source" question)."""

from __future__ import annotations

from typing import Any

import polars as pl

from flowpressure.report._charts import (
    PALETTE,
    bar,
    figure,
    layout,
    line,
    money_scale,
    scaled,
    side_colors,
)
from flowpressure.report._data import ReportData, group_total, total
from flowpressure.report._format import money
from flowpressure.report._model import ReportParams, Section, Table, pick

__all__ = ["etf_section", "fund_section"]

FUND_TITLE = "Fund flows"
ETF_TITLE = "ETF flows"
#: Months in the fund section's "recent" window and z-score window.
FUND_RECENT = 12
#: Sessions in the ETF section's "recent" window, and in its longer one.
ETF_RECENT = 20
ETF_LONG = 250
TOP = 10


def _notes(counts: dict[str, int]) -> str:
    from flowpressure.flows import NOTES

    if not counts:
        return "none"
    return "; ".join(f"{n:,} {note} ({NOTES.get(note, note)})" for note, n in counts.items())


def fund_section(d: ReportData, p: ReportParams) -> Section:
    """Fund flows: cumulative by category, latest z-scores, flows against performance."""
    from flowpressure.flows import (
        cumulative_flows,
        flow_lead_lag,
        flow_zscores,
        fund_flows,
        note_counts,
    )

    if missing := d.missing("fund"):
        return Section("fund_flows", FUND_TITLE, "no data", d.no_data(missing))
    fund = d.get("fund")
    assert fund is not None
    ret_col = "ret_total" if "ret_total" in fund.columns else "ret"
    ff = fund_flows(fund, freq="M", calendar=p.calendar)
    counts = note_counts(ff)
    dates = ff.select(pl.col("date").unique().sort())["date"].to_list()
    last = dates[-1]
    recent_dates = dates[-FUND_RECENT:]
    recent = ff.filter(pl.col("date").is_in(recent_dates) & pl.col("flow").is_not_null())
    net = total(recent["flow"])
    inflow = total(recent.filter(pl.col("flow") > 0)["flow"])
    outflow = total(recent.filter(pl.col("flow") < 0)["flow"])
    n_funds = ff["fund_id"].n_unique()
    n_recent = recent["fund_id"].n_unique()

    # Cumulative flows: all funds and each category, summed per month.
    grouped = ff.with_columns(group=pl.lit("all funds"))
    if "category" in ff.columns:
        grouped = pl.concat(
            [grouped, ff.with_columns(group=pl.col("category").fill_null("uncategorised"))]
        )
    # The flows of each group and month summed exactly (as flow_totals does, order-independent).
    totals = cumulative_flows(group_total(grouped, ["group", "date"], "flow"), by="group").sort(
        "group", "date"
    )
    div, unit = money_scale(totals["cum_flow"].to_list())
    groups = [
        "all funds",
        *sorted(g for g in totals["group"].unique().to_list() if g != "all funds"),
    ]
    traces = []
    for i, g in enumerate(groups):
        part = totals.filter(pl.col("group") == g)
        traces.append(
            line(
                g,
                part["date"].to_list(),
                scaled(part["cum_flow"].to_list(), div),
                line={"color": PALETTE[i % len(PALETTE)], "width": 2.5 if i == 0 else 1.5},
            )
        )
    cum_fig = figure(
        "fig-fund-cumulative",
        "Cumulative fund flows by category",
        traces,
        layout("Cumulative fund flows by category", ytitle=unit, hovermode="x unified"),
        "Running sum of monthly flows, F = TNA_t - TNA_t-1 (1 + R_t), summed over the funds "
        "of each category (flows of births and gaps are missing and add nothing).",
    )

    # Latest z-scores.
    z = flow_zscores(ff, FUND_RECENT)
    latest = (
        z.filter((pl.col("date") == last) & pl.col("flow_z").is_not_null())
        .with_columns(_abs=pl.col("flow_z").abs())
        .sort(["_abs", "fund_id"], descending=[True, False])
        .head(TOP)
    )
    cat = "category" in ff.columns
    z_table = Table(
        f"Most unusual flows on {last.isoformat()} (z-score against the {FUND_RECENT} months "
        "before)",
        ("fund", "category", "date", "flow", "flow % of TNA", "z"),
        ("text", "text", "date", "money", "spct", "sf2"),
        tuple(
            (
                r["fund_id"],
                r["category"] if cat else "",
                r["date"],
                r["flow"],
                r["flow_pct"],
                r["flow_z"],
            )
            for r in latest.iter_rows(named=True)
        ),
    )
    top_z = latest.row(0, named=True) if latest.height else None

    largest = (
        recent.with_columns(_abs=pl.col("flow").abs())
        .sort(["_abs", "fund_id", "date"], descending=[True, False, False])
        .head(TOP)
    )
    big_table = Table(
        f"Largest fund flows in the {len(recent_dates)} months to {last.isoformat()}",
        ("fund", "category", "date", "flow", "flow % of TNA", "TNA"),
        ("text", "text", "date", "money", "spct", "money"),
        tuple(
            (
                r["fund_id"],
                r["category"] if cat else "",
                r["date"],
                r["flow"],
                r["flow_pct"],
                r["tna"],
            )
            for r in largest.iter_rows(named=True)
        ),
    )

    # Flows against performance.
    lags = flow_lead_lag(ff, 6, flow="flow_pct", ret=ret_col)
    corr = [row["corr"] for row in lags]
    known = [row for row in lags if row["corr"] is not None]
    strongest = max(known, key=lambda r: (abs(r["corr"]), -r["lag"])) if known else None
    lag_fig = figure(
        "fig-fund-leadlag",
        "Flows against performance: corr(flow %, return k months later)",
        [
            bar(
                "correlation",
                [row["lag"] for row in lags],
                corr,
                marker={"color": ["#7a7f8c" if row["lag"] == 0 else "#2f5fd0" for row in lags]},
                customdata=[row["n"] for row in lags],
                hovertemplate="lag %{x}: corr %{y:.3f} (%{customdata} pairs)<extra></extra>",
            )
        ],
        layout(
            "Flows against performance: corr(flow %, return k months later)",
            xtitle="k (months): < 0 returns lead flows (performance chasing), "
            "> 0 flows lead returns",
            ytitle="correlation",
            xaxis={"dtick": 1},
        ),
        f"Pooled over funds, pairs never cross funds; returns are {ret_col}.",
    )
    numbers: dict[str, Any] = {
        "last_date": last,
        "funds": n_funds,
        "funds_12m": n_recent,
        "net_flow_12m": net,
        "inflow_12m": inflow,
        "outflow_12m": outflow,
        "months": len(recent_dates),
        "top_z_fund": top_z["fund_id"] if top_z else None,
        "top_z": top_z["flow_z"] if top_z else None,
        "strongest_lag": strongest["lag"] if strongest else None,
        "strongest_corr": strongest["corr"] if strongest else None,
    }
    headline = (
        f"Net fund flow over the {len(recent_dates)} months to {last.isoformat()}: {money(net)} "
        f"({money(inflow)} in, {money(outflow)} out) across {n_recent} funds"
    )
    if top_z:
        headline += f"; most unusual latest flow: {top_z['fund_id']} (z = {top_z['flow_z']:+.1f})"
    return Section(
        "fund_flows",
        FUND_TITLE,
        "ok",
        headline,
        inputs=f"{d.summary('fund')}; {n_funds} funds, monthly. Flow notes: {_notes(counts)}.",
        assumptions=(
            f"End-of-period timing, F_t = TNA_t - TNA_t-1 (1 + R_t) with R = {ret_col}; "
            "no mergers file is given, so an acquirer's absorption of a target shows as its "
            f"inflow. z-scores compare a flow with the {FUND_RECENT} months before it (no "
            "look-ahead); lead/lag correlations are pooled across funds."
        ),
        parameters={"timing": "end", "freq": "M", "zscore_window": FUND_RECENT, "max_lag": 6}
        | pick(p, "calendar"),
        numbers=numbers,
        blocks=(cum_fig, z_table, big_table, lag_fig),
    )


def etf_section(d: ReportData, p: ReportParams) -> Section:
    """ETF creations and redemptions: cumulative per ETF, recent totals and largest days."""
    from flowpressure.flows import cumulative_flows, etf_flows, note_counts

    if missing := d.missing("etf"):
        return Section("etf_flows", ETF_TITLE, "no data", d.no_data(missing))
    etf = d.get("etf")
    assert etf is not None
    ef = etf_flows(etf, calendar=p.calendar)
    counts = note_counts(ef)
    cum = cumulative_flows(ef).sort("fund_id", "date")
    dates = ef.select(pl.col("date").unique().sort())["date"].to_list()
    last = dates[-1]
    recent_dates = dates[-ETF_RECENT:]
    long_dates = dates[-ETF_LONG:]
    ids = sorted(ef["fund_id"].unique().to_list())
    div, unit = money_scale(cum["cum_flow"].to_list())
    traces = []
    for i, fid in enumerate(ids):
        part = cum.filter(pl.col("fund_id") == fid)
        traces.append(
            line(
                fid,
                part["date"].to_list(),
                scaled(part["cum_flow"].to_list(), div),
                line={"color": PALETTE[i % len(PALETTE)], "width": 1.5},
            )
        )
    cum_fig = figure(
        "fig-etf-cumulative",
        "Cumulative ETF flows",
        traces,
        layout("Cumulative ETF flows (creations minus redemptions)", ytitle=unit),
        "F_t = (SO_t - SO_t-1) NAV_t, summed from each ETF's first session.",
    )
    per_etf = []
    for fid in ids:
        rows = ef.filter(pl.col("fund_id") == fid).sort("date")
        aum = rows["aum"][-1] if "aum" in rows.columns else None
        if aum is None:
            aum = float(rows["shares_outstanding"][-1] * rows["nav"][-1])
        per_etf.append(
            (
                fid,
                rows["date"][-1],
                aum,
                total(rows.filter(pl.col("date").is_in(recent_dates))["flow"]),
                total(rows.filter(pl.col("date").is_in(long_dates))["flow"]),
                total(rows["flow"]),
            )
        )
    totals = Table(
        "Net flows per ETF",
        (
            "ETF",
            "last date",
            "AUM",
            f"last {len(recent_dates)} sessions",
            f"last {len(long_dates)} sessions",
            "since first session",
        ),
        ("text", "date", "money", "money", "money", "money"),
        tuple(per_etf),
    )
    recent = (
        ef.filter(pl.col("date").is_in(recent_dates) & pl.col("flow").is_not_null())
        .with_columns(_abs=pl.col("flow").abs())
        .sort(["_abs", "fund_id", "date"], descending=[True, False, False])
        .head(TOP)
    )
    big = Table(
        f"Largest ETF flows in the last {len(recent_dates)} sessions (to {last.isoformat()})",
        ("ETF", "date", "flow", "flow % of AUM", "shares outstanding"),
        ("text", "date", "money", "spct", "int"),
        tuple(
            (r["fund_id"], r["date"], r["flow"], r["flow_pct"], r["shares_outstanding"])
            for r in recent.iter_rows(named=True)
        ),
    )
    net_recent = sum(row[3] for row in per_etf)
    top = recent.row(0, named=True) if recent.height else None
    headline = (
        f"Net ETF flow over the last {len(recent_dates)} sessions to {last.isoformat()}: "
        f"{money(net_recent)} across {len(ids)} ETFs"
    )
    if top:
        headline += (
            f"; largest day: {top['fund_id']} {top['date'].isoformat()} {money(top['flow'])}"
        )
    daily = group_total(ef.filter(pl.col("date").is_in(recent_dates)), ["date"], "flow")
    ddiv, dunit = money_scale(daily["flow"].to_list())
    daily_fig = figure(
        "fig-etf-recent",
        f"ETF flows, last {len(recent_dates)} sessions",
        [
            bar(
                "net flow",
                daily["date"].to_list(),
                scaled(daily["flow"].to_list(), ddiv),
                marker={"color": side_colors(daily["flow"].to_list())},
            )
        ],
        layout(f"Net ETF flow per session, last {len(recent_dates)} sessions", ytitle=dunit),
    )
    return Section(
        "etf_flows",
        ETF_TITLE,
        "ok",
        headline,
        inputs=f"{d.summary('etf')}. Flow notes: {_notes(counts)}.",
        assumptions=(
            "Flows from shares outstanding and NAV, F_t = (SO_t - SO_t-1) NAV_t; shares are "
            "taken as reported on the day (so_lag 0); a missing session is a gap, never bridged."
        ),
        parameters={"so_lag": 0, "return_kind": "price", "recent_sessions": ETF_RECENT}
        | pick(p, "calendar"),
        numbers={
            "last_date": last,
            "etfs": len(ids),
            "net_flow_recent": net_recent,
            "recent_sessions": len(recent_dates),
            "largest_flow": top["flow"] if top else None,
            "largest_flow_etf": top["fund_id"] if top else None,
        },
        blocks=(cum_fig, totals, daily_fig, big),
    )
