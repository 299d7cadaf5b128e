"""Sections of rule-driven flows with known dates: mandate rebalancing and index events."""

from __future__ import annotations

from typing import Any

import polars as pl

from flowpressure.report._charts import bar, figure, layout, money_scale, scaled, side_colors
from flowpressure.report._data import ReportData, total
from flowpressure.report._format import money, signed_pct
from flowpressure.report._model import ReportParams, Section, Table, pick

__all__ = ["index_section", "rebalance_section"]

REBALANCE_TITLE = "Rebalancing estimate"
INDEX_TITLE = "Index-event demand"


def _assets_missing(d: ReportData, *assets: tuple[str, str]) -> str | None:
    """Say which (asset, parameter) pairs have no prices, or None when all have."""
    px = d.get("prices")
    assert px is not None
    have = set(px["asset_id"].unique().to_list())
    gone = [(a, name) for a, name in assets if a not in have]
    if not gone:
        return None
    what = " and ".join(f"{a} ({name})" for a, name in gone)
    return (
        f"no prices of {what} in {d.where}; pass an asset_id that has prices "
        f"(`--{gone[0][1].replace('_', '-')}`)"
    )


def rebalance_section(d: ReportData, p: ReportParams) -> Section:
    """Month/quarter/year-end trade of a two-asset mandate, with its low-high range."""
    from flowpressure.mechanics import PensionAssumptions, estimate_pension_flows

    params = pick(
        p,
        "aum",
        "target_equity",
        "equity_id",
        "bond_id",
        "share_rebalancing",
        "band",
        "traded_early",
        "rebalance_days",
        "calendar",
    )
    if missing := d.missing("prices"):
        return Section(
            "rebalancing", REBALANCE_TITLE, "no data", d.no_data(missing), parameters=params
        )
    gone = _assets_missing(d, (p.equity_id, "equity_id"), (p.bond_id, "bond_id"))
    if gone:
        return Section("rebalancing", REBALANCE_TITLE, "no data", gone, parameters=params)
    eq, bd, w = p.equity_id, p.bond_id, p.target_equity
    assumptions = PensionAssumptions(p.share_rebalancing, p.band, p.traded_early)
    est = estimate_pension_flows(
        d.get("prices"),
        {eq: w, bd: 1.0 - w},
        p.aum,
        as_of=d.as_of,
        assumptions=assumptions,
        days=p.rebalance_days,
        calendar=p.calendar,
    )
    rows = []
    windows: dict[str, dict[str, Any]] = {}
    for name, win in est.windows.items():
        lo, hi = sorted((win.low[eq], win.high[eq]))
        windows[name] = {
            "start": win.start,
            "end": win.end,
            "first_day": win.days[0],
            "equity_return": win.returns[eq],
            "bond_return": win.returns[bd],
            "equity_weight": win.drifted_weights[eq],
            "mechanical": win.trade[eq],
            "low": win.low[eq],
            "central": win.central[eq],
            "high": win.high[eq],
            "per_day": win.per_day[eq],
        }
        rows.append(
            (
                name,
                win.start,
                win.end,
                f"{win.days[0].isoformat()}..{win.days[-1].isoformat()}",
                win.returns[eq],
                win.returns[bd],
                win.drifted_weights[eq],
                win.trade[eq],
                lo,
                win.central[eq],
                hi,
                win.per_day[eq],
            )
        )
    table = Table(
        f"Equity trade of a {w:.0%}/{1 - w:.0%} {eq}/{bd} mandate of {money(p.aum)} "
        "(+ = buy equities; bonds trade the opposite)",
        (
            "window",
            "last rebalance",
            "window end",
            "trading days",
            f"{eq} return",
            f"{bd} return",
            "equity weight",
            "mechanical",
            "low",
            "central",
            "high",
            "central per day",
        ),
        (
            "text",
            "date",
            "date",
            "text",
            "spct",
            "spct",
            "pct",
            "money",
            "money",
            "money",
            "money",
            "money",
        ),
        tuple(rows),
        note="low and high are the smallest and largest trade over every combination of the "
        "assumptions; central uses the central ones.",
    )
    names = list(windows)
    centrals = [windows[n]["central"] for n in names]
    div, unit = money_scale([v for n in names for v in (windows[n]["low"], windows[n]["high"])])
    lows = [min(windows[n]["low"], windows[n]["high"]) for n in names]
    highs = [max(windows[n]["low"], windows[n]["high"]) for n in names]
    labels = [f"{n} end {windows[n]['end'].isoformat()}" for n in names]
    fig = figure(
        "fig-rebalance-range",
        "Rebalancing trade by window",
        [
            bar(
                "central",
                labels,
                scaled(centrals, div),
                marker={"color": side_colors(centrals)},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": scaled([h - c for h, c in zip(highs, centrals, strict=True)], div),
                    "arrayminus": scaled(
                        [c - lo for lo, c in zip(lows, centrals, strict=True)], div
                    ),
                    "color": "#1d2330",
                    "thickness": 1.5,
                    "width": 10,
                },
            ),
            {
                "type": "scatter",
                "mode": "markers",
                "name": "mechanical (everyone, no band, nothing early)",
                "x": labels,
                "y": scaled([windows[n]["mechanical"] for n in names], div),
                "marker": {"symbol": "diamond", "size": 10, "color": "#1d2330"},
            },
        ],
        layout(
            f"Equity trade of the mandate at each window end (error bars: low to high), {unit}",
            ytitle=f"{unit} of {eq} (+ buy, - sell)",
        ),
        "T_e = k W w_e w_b (r_b - r_e), with k the share that trades under the assumptions.",
    )
    first = names[0]
    f = windows[first]
    side = "buy" if f["central"] > 0 else "sell"
    headline = (
        f"A {w:.0%}/{1 - w:.0%} mandate of {money(p.aum)} must {side} {money(abs(f['central']))} "
        f"of {eq} at the {first} end {f['end'].isoformat()} (range {money(lows[0])} to "
        f"{money(highs[0])}): {eq} {signed_pct(f['equity_return'])} against {bd} "
        f"{signed_pct(f['bond_return'])} since {f['start'].isoformat()}"
    )
    due_now = [n for n in names if windows[n]["end"] == d.as_of]
    note = (
        f" The {', '.join(due_now)} window{'s end' if len(due_now) > 1 else ' ends'} on the as-of "
        "date itself: its trade is due at that close."
        if due_now
        else ""
    )
    return Section(
        "rebalancing",
        REBALANCE_TITLE,
        "ok",
        headline,
        inputs=(
            f"Total returns of {eq} and {bd} from prices ({d.summary('prices')}), from the "
            f"last month, quarter and year end before {est.as_of.isoformat()} to that date."
        ),
        assumptions=(
            f"The mandate held {w:.0%}/{1 - w:.0%} at its last rebalance and trades back to "
            f"target at each window end, spread over its last {p.rebalance_days} sessions. "
            f"Share rebalancing {p.share_rebalancing}, drift band {p.band}, traded early "
            f"{p.traded_early} (low, central, high): illustrative, not estimates.{note}"
        ),
        parameters=params,
        numbers={"as_of": est.as_of, "windows": windows},
        blocks=(fig, table),
    )


