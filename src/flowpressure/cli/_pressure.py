"""CLI verbs of the pressure layer: ``multiplier``, ``impact``, ``calendar``, ``fire-sales``.

Each prints a Rich table, or JSON with ``--json``. Dates for "as of" come from the data's last
date unless ``--as-of`` is given, never from the wall clock.
"""

from __future__ import annotations

from pathlib import Path

import typer

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout
from flowpressure.cli._mechanics_io import (
    DB_HELP,
    SOURCE_HELP,
    clean,
    money,
    new_table,
    num,
    parse_date,
    pct,
    read_input,
    records,
    write_frame,
)


def multiplier(
    inflow: float = typer.Option(..., "--inflow", help="Dollars moved into the mixed fund."),
    theta: float = typer.Option(..., "--theta", help="Equity mandate of the fund, in (0, 1)."),
    shares: float = typer.Option(..., "--shares", help="Shares outstanding (all held by it)."),
    price: float = typer.Option(..., "--price", help="Share price before the inflow."),
    bonds: float | None = typer.Option(
        None, "--bonds", help="Fund's bonds before (default shares*price*(1-theta)/theta)."
    ),
    rounds: int = typer.Option(10, "--rounds", help="Feedback rounds of the cascade to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with the cascade)."),
) -> None:
    """Gabaix-Koijen inelastic-markets multiplier: price and market cap after an inflow."""
    from flowpressure.pressure import mixed_fund_multiplier

    with handle_errors():
        res = mixed_fund_multiplier(inflow, theta, shares, price, bonds, max_rounds=rounds)
        if as_json:
            emit_json(clean(res.to_dict()))
            return
        table = new_table(
            f"inelastic multiplier (theta = {res.theta:g}, zeta = 1 - theta = {res.zeta:g})",
            [("", "left"), ("before", "right"), ("after", "right"), ("change", "right")],
        )
        table.add_row(
            "price", num(res.price, ",.4f"), num(res.price_after, ",.4f"), pct(res.price_change)
        )
        table.add_row(
            "market cap",
            num(res.market_cap_before, ",.2f"),
            num(res.market_cap_after, ",.2f"),
            num(res.market_cap_change, "+,.2f"),
        )
        table.add_row(
            "fund value",
            num(res.fund_value_before, ",.2f"),
            num(res.fund_value_after, ",.2f"),
            num(res.fund_value_after - res.fund_value_before, "+,.2f"),
        )
        table.add_row(
            "fund bonds",
            num(res.bonds, ",.2f"),
            num(res.bonds_after, ",.2f"),
            num(res.bonds_after - res.bonds, "+,.2f"),
        )
        out = stdout()
        out.print(table)
        out.print(
            f"inflow {res.inflow:g}; equity inflow {res.equity_inflow:g}; multiplier "
            f"{res.multiplier:g} (= 1/zeta); flow {pct(res.flow_fraction)} of the market -> "
            f"price {pct(res.price_change)} (p = f/zeta)",
            highlight=False,
        )
        for step in res.steps:
            out.print(f"{step.step}. {step.text}", highlight=False)


