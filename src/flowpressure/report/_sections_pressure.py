"""Sections of timing and absorption: the flow calendar and price pressure."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from flowpressure.report._charts import (
    BUY,
    NEUTRAL,
    PALETTE,
    SELL,
    bar,
    figure,
    json_values,
    layout,
    line,
    money_scale,
    scaled,
)
from flowpressure.report._data import ReportData, group_total, total
from flowpressure.report._format import money, pct, signed_pct
from flowpressure.report._model import ReportParams, Section, Table, Text, pick

__all__ = ["calendar_section", "pressure_section"]

#: Feedback rounds of the multiplier cascade shown in the table.
ROUNDS_SHOWN = 10


def _has_assets(d: ReportData, *assets: str) -> bool:
    px = d.get("prices")
    if px is None:
        return False
    have = set(px["asset_id"].unique().to_list())
    return all(a in have for a in assets)


def calendar_section(d: ReportData, p: ReportParams) -> Section:
    """Every known-date mechanical flow in the next ``horizon`` sessions after the as-of date."""
    from flowpressure.data import sessions, shift_sessions
    from flowpressure.pressure import flow_calendar

    params = pick(
        p,
        "horizon",
        "rebalance_days",
        "aum",
        "target_equity",
        "equity_id",
        "bond_id",
        "blackout_days",
        "calendar",
    )
    start = shift_sessions(d.as_of, 1, p.calendar)
    end = shift_sessions(d.as_of, p.horizon, p.calendar)
    n_sessions = len(sessions(start, end, p.calendar))
    sized_mix = _has_assets(d, p.equity_id, p.bond_id)
    cal = flow_calendar(
        start,
        end,
        rebalance_sessions=p.rebalance_days,
        prices=d.get("prices"),
        buybacks=d.get("buybacks"),
        index_events=d.get("index_events"),
        options=d.get("options"),
        rebalance_aum=p.aum if sized_mix else None,
        equity=p.equity_id,
        bond=p.bond_id,
        w_equity=p.target_equity,
        blackout_days=p.blackout_days,
        calendar=p.calendar,
    )
    rows = []
    for r in cal.iter_rows(named=True):
        window = ""
        if r["window_start"] is not None and r["window_end"] != r["window_start"]:
            window = f"{r['window_start'].isoformat()}..{r['window_end'].isoformat()}"
        rows.append(
            (
                r["date"],
                r["family"],
                r["asset_id"] or "",
                window,
                r["dollars"],
                r["days_of_adv"],
                r["status"],
                r["notes"],
            )
        )
    table = Table(
        f"Flow calendar, {start.isoformat()}..{end.isoformat()} ({n_sessions} sessions)",
        ("date", "family", "asset", "window", "dollars", "days of ADV", "status", "notes"),
        ("date", "text", "text", "text", "money", "f2", "text", "text"),
        tuple(rows),
        note="A window that opened before the range and is still open is listed at its start.",
    )
    families = sorted(cal["family"].unique().to_list())
    sized = cal.filter(pl.col("status") == "sized")
    unsized = cal.filter(pl.col("status") != "sized")
    top = max((abs(v) for v in sized["dollars"].to_list() if v is not None), default=0.0)

    def hover(frame: pl.DataFrame) -> list[str]:
        return [
            f"{r['date'].isoformat()} {r['family']} {r['asset_id'] or ''}<br>"
            f"{money(r['dollars']) or 'unsized'}<br>{r['notes']}"
            for r in frame.iter_rows(named=True)
        ]

    traces: list[dict[str, Any]] = []
    if sized.height:
        values = sized["dollars"].to_list()
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "sized (area ~ dollars)",
                "x": json_values(sized["date"].to_list()),
                "y": sized["family"].to_list(),
                "text": hover(sized),
                "hoverinfo": "text",
                "marker": {
                    "size": [8 + 26 * math.sqrt(abs(v) / top) if top else 8 for v in values],
                    "color": [BUY if v > 0 else SELL for v in values],
                    "opacity": 0.75,
                    "line": {"color": "#1d2330", "width": 0.5},
                },
            }
        )
    if unsized.height:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "unsized (date known)",
                "x": json_values(unsized["date"].to_list()),
                "y": unsized["family"].to_list(),
                "text": hover(unsized),
                "hoverinfo": "text",
                "marker": {
                    "size": 9,
                    "symbol": "circle-open",
                    "color": NEUTRAL,
                    "line": {"width": 1.5},
                },
            }
        )
    timeline = figure(
        "fig-calendar-timeline",
        "Flow calendar timeline",
        traces,
        layout(
            f"Known-date flows, next {n_sessions} sessions (green buy, red sell, open circle "
            "unsized)",
            height=max(300, 80 + 40 * len(families)),
            yaxis={"type": "category", "categoryorder": "array", "categoryarray": families[::-1]},
            xaxis={"type": "date"},
        ),
    )
    by_day = group_total(sized, ["date", "family"], "dollars") if sized.height else sized
    div, unit = money_scale(by_day["dollars"].to_list() if by_day.height else [])
    day_traces = []
    for i, fam in enumerate(sorted(by_day["family"].unique().to_list()) if by_day.height else []):
        part = by_day.filter(pl.col("family") == fam)
        day_traces.append(
            bar(
                fam,
                part["date"].to_list(),
                scaled(part["dollars"].to_list(), div),
                marker={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    blocks: list[Any] = [timeline]
    if day_traces:
        blocks.append(
            figure(
                "fig-calendar-dollars",
                "Sized flows by date",
                day_traces,
                layout(
                    "Sized flows by date and family (+ buy, - sell)",
                    ytitle=unit,
                    barmode="relative",
                    xaxis={"type": "date"},
                ),
            )
        )
    blocks.append(_by_family(cal))
    blocks.append(table)
    biggest = (
        sized.with_columns(_abs=pl.col("dollars").abs())
        .sort(["_abs", "date", "family"], descending=[True, False, False])
        .row(0, named=True)
        if sized.height
        else None
    )
    in_range = cal.filter(pl.col("date") >= start)
    first = in_range.row(0, named=True) if in_range.height else None
    already_open = cal.height - in_range.height
    headline = (
        f"{cal.height} known-date flows in the next {n_sessions} sessions "
        f"({start.isoformat()}..{end.isoformat()}), {sized.height} sized"
        + (f", {already_open} of them windows already open" if already_open else "")
    )
    if biggest:
        headline += (
            f"; the largest: {biggest['family'].replace('_', ' ')} {biggest['asset_id'] or ''} on "
            f"{biggest['date'].isoformat()}, {money(biggest['dollars'])}"
        ).replace("  ", " ")
    inputs_used = [
        k for k in ("prices", "buybacks", "index_events", "options") if d.get(k) is not None
    ]
    missing = [k for k in ("prices", "buybacks", "index_events", "options") if d.get(k) is None]
    return Section(
        "calendar",
        "Flow calendar",
        "ok",
        headline,
        inputs=(
            f"The {p.calendar} calendar from the session after the as-of date "
            f"{d.as_of.isoformat()}; sized from {', '.join(inputs_used) or 'nothing'}"
            + (
                f"; missing: {', '.join(missing)} (those rows are unsized or absent)"
                if missing
                else ""
            )
            + "."
        ),
        assumptions=(
            f"Month/quarter/year-end windows are the last {p.rebalance_days} sessions; "
            + (
                f"month ends are sized for a {p.target_equity:.0%}/{1 - p.target_equity:.0%} mix "
                f"of {money(p.aum)} only when the month's returns are in the data (months after "
                "the as-of date are unsized); "
                if sized_mix
                else f"month ends are unsized (no prices of {p.equity_id} and {p.bond_id}); "
            )
            + "index rebalance dates are the S&P quarterly schedule; expiries are sized with the "
            "dealers' expiring hedge flow of the option chain."
        ),
        parameters=params,
        numbers={
            "start": start,
            "end": end,
            "sessions": n_sessions,
            "events": cal.height,
            "already_open": already_open,
            "sized": sized.height,
            "first_date": first["date"] if first else None,
            "first_family": first["family"] if first else None,
            "largest_family": biggest["family"] if biggest else None,
            "largest_asset": biggest["asset_id"] if biggest else None,
            "largest_date": biggest["date"] if biggest else None,
            "largest_dollars": biggest["dollars"] if biggest else None,
        },
        blocks=tuple(blocks),
    )


def _by_family(cal: pl.DataFrame) -> Table:
    rows = []
    for fam in cal["family"].unique().to_list():
        part = cal.filter(pl.col("family") == fam)
        sized = part.filter(pl.col("status") == "sized")
        dollars = sized["dollars"].to_list()
        rows.append(
            (
                fam.replace("_", " "),
                part.height,
                sized.height,
                total(v for v in dollars if v > 0) if sized.height else None,
                total(v for v in dollars if v < 0) if sized.height else None,
                part["date"].min(),
                part["date"].max(),
            )
        )
    rows.sort(key=lambda r: (r[5], r[0]))
    return Table(
        "Flow calendar by family",
        ("family", "events", "sized", "buying", "selling", "first", "last"),
        ("text", "int", "int", "money", "money", "date", "date"),
        tuple(rows),
    )


def _multiplier_blocks(p: ReportParams) -> tuple[list[Any], dict[str, Any], str]:
    from flowpressure.pressure import mixed_fund_multiplier

    res = mixed_fund_multiplier(p.inflow, p.theta, p.shares, p.price)
    before_after = Table(
        f"Inelastic multiplier: {money(p.inflow)} into a mixed fund with theta = {p.theta:g} "
        f"(zeta = 1 - theta = {res.zeta:g})",
        ("", "before", "after", "change"),
        ("text", "f4", "f4", "text"),
        (
            ("price", res.price, res.price_after, signed_pct(res.price_change)),
            (
                "market cap",
                res.market_cap_before,
                res.market_cap_after,
                f"{res.market_cap_change:+,.2f}",
            ),
            (
                "fund value",
                res.fund_value_before,
                res.fund_value_after,
                f"{res.fund_value_after - res.fund_value_before:+,.2f}",
            ),
            ("fund bonds", res.bonds, res.bonds_after, f"{res.bonds_after - res.bonds:+,.2f}"),
        ),
        note=f"Equity inflow {res.equity_inflow:g} (theta x inflow), multiplier {res.multiplier:g} "
        f"= 1/zeta: market cap +{res.market_cap_change:g}; price change p = f/zeta = "
        f"{pct(res.flow_fraction)} / {res.zeta:g} = {signed_pct(res.price_change)}.",
    )
    steps = Table(
        "Trace the dollar",
        ("step", "stage", "amount", "what happens"),
        ("int", "text", "f4", "text"),
        tuple((s.step, s.stage.replace("_", " "), s.amount, s.text) for s in res.steps),
    )
    rounds = Table(
        f"Feedback rounds (first {min(ROUNDS_SHOWN, len(res.rounds))} of {len(res.rounds)}): "
        "round k adds theta^k x the equity inflow",
        ("round", "new demand", "price", "market cap", "cumulative gain"),
        ("int", "f4", "f4", "f4", "f4"),
        tuple(
            (r.round, r.demand, r.price, r.market_cap, r.cumulative_gain)
            for r in res.rounds[:ROUNDS_SHOWN]
        ),
    )
    shown = res.rounds[: max(ROUNDS_SHOWN * 3, 1)]
    cascade = figure(
        "fig-pressure-cascade",
        "Multiplier cascade",
        [
            bar(
                "new demand",
                [r.round for r in shown],
                [r.demand for r in shown],
                marker={"color": PALETTE[5]},
            ),
            line(
                "cumulative market-cap gain",
                [r.round for r in shown],
                [r.cumulative_gain for r in shown],
                mode="lines+markers",
                line={"color": PALETTE[0], "width": 2},
            ),
            line(
                "limit theta f / zeta",
                [shown[0].round, shown[-1].round],
                [res.market_cap_change, res.market_cap_change],
                line={"color": "#1d2330", "dash": "dash", "width": 1},
            ),
        ],
        layout(
            "Each round the mandate sends theta of the new wealth back into equities",
            xtitle="round",
            ytitle="currency units",
        ),
        "The rounds converge to theta f / (1 - theta): the multiplier M = 1/zeta times the "
        "equity inflow.",
    )
    numbers = {
        "inflow": res.inflow,
        "theta": res.theta,
        "zeta": res.zeta,
        "multiplier": res.multiplier,
        "price_before": res.price,
        "price_after": res.price_after,
        "price_change": res.price_change,
        "market_cap_change": res.market_cap_change,
        "equity_inflow": res.equity_inflow,
    }
    sentence = (
        f"{money(res.inflow)} into a mixed fund with theta = {res.theta:g} moves the price "
        f"{money(res.price)} -> {money(res.price_after)} ({signed_pct(res.price_change)}) and the "
        f"market cap by {money(res.market_cap_change)}: multiplier {res.multiplier:g}"
    )
    return [before_after, steps, cascade, rounds], numbers, sentence


def _impact_blocks(
    d: ReportData, p: ReportParams, rebalancing: Section
) -> tuple[list[Any], dict[str, Any], str]:
    from flowpressure.pressure import liquidity, sqrt_impact

    if rebalancing.status != "ok":
        reason = (
            f"Impact: not computed, the rebalancing estimate has no data ({rebalancing.headline})."
        )
        return [Text(reason)], {}, ""
    eq = p.equity_id
    liq = liquidity(d.get("prices"), d.as_of, p.adv_window, [eq]).row(0, named=True)
    adv, sigma = liq["adv_dollars"], liq["sigma_daily"]
    windows = rebalancing.numbers["windows"]
    rows = []
    points = []
    for name, w in windows.items():
        est = sqrt_impact(w["central"], adv, sigma, p.impact_y, p.rebalance_days)
        rows.append(
            (
                name,
                w["end"],
                est.quantity,
                est.adv,
                est.days_of_adv,
                est.participation,
                est.sigma,
                est.impact,
                est.impact_bps,
            )
        )
        points.append((name, est))
    table = Table(
        f"Square-root impact of the central rebalancing trade in {eq}",
        (
            "window",
            "window end",
            "trade",
            "ADV (dollars)",
            "days of ADV",
            f"participation over {p.rebalance_days} d",
            "daily vol",
            "impact",
            "impact (bps)",
        ),
        ("text", "date", "money", "money", "f4", "pct", "pct", "spct", "bps"),
        tuple(rows),
        note=f"ADV and daily volatility of {eq} over the {p.adv_window} sessions to "
        f"{liq['last'].isoformat()}; Y = {p.impact_y:g}. If {eq} is an index, its volume x level "
        "is only a proxy for dollar volume: check the days of ADV against your own liquidity "
        "figure.",
    )
    top = max(abs(est.days_of_adv or 0.0) for _, est in points) or 1.0
    grid = [top * 2 * i / 60 for i in range(61)]
    curve = [sqrt_impact(x * adv, adv, sigma, p.impact_y).impact_bps for x in grid]
    fig = figure(
        "fig-pressure-impact",
        "Square-root impact",
        [
            line("impact of a buy of Q", grid, curve, line={"color": PALETTE[0], "width": 2}),
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": "central rebalancing trade by window",
                "x": [abs(est.days_of_adv or 0.0) for _, est in points],
                "y": [abs(est.impact_bps) for _, est in points],
                "text": [name for name, _ in points],
                "textposition": "top center",
                "marker": {
                    "size": 11,
                    "color": [BUY if est.quantity > 0 else SELL for _, est in points],
                },
            },
        ],
        layout(
            f"Square-root law on {eq}: impact = Y sigma sqrt(Q / ADV)",
            xtitle="Q / ADV (days of volume)",
            ytitle="|impact| (bps)",
        ),
    )
    first_name, first = points[0]
    numbers = {
        "impact_window": first_name,
        "impact_trade": first.quantity,
        "adv_dollars": adv,
        "sigma_daily": sigma,
        "days_of_adv": first.days_of_adv,
        "impact": first.impact,
        "impact_bps": first.impact_bps,
    }
    sentence = (
        f"the {first_name}-end rebalancing trade of {money(first.quantity)} is "
        f"{first.days_of_adv:.4f} days of {eq} ADV ({money(adv)}) -> {first.impact_bps:+.1f} bps "
        "by the square-root law"
    )
    return [fig, table], numbers, sentence


def pressure_section(d: ReportData, p: ReportParams, rebalancing: Section) -> Section:
    """Build the inelastic-multiplier worked example and the rebalancing trade's impact."""
    params = pick(p, "inflow", "theta", "shares", "price", "impact_y", "adv_window", "equity_id")
    m_blocks, m_numbers, m_sentence = _multiplier_blocks(p)
    i_blocks, i_numbers, i_sentence = _impact_blocks(d, p, rebalancing)
    headline = m_sentence + (f"; {i_sentence}" if i_sentence else "")
    return Section(
        "pressure",
        "Pressure: multiplier and impact",
        "ok",
        headline,
        inputs=(
            f"Multiplier: the worked example's inputs (inflow {p.inflow:g}, theta {p.theta:g}, "
            f"{p.shares:g} shares at {p.price:g}). Impact: the central rebalancing trades and "
            f"{p.equity_id}'s ADV and daily volatility from prices."
        ),
        assumptions=(
            "Gabaix-Koijen: one mixed fund holds every share with a fixed equity mandate theta, "
            "so the market's demand elasticity is zeta = 1 - theta and p = f / zeta. Impact: "
            "the square-root law prices the whole meta-order, whatever the days it is spread over."
        ),
        parameters=params,
        numbers=m_numbers | i_numbers,
        blocks=tuple(m_blocks + i_blocks),
    )
