"""Sections of flows that follow prices: buybacks, vol targeting, CTA trend, dealer gamma."""

from __future__ import annotations

from typing import Any

import polars as pl

from flowpressure.report._charts import (
    NEUTRAL,
    PALETTE,
    bar,
    figure,
    layout,
    line,
    money_scale,
    scaled,
    side_colors,
    stacked,
)
from flowpressure.report._data import ReportData, group_total, total
from flowpressure.report._format import iso, money, pct
from flowpressure.report._model import ReportParams, Section, Table, pick

__all__ = ["buyback_section", "cta_section", "gamma_section", "vol_section"]

#: The CTA model's annualised risk target and volatility window (the library's defaults).
CTA_RISK_TARGET = 0.10
CTA_VOL_WINDOW = 60


def _no_prices_of(d: ReportData, asset: str, name: str) -> str | None:
    px = d.get("prices")
    assert px is not None
    if px.filter(pl.col("asset_id") == asset).height:
        return None
    return f"no prices of {asset} ({name}) in {d.where}; pass an asset_id that has prices"


def buyback_section(d: ReportData, p: ReportParams) -> Section:
    """Buyback yields and the next period's expected daily demand under Rule 10b-18."""
    from flowpressure.mechanics import buyback_demand, buyback_yield

    title = "Buybacks"
    params = pick(p, "buyback_cap", "blackout_days", "calendar") | {"trailing": 4}
    if missing := d.missing("buybacks", "prices"):
        return Section("buybacks", title, "no data", d.no_data(missing), parameters=params)
    bb, px = d.get("buybacks"), d.get("prices")
    dem = buyback_demand(
        bb, px, as_of=d.as_of, cap=p.buyback_cap, blackout_days=p.blackout_days, calendar=p.calendar
    )
    yields = buyback_yield(bb, px, trailing=4).filter(pl.col("date") <= dem.as_of)
    latest = yields.sort("asset_id", "date").group_by("asset_id", maintain_order=True).last()
    # periods' start is exclusive (the previous period end): show the first day instead
    nxt = dem.periods.filter(pl.col("estimated")).select(
        "asset_id",
        (pl.col("period_start") + pl.duration(days=1)).alias("first_day"),
        "period_end",
        pl.col("repurchases").alias("expected"),
        "sessions",
        "open_sessions",
    )
    daily = dem.daily.filter(pl.col("estimated"))
    open_days = daily.filter(pl.col("open"))
    stats = (
        group_total(open_days, ["asset_id"], "demand", mean=True)
        .rename({"demand": "per_open_day"})
        .join(group_total(open_days, ["asset_id"], "share_of_adv", mean=True), on="asset_id")
    )
    table_frame = (
        latest.join(nxt, on="asset_id", how="left")
        .join(stats, on="asset_id", how="left")
        .sort("asset_id")
    )
    rows = tuple(
        (
            r["asset_id"],
            r["date"],
            r["buyback_yield"],
            r["net_buyback_yield"],
            r["share_reduction"],
            f"{iso(r['first_day'])}..{iso(r['period_end'])}" if r["period_end"] is not None else "",
            r["expected"],
            f"{r['open_sessions']}/{r['sessions']}" if r["sessions"] is not None else "",
            r["per_open_day"],
            r["share_of_adv"],
        )
        for r in table_frame.iter_rows(named=True)
    )
    table = Table(
        "Buyback yield (trailing 4 periods) and the next period's expected demand",
        (
            "asset",
            "last period",
            "yield",
            "net of issuance",
            "share count -",
            "next period",
            "expected",
            "open days",
            "per open day",
            "% of ADTV",
        ),
        ("text", "date", "pct", "pct", "pct", "text", "money", "text", "money", "pct"),
        rows,
    )
    closed = daily.with_columns(closed=(~pl.col("open")).cast(pl.Float64))
    per_day = group_total(daily, ["date"], "demand").join(
        group_total(closed, ["date"], "closed"), on="date"
    )
    div, unit = money_scale(per_day["demand"].to_list())
    fig = figure(
        "fig-buyback-daily",
        "Expected buyback demand per session, next period",
        [
            bar(
                "expected repurchases",
                per_day["date"].to_list(),
                scaled(per_day["demand"].to_list(), div),
                marker={"color": "#2a9d6f"},
            ),
            line(
                "companies in blackout",
                per_day["date"].to_list(),
                per_day["closed"].to_list(),
                yaxis="y2",
                line={"color": NEUTRAL, "width": 2},
            ),
        ],
        stacked(
            "Expected buyback demand per session over the next period (all companies)",
            top="companies in blackout",
            bottom=unit,
            hovermode="x unified",
        ),
        "Repurchases at the trailing run rate, spread over open sessions, each day at most "
        f"{p.buyback_cap:.0%} of the 10b-18 ADTV.",
    )
    expected = total(nxt["expected"])
    companies = int(nxt.filter(pl.col("expected") > 0).height) if nxt.height else 0
    start = nxt["first_day"].min() if nxt.height else None
    end = nxt["period_end"].max() if nxt.height else None
    peak = (
        per_day.sort(["demand", "date"], descending=[True, False]).row(0, named=True)
        if per_day.height
        else None
    )
    headline = (
        f"Expected buybacks in the next period ({iso(start)}..{iso(end)}): {money(expected)} "
        "across "
        f"{companies} companies"
    )
    if peak:
        headline += f"; peak day {peak['date'].isoformat()} {money(peak['demand'])}"
    return Section(
        "buybacks",
        title,
        "ok",
        headline,
        inputs=f"{d.summary('buybacks')}; close and volume from prices.",
        assumptions=(
            "The next period repeats the trailing 4-period average; no repurchases from "
            f"{p.blackout_days} calendar days before earnings to the session after; each open "
            f"day at most {p.buyback_cap:.0%} of average daily trading volume (Rule 10b-18 "
            "safe harbour)."
        ),
        parameters=params,
        numbers={
            "as_of": dem.as_of,
            "expected": expected,
            "companies": companies,
            "period_first_day": start,
            "period_end": end,
            "peak_date": peak["date"] if peak else None,
            "peak_demand": peak["demand"] if peak else None,
        },
        blocks=(fig, table),
    )