def impact(
    quantity: float = typer.Option(
        ..., "--quantity", help="Signed flow (negative = selling), in the unit of --adv."
    ),
    adv: float = typer.Option(..., "--adv", help="Average daily volume, same unit as Q."),
    sigma: float = typer.Option(..., "--sigma", help="Daily volatility (0.02 = 2 % a day)."),
    y: float = typer.Option(1.0, "--y", help="Square-root-law prefactor Y (of order 1)."),
    days: float = typer.Option(1.0, "--days", help="Sessions to execute over (participation)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Square-root-law impact: dp/p = sign(Q) * Y * sigma * sqrt(|Q|/ADV)."""
    from flowpressure.pressure import sqrt_impact

    with handle_errors():
        est = sqrt_impact(quantity, adv, sigma, y, days)
        if as_json:
            emit_json(clean(est.to_dict()))
            return
        table = new_table(
            f"square-root impact (Y = {est.y:g}, sigma = {pct(est.sigma)} a day)",
            [
                ("quantity", "right"),
                ("ADV", "right"),
                ("days of ADV", "right"),
                ("participation", "right"),
                ("impact", "right"),
                ("impact (bps)", "right"),
            ],
        )
        table.add_row(
            num(est.quantity, ",.0f"),
            num(est.adv, ",.0f"),
            num(est.days_of_adv, ",.3f"),
            f"{pct(est.participation)} over {est.days:g} d",
            pct(est.impact, 3),
            num(est.impact_bps, "+,.1f"),
        )
        stdout().print(table)


def calendar(
    start: str | None = typer.Option(
        None, "--start", help="First date (default: the day after the prices' last date)."
    ),
    end: str | None = typer.Option(None, "--end", help="Last date (default: start + 92 days)."),
    window_sessions: int = typer.Option(
        5, "--window-sessions", help="Month/quarter/year-end rebalancing window (last N)."
    ),
    prices: str | None = typer.Option(None, "--prices", help="Prices: " + SOURCE_HELP),
    buybacks: str | None = typer.Option(None, "--buybacks", help="Buybacks: " + SOURCE_HELP),
    index_events: str | None = typer.Option(
        None, "--index-events", help="Index events: " + SOURCE_HELP
    ),
    options: str | None = typer.Option(None, "--options", help="Options chain: " + SOURCE_HELP),
    rebalance_aum: float | None = typer.Option(
        None, "--rebalance-aum", help="Dollars in a fixed equity/bond mix (sizes month ends)."
    ),
    equity: str = typer.Option("SPX", "--equity", help="Equity leg asset_id in the prices."),
    bond: str = typer.Option("AGG_TR", "--bond", help="Bond leg asset_id in the prices."),
    w_equity: float = typer.Option(0.6, "--w-equity", help="Equity weight of the mix."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write every row to .csv/.parquet."),
    cal_name: str = typer.Option("XNYS", "--calendar", help="Exchange calendar."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per row."),
) -> None:
    """Flow calendar: rebalancing windows, expiries, index dates, buyback blackouts, sizes."""
    import datetime as dt

    from flowpressure import ConfigError
    from flowpressure.pressure import flow_calendar

    with handle_errors():
        px = read_input(prices, "prices", db, "--prices") if prices else None
        bb = read_input(buybacks, "buybacks", db, "--buybacks") if buybacks else None
        ie = (
            read_input(index_events, "index_events", db, "--index-events") if index_events else None
        )
        op = read_input(options, "options", db, "--options") if options else None
        lo = parse_date(start, "--start")
        if lo is None:
            if px is None:
                raise ConfigError(
                    field="--start", expected="a date, or --prices to start after its last date"
                )
            import polars as pl

            last = px.select(pl.col("date").max()).item() if hasattr(px, "select") else None
            if not isinstance(last, dt.date):
                raise ConfigError(field="--start", expected="a date as YYYY-MM-DD")
            lo = last + dt.timedelta(days=1)
            stderr().print(f"--start {lo} (the day after the prices' last date)", highlight=False)
        hi = parse_date(end, "--end") or lo + dt.timedelta(days=92)
        result = flow_calendar(
            lo,
            hi,
            rebalance_sessions=window_sessions,
            prices=px,
            buybacks=bb,
            index_events=ie,
            options=op,
            rebalance_aum=rebalance_aum,
            equity=equity,
            bond=bond,
            w_equity=w_equity,
            calendar=cal_name,
        )
        if out is not None:
            write_frame(result, out)
            stderr().print(f"wrote {result.height} rows to {out}", highlight=False)
        if as_json:
            emit_json(records(result))
            return
        table = new_table(
            f"flow calendar {lo}..{hi} (rebalancing window: last {window_sessions} sessions)",
            [
                ("date", "left"),
                ("family", "left"),
                ("asset", "left"),
                ("window", "left"),
                ("dollars", "right"),
                ("days of ADV", "right"),
                ("status", "left"),
                ("notes", "left"),
            ],
        )
        for r in result.iter_rows(named=True):
            window = ""
            if r["window_start"] is not None and r["window_end"] != r["window_start"]:
                window = f"{r['window_start']}..{r['window_end']}"
            table.add_row(
                str(r["date"]),
                r["family"],
                r["asset_id"] or "",
                window,
                money(r["dollars"]),
                num(r["days_of_adv"], ",.2f"),
                r["status"],
                r["notes"],
            )
        stdout().print(table)
        sized = int((result["status"] == "sized").sum())
        stdout().print(
            f"{result.height} events, {sized} sized, {result.height - sized} unsized",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add the pressure verbs to ``app``."""
    app.command("multiplier")(multiplier)
    app.command("impact")(impact)
    app.command("calendar")(calendar)
