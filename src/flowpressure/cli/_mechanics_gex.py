"""``flowpressure gex``: dealer gamma exposure of an option chain, by strike and expiry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import typer

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout
from flowpressure.cli._mechanics_io import (
    DB_HELP,
    clean,
    money,
    new_table,
    num,
    parse_date,
    pct,
    read_input,
    records,
)

CHAIN_HELP = (
    "Option chain (expiry, strike, type, open_interest, iv; optional multiplier, "
    "underlying_price, rate, date, dealer_sign, gamma, snapshot): CSV/Parquet (or a source "
    "format such as a CBOE chain, see flowpressure formats), 'sample' or, with --db, 'options'."
)
SIGN_CONVENTION = (
    "as positioned: + where dealers are long the contract, - where short; total > 0 means "
    "dealers long gamma; hedge flow for a +1% move = -GEX"
)


def gex(
    chain: str = typer.Argument(..., metavar="CHAIN", help=CHAIN_HELP),
    spot: float | None = typer.Option(
        None, "--spot", help="Underlying price (default: the chain's underlying_price)."
    ),
    rate: float | None = typer.Option(
        None, "--rate", help="Risk-free rate (default: the chain's rate, else 0)."
    ),
    asof: str | None = typer.Option(
        None, "--asof", "--as-of", help="Snapshot date (default: the chain's last date)."
    ),
    asset: str | None = typer.Option(None, "--asset", help="Underlying, when several."),
    call_sign: float = typer.Option(1.0, "--call-sign", help="Dealers' sign on calls (+1 long)."),
    put_sign: float = typer.Option(-1.0, "--put-sign", help="Dealers' sign on puts (-1 short)."),
    top: int = typer.Option(12, "--top", help="Strikes shown (largest |GEX|)."),
    snapshot: str | None = typer.Option(
        None,
        "--snapshot",
        help="Chain snapshot to use when the chain holds several of the underlying on the "
        "date (they are never summed).",
    ),
    gamma: str = typer.Option(
        "auto",
        "--gamma",
        help="Gamma at spot: auto (the chain's gamma column where given, else Black-Scholes "
        "from iv), chain or model.",
    ),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Total GEX in dollars per 1 % move, by strike and expiry, and the gamma-flip level."""
    from flowpressure.mechanics import gamma_exposure

    with handle_errors():
        frame, source = _read_chain(chain, db)
        res = gamma_exposure(
            frame,
            spot=spot,
            rate=rate,
            as_of=parse_date(asof, "--asof"),
            asset_id=asset,
            call_sign=call_sign,
            put_sign=put_sign,
            snapshot=snapshot,
            gamma=gamma,  # type: ignore[arg-type]  # checked by gamma_exposure
        )
        if res.diagnostics["expiring_today"]:
            stderr().print(
                f"left out {res.diagnostics['expiring_today']} contracts expiring on the as-of "
                "date",
                highlight=False,
            )
        payload: dict[str, Any] = {
            "asset_id": res.asset_id,
            "as_of": res.as_of,
            "spot": res.spot,
            "total_gex": res.total_gex,
            "hedge_flow_1pct": res.hedge_flow_1pct,
            "flip_level": res.flip_level,
            "positioning": res.positioning,
            "by_strike": records(res.by_strike),
            "by_expiry": records(res.by_expiry),
            "diagnostics": res.diagnostics,
            "units": res.units,
            "sign_convention": SIGN_CONVENTION,
            "gamma_source": res.gamma_source,
            "model_total_gex": res.model_total_gex,
            "snapshot": res.snapshot,
            "source": source,
        }
        if as_json:
            emit_json(clean(payload))
            return
        _print(payload, res.by_strike, top)


def _read_chain(chain: str, db: Path | None) -> tuple[Any, dict[str, Any]]:
    """Read the chain; for a file, also what its source format inferred (``source``)."""
    path = Path(chain)
    if chain != "sample" and path.suffix and path.is_file():
        import duckdb

        from flowpressure.data import scan_source

        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        scan = scan_source(con, path, "options")
        return scan.relation, dict(scan.describe())
    return read_input(chain, "options", db, "CHAIN"), {}


def _print(p: dict[str, Any], by_strike: pl.DataFrame, top: int) -> None:
    out = stdout()
    flip = (
        f"{num(p['flip_level'])} ({pct(p['flip_level'] / p['spot'] - 1)} from spot)"
        if p["flip_level"] is not None
        else "none within 80-120 % of spot"
    )
    regime = "long gamma (dampening)" if p["total_gex"] > 0 else "short gamma (amplifying)"
    out.print(
        f"[bold]dealer gamma {p['asset_id']}[/] as of {p['as_of']}, spot {num(p['spot'])} "
        f"({p['positioning']})",
        highlight=False,
    )
    out.print(
        f"total GEX {money(p['total_gex'])} per 1% move: dealers {regime}; hedge flow for "
        f"+1% {money(p['hedge_flow_1pct'])}; gamma flip {flip}",
        highlight=False,
    )
    snap = f"; snapshot {p['snapshot']}" if p["snapshot"] else ""
    out.print(
        f"units: {p['units']}; sign {p['sign_convention']}; gamma at spot: "
        f"{p['gamma_source']} (model total {money(p['model_total_gex'])}; profile and flip "
        f"re-priced by the model){snap}",
        highlight=False,
    )
    if p["source"]:
        notes = ", ".join(f"{k} {v}" for k, v in p["source"].items() if not isinstance(v, dict))
        stderr().print(f"chain read as: {notes}", highlight=False)
    t = new_table(
        "by expiry",
        [(c, "right") for c in ("expiry", "days", "call GEX", "put GEX", "GEX", "open interest")],
    )
    for r in p["by_expiry"]:
        t.add_row(
            str(r["expiry"]),
            str(r["days"]),
            money(r["call_gex"]),
            money(r["put_gex"]),
            money(r["gex"]),
            num(r["open_interest"], ",.0f"),
        )
    out.print(t)
    largest = by_strike.sort(pl.col("gex").abs(), descending=True).head(top).sort("strike")
    s = new_table(
        f"largest {largest.height} strikes by |GEX|",
        [(c, "right") for c in ("strike", "call GEX", "put GEX", "GEX")],
    )
    for r in largest.iter_rows(named=True):
        s.add_row(num(r["strike"]), money(r["call_gex"]), money(r["put_gex"]), money(r["gex"]))
    out.print(s)


def register(app: typer.Typer) -> None:
    """Add ``gex`` to ``app``."""
    app.command("gex")(gex)