def vol_section(d: ReportData, p: ReportParams) -> Section:
    """Vol-control funds: exposure and trades in the data, and a one-day shock scenario."""
    from flowpressure.mechanics import vol_shock, vol_targeting

    title = "Volatility targeting"
    params = pick(
        p, "equity_id", "vol_target", "vol_aum", "vol_window", "max_leverage", "shock", "shock_days"
    )
    if missing := d.missing("prices"):
        return Section("vol_target", title, "no data", d.no_data(missing), parameters=params)
    if gone := _no_prices_of(d, p.equity_id, "equity_id"):
        return Section("vol_target", title, "no data", gone, parameters=params)
    vt = vol_targeting(
        d.get("prices"),
        p.equity_id,
        target=p.vol_target,
        max_leverage=p.max_leverage,
        window=p.vol_window,
        aum=p.vol_aum,
        as_of=d.as_of,
    )
    last = vt.row(-1, named=True)
    sc = vol_shock(
        p.vol_aum,
        p.vol_target,
        p.shock,
        days=p.shock_days,
        vol_before=last["realized_vol"],
        max_leverage=p.max_leverage,
        window=p.vol_window,
    )
    hist = vt.tail(p.history)
    div, unit = money_scale(hist["trade"].to_list())
    hist_fig = figure(
        "fig-vol-history",
        "Vol-control exposure and trades",
        [
            bar(
                "trade at the close",
                hist["date"].to_list(),
                scaled(hist["trade"].to_list(), div),
                marker={"color": side_colors(hist["trade"].to_list())},
            ),
            line(
                "exposure",
                hist["date"].to_list(),
                hist["exposure"].to_list(),
                yaxis="y2",
                line={"color": PALETTE[0], "width": 2},
            ),
        ],
        stacked(
            f"Vol-control funds on {p.equity_id}: exposure and daily trade, last {hist.height} "
            "sessions",
            top="exposure",
            bottom=f"trade, {unit}",
            hovermode="x unified",
        ),
        "E_t = min(L_max, target / realised vol); trade_t = A (E_t - E_t-1 (1 + r_t)).",
    )
    trades = [float(x) for x in sc.trade[:, 0]]
    days = [f"day {i}" for i in range(len(trades))]
    shock_fig = figure(
        "fig-vol-shock",
        "Vol-control shock scenario",
        [
            bar(
                "trade",
                days,
                scaled(trades, money_scale(trades)[0]),
                marker={"color": side_colors(trades)},
            )
        ],
        layout(
            f"Trades after a {pct(p.shock, 1)} day (day 0 = the shock's close), then flat",
            ytitle=money_scale(trades)[1],
        ),
    )
    shock_table = Table(
        f"Shock scenario: a {pct(p.shock, 1)} day after {last['date'].isoformat()}, then flat",
        ("day", "realised vol", "exposure", "trade"),
        ("text", "pct", "f3", "money"),
        tuple(
            (days[i], float(sc.vol[i, 0]), float(sc.exposure[i, 0]), trades[i])
            for i in range(len(trades))
        ),
        note=f"Exposure held into the shock {float(sc.exposure_before[0]):.3f}; total "
        f"{money(float(sc.total[0]))}.",
    )
    total = float(sc.total[0])
    headline = (
        f"Vol-control funds of {money(p.vol_aum)} on {p.equity_id}: exposure "
        f"{last['exposure']:.2f} at realised vol {pct(last['realized_vol'], 1)} "
        f"(target {pct(p.vol_target, 0)}); trade "
        f"at the {last['date'].isoformat()} close {money(last['trade'])}; after a "
        f"{pct(p.shock, 0)} day they trade {money(trades[0])} at that close, net {money(total)} "
        f"over {p.shock_days} sessions"
    )
    return Section(
        "vol_target",
        title,
        "ok",
        headline,
        inputs=f"Total returns of {p.equity_id} from prices ({d.summary('prices')}).",
        assumptions=(
            f"Funds hold E = min({p.max_leverage:g}, {p.vol_target:g} / realised vol) of "
            f"{p.equity_id}, realised vol over {p.vol_window} sessions, annualised with the "
            "square root of 252, and trade at each close. The scenario starts from today's "
            "realised vol; days after the shock return 0."
        ),
        parameters=params,
        numbers={
            "as_of": last["date"],
            "exposure": last["exposure"],
            "realized_vol": last["realized_vol"],
            "trade": last["trade"],
            "shock_first_day": trades[0],
            "shock_total": total,
        },
        blocks=(hist_fig, shock_fig, shock_table),
    )


