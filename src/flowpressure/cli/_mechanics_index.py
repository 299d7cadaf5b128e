"""``flowpressure index-demand``: passive demand of index additions, deletions and reweights."""

from __future__ import annotations

from pathlib import Path

import typer

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout
from flowpressure.cli._mechanics_io import (
    DB_HELP,
    SOURCE_HELP,
    money,
    new_table,
    num,
    pct,
    read_input,
    records,
    write_frame,
)


def index_demand(
    events: str = typer.Argument(..., metavar="EVENTS", help=SOURCE_HELP),
    indexed_assets: float | None = typer.Option(
        None,
        "--indexed-assets",
        help="Dollars indexed to the benchmark (A). Without it: passive_share x float_mcap.",
    ),
    prices: str | None = typer.Option(
        None, "--prices", help="Prices panel (close, volume): " + SOURCE_HELP
    ),
    index_id: str | None = typer.Option(None, "--index-id", help="Keep the events of one index."),
    index_asset: str | None = typer.Option(
        None, "--index-asset", help="Asset of PRICES with the index level (default: index_id)."
    ),
    adv_window: int = typer.Option(
        20, "--adv-window", help="ADV sessions, ending the session before the announcement."
    ),
    complete: bool = typer.Option(
        False, "--complete", help="Events are a complete reweighting: weights must sum to 1."
    ),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write every row to .csv/.parquet."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    calendar: str = typer.Option("XNYS", "--calendar", help="Exchange calendar."),
    start: str | None = typer.Option(
        None, "--start", help="Keep events effective on or after this date (YYYY-MM-DD)."
    ),
    end: str | None = typer.Option(
        None, "--end", help="Keep events effective on or before this date (YYYY-MM-DD)."
    ),
    keep_unpriced: bool = typer.Option(
        False,
        "--keep-unpriced",
        help="Keep events the prices cannot price (no close, short ADV history): dollars "
        "only, with a note, instead of an error.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per event."),
) -> None:
    """Demand per event in dollars, shares and days of ADV: A(w_new - w_old(1+r_i)/(1+r_idx))."""
    from flowpressure.mechanics import index_demand as compute

    with handle_errors():
        ev = read_input(events, "index_events", db, "EVENTS")
        px = read_input(prices, "prices", db, "--prices") if prices or db else None
        if px is None:
            stderr().print(
                "no --prices: demand in dollars only (no drift, shares or ADV)", highlight=False
            )
        result = compute(
            ev,
            px,
            indexed_assets=indexed_assets,
            index_id=index_id,
            index_asset=index_asset,
            adv_window=adv_window,
            complete=complete,
            calendar=calendar,
            start=start,
            end=end,
            unpriced="keep" if keep_unpriced else "raise",
        )
        n_out = int(result["notes"].str.contains("not priced: ").sum())
        if n_out:
            stderr().print(
                f"{n_out} of {result.height} events not priced (no close or short ADV "
                "history): dollars only, see their notes",
                highlight=False,
            )
        if out is not None:
            write_frame(result, out)
            stderr().print(f"wrote {result.height} rows to {out}", highlight=False)
        if as_json:
            emit_json(records(result))
            return
        mode = f"A = {money(indexed_assets)}" if indexed_assets else "A = passive share x float cap"
        table = new_table(
            f"index demand ({mode}; ADV {adv_window} sessions before the announcement)",
            [
                ("index", "left"),
                ("asset", "left"),
                ("kind", "left"),
                ("announced", "left"),
                ("trade close", "left"),
                ("w_old", "right"),
                ("w_new", "right"),
                ("drift", "right"),
                ("demand", "right"),
                ("shares", "right"),
                ("days of ADV", "right"),
            ],
        )
        for r in result.iter_rows(named=True):
            drift = None
            if r["r_asset"] is not None and r["r_index"] is not None:
                drift = (1 + r["r_asset"]) / (1 + r["r_index"]) - 1
            table.add_row(
                r.get("index_id") or "",
                r["asset_id"],
                r["kind"],
                str(r["announce_date"]),
                str(r["trade_date"]),
                pct(r["w_old"], 3),
                pct(r["w_new"], 3),
                pct(drift),
                money(r["demand"]),
                num(r["demand_shares"], ",.0f"),
                num(r["days_of_adv"], ",.1f"),
            )
        stdout().print(table)
        total = float(result["demand"].sum())
        stdout().print(
            f"{result.height} events; net demand {money(total)} (+ = buying at the close before "
            "the effective date)",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``index-demand`` to ``app``."""
    app.command("index-demand")(index_demand)