def index_section(d: ReportData, p: ReportParams) -> Section:
    """Passive demand of index additions, deletions and reweights, in days of ADV."""
    from flowpressure.mechanics import index_demand

    params = pick(p, "indexed_assets", "adv_window", "calendar")
    if missing := d.missing("index_events", "prices"):
        return Section(
            "index_events", INDEX_TITLE, "no data", d.no_data(missing), parameters=params
        )
    out = index_demand(
        d.get("index_events"),
        d.get("prices"),
        indexed_assets=p.indexed_assets,
        adv_window=p.adv_window,
        calendar=p.calendar,
    )
    has_index = "index_id" in out.columns
    rows = []
    for r in out.iter_rows(named=True):
        rows.append(
            (
                r["index_id"] if has_index else "",
                r["asset_id"],
                r["kind"],
                r["announce_date"],
                r["trade_date"],
                "upcoming" if r["trade_date"] > d.as_of else "done",
                r["w_old"],
                r["w_new"],
                r["demand"],
                r["demand_shares"],
                r["adv_shares"],
                r["days_of_adv"],
            )
        )
    table = Table(
        "Demand per index event (+ = buying at the close before the effective date)",
        (
            "index",
            "asset",
            "kind",
            "announced",
            "trade close",
            "status",
            "w_old",
            "w_new",
            "demand",
            "shares",
            "ADV (shares)",
            "days of ADV",
        ),
        ("text", "text", "text", "date", "date", "text", "pct", "pct", "money", "int", "int", "f2"),
        tuple(rows),
    )
    labels = [
        f"{r['asset_id']} {r['kind']} {r['trade_date'].isoformat()}"
        for r in out.iter_rows(named=True)
    ]
    signed_days = [
        None
        if r["days_of_adv"] is None
        else (r["days_of_adv"] if r["demand"] >= 0 else -r["days_of_adv"])
        for r in out.iter_rows(named=True)
    ]
    fig = figure(
        "fig-index-days",
        "Index-event demand in days of ADV",
        [
            bar(
                "days of ADV",
                labels,
                signed_days,
                marker={"color": side_colors(out["demand"].to_list())},
                customdata=[money(v) for v in out["demand"].to_list()],
                hovertemplate="%{x}<br>%{y:.2f} days of ADV<br>%{customdata}<extra></extra>",
            )
        ],
        layout(
            "Index-event demand in days of average daily volume (+ buy, - sell)",
            ytitle="days of ADV",
        ),
        "|demand shares| / ADV over the sessions ending the session before the announcement.",
    )
    div, unit = money_scale(out["demand"].to_list())
    dollars_fig = figure(
        "fig-index-dollars",
        "Index-event demand in dollars",
        [
            bar(
                "demand",
                labels,
                scaled(out["demand"].to_list(), div),
                marker={"color": side_colors(out["demand"].to_list())},
            )
        ],
        layout("Index-event demand in dollars (+ buy, - sell)", ytitle=unit),
        "D = A (w_new - w_old (1 + r_i) / (1 + r_index)).",
    )
    known = out.filter(pl.col("days_of_adv").is_not_null())
    top = (
        known.with_columns(_abs=pl.col("days_of_adv").abs())
        .sort(["_abs", "asset_id"], descending=[True, False])
        .row(0, named=True)
        if known.height
        else None
    )
    upcoming = int((out["trade_date"] > d.as_of).sum())
    net = total(out["demand"])
    headline = f"{out.height} index events ({upcoming} upcoming), net demand {money(net)}"
    if top:
        headline += (
            f"; the largest against liquidity: {top['asset_id']} {top['kind']} traded "
            f"{top['trade_date'].isoformat()}, {money(top['demand'])} = "
            f"{top['days_of_adv']:.1f} days of ADV"
        )
    mode = (
        f"indexed assets A = {money(p.indexed_assets)}"
        if p.indexed_assets is not None
        else "A = passive share x float market cap per event"
    )
    return Section(
        "index_events",
        INDEX_TITLE,
        "ok",
        headline,
        inputs=f"{d.summary('index_events')} (events announced by the as-of date); "
        f"{d.summary('prices')} for drift, shares and ADV.",
        assumptions=(
            f"Passive funds trade the whole change at the close before the effective date; {mode}; "
            "weights drift with the asset's return against the index between announcement and "
            f"trade; ADV over the {p.adv_window} sessions ending the session before the "
            "announcement."
        ),
        parameters=params,
        numbers={
            "events": out.height,
            "upcoming": upcoming,
            "net_demand": net,
            "top_asset": top["asset_id"] if top else None,
            "top_kind": top["kind"] if top else None,
            "top_trade_date": top["trade_date"] if top else None,
            "top_demand": top["demand"] if top else None,
            "top_days_of_adv": top["days_of_adv"] if top else None,
        },
        blocks=(fig, dollars_fig, table),
    )