def cta_section(d: ReportData, p: ReportParams) -> Section:
    """Trend followers: position and flows in the data, tomorrow's triggers and scenarios."""
    from flowpressure.mechanics import cta_model

    title = "CTA trend following"
    params = pick(p, "equity_id", "cta_aum", "lookbacks", "max_leverage") | {
        "signal": "sign",
        "risk_target": CTA_RISK_TARGET,
        "vol_window": CTA_VOL_WINDOW,
    }
    if missing := d.missing("prices"):
        return Section("cta", title, "no data", d.no_data(missing), parameters=params)
    if gone := _no_prices_of(d, p.equity_id, "equity_id"):
        return Section("cta", title, "no data", gone, parameters=params)
    res = cta_model(
        d.get("prices"),
        p.equity_id,
        aum=p.cta_aum,
        lookbacks=list(p.lookbacks),
        risk_target=CTA_RISK_TARGET,
        vol_window=CTA_VOL_WINDOW,
        max_leverage=p.max_leverage,
        as_of=d.as_of,
    )
    hist = res.history.tail(p.history)
    div, unit = money_scale([*hist["position"].to_list(), *hist["flow"].to_list()])
    hist_fig = figure(
        "fig-cta-history",
        "CTA position and flows",
        [
            bar(
                "flow at the close",
                hist["date"].to_list(),
                scaled(hist["flow"].to_list(), div),
                marker={"color": side_colors(hist["flow"].to_list())},
            ),
            line(
                "position",
                hist["date"].to_list(),
                scaled(hist["position"].to_list(), div),
                line={"color": PALETTE[0], "width": 2},
            ),
        ],
        layout(
            f"CTA trend model on {p.equity_id}: position and daily flow, last {hist.height} "
            "sessions",
            ytitle=unit,
            hovermode="x unified",
        ),
        "Position = A x exposure; flow = A (E_t - E_t-1 (1 + r_t)).",
    )
    sc = res.scenarios
    sdiv, sunit = money_scale(sc["flow"].to_list())
    scen_fig = figure(
        "fig-cta-scenarios",
        "CTA flow by tomorrow's move",
        [
            bar(
                "flow",
                [pct(m, 1) for m in sc["move"].to_list()],
                scaled(sc["flow"].to_list(), sdiv),
                marker={"color": side_colors(sc["flow"].to_list())},
            )
        ],
        layout(
            f"CTA flow at tomorrow's close by {p.equity_id}'s move", xtitle="move", ytitle=sunit
        ),
    )
    triggers = Table(
        "Tomorrow's trigger prices (lookback L compares with the close L-1 sessions back)",
        (
            "lookback",
            "signal",
            "trigger price",
            "distance",
            "flips to",
            "signal if crossed",
            "flow if crossed",
        ),
        ("int", "sf2", "f2", "spct", "text", "sf2", "money"),
        tuple(
            (
                r["lookback"],
                r["signal"],
                r["trigger_price"],
                r["distance_pct"],
                r["flips_to"],
                r["signal_if_crossed"],
                r["flow_if_crossed"],
            )
            for r in res.triggers.iter_rows(named=True)
        ),
    )
    flip = (
        f"the position flips at {res.flip_level:,.2f} ({pct(res.flip_level / res.close - 1)} away)"
        if res.flip_level is not None
        else "no flip level within +/-50%"
    )
    headline = (
        f"CTAs with {money(p.cta_aum)} hold {money(res.position)} of {p.equity_id} (exposure "
        f"{res.exposure:+.2f}, signal {res.signal:+.2f}); flow at the "
        f"{res.as_of.isoformat()} close {money(res.flow)}; {flip}"
    )
    return Section(
        "cta",
        title,
        "ok",
        headline,
        inputs=f"Adjusted closes of {p.equity_id} from prices ({d.summary('prices')}).",
        assumptions=(
            f"Sign-of-trend signals over lookbacks {list(p.lookbacks)} sessions, equally weighted; "
            f"exposure = signal x {CTA_RISK_TARGET:g} / realised vol ({CTA_VOL_WINDOW} sessions), "
            "capped at "
            f"+/-{p.max_leverage:g}; trades at the close."
        ),
        parameters=params,
        numbers={
            "as_of": res.as_of,
            "position": res.position,
            "exposure": res.exposure,
            "signal": res.signal,
            "flow": res.flow,
            "flip_level": res.flip_level,
            "close": res.close,
        },
        blocks=(hist_fig, triggers, scen_fig),
    )


def gamma_section(d: ReportData, p: ReportParams) -> Section:
    """Dealer gamma exposure of the stored option chain and its hedge flow."""
    from flowpressure.mechanics import gamma_exposure

    title = "Dealer gamma"
    params = pick(p, "equity_id") | {"call_sign": 1.0, "put_sign": -1.0}
    if missing := d.missing("options"):
        return Section("gamma", title, "no data", d.no_data(missing), parameters=params)
    chain = d.get("options")
    assert chain is not None
    if "asset_id" in chain.columns and chain["asset_id"].n_unique() > 1:
        chain = chain.filter(pl.col("asset_id") == p.equity_id)
        if chain.height == 0:
            return Section(
                "gamma",
                title,
                "no data",
                f"no options on {p.equity_id} (equity_id) in {d.where}",
                parameters=params,
            )
    snap = chain["date"].max() if "date" in chain.columns else None
    if snap is not None:
        chain = chain.filter(pl.col("date") == snap)
    g = gamma_exposure(chain)
    prof = g.profile
    div, unit = money_scale(prof["gex"].to_list())
    shapes: list[dict[str, Any]] = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": g.spot,
            "x1": g.spot,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#1d2330", "dash": "dash", "width": 1},
        },
    ]
    if g.flip_level is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": g.flip_level,
                "x1": g.flip_level,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#d2553f", "dash": "dot", "width": 1},
            }
        )
    fig = figure(
        "fig-gamma-profile",
        "Dealer gamma by spot",
        [
            line(
                "total GEX",
                prof["spot"].to_list(),
                scaled(prof["gex"].to_list(), div),
                line={"color": PALETTE[3], "width": 2},
            )
        ],
        layout(
            f"Dealer gamma exposure of the {g.asset_id} chain by spot (dashed: spot; dotted: flip)",
            xtitle=f"{g.asset_id} level",
            ytitle=f"{unit} per 1% move",
            shapes=shapes,
        ),
        "GEX = sum of sign x gamma x open interest x multiplier x S^2 x 1%; dealers hedge a +1% "
        "move by trading -GEX.",
    )
    table = Table(
        f"Gamma exposure by expiry (snapshot {g.as_of.isoformat()}, spot {g.spot:,.2f})",
        ("expiry", "days", "call GEX", "put GEX", "GEX", "open interest"),
        ("date", "int", "money", "money", "money", "int"),
        tuple(
            (r["expiry"], r["days"], r["call_gex"], r["put_gex"], r["gex"], r["open_interest"])
            for r in g.by_expiry.iter_rows(named=True)
        ),
    )
    flip = (
        f"gamma flips sign at {g.flip_level:,.2f}"
        if g.flip_level is not None
        else "no flip in the scanned range"
    )
    headline = (
        f"Dealers' gamma on {g.asset_id}: {money(g.total_gex)} per 1% move ({g.positioning}); "
        f"hedge flow for a +1% move {money(g.hedge_flow_1pct)}; {flip}"
    )
    stale = (
        f" The chain is a snapshot of {g.as_of.isoformat()}, before the as-of date."
        if g.as_of < d.as_of
        else ""
    )
    return Section(
        "gamma",
        title,
        "ok",
        headline,
        inputs=(
            f"{d.summary('options')}; {g.diagnostics.get('contracts', 0):,} contracts used.{stale}"
        ),
        assumptions=(
            "Black-Scholes gamma at each contract's implied volatility, T in calendar days / 365; "
            f"dealers are {g.positioning.replace('dealers ', '')} (customers sell calls and buy "
            "puts); the profile re-prices every contract at each spot."
        ),
        parameters=params,
        numbers={
            "as_of": g.as_of,
            "total_gex": g.total_gex,
            "hedge_flow_1pct": g.hedge_flow_1pct,
            "flip_level": g.flip_level,
            "spot": g.spot,
        },
        blocks=(fig, table),
    )
