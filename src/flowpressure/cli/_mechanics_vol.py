"""``flowpressure vol-target``: exposure, realised vol and trade of a vol-targeting fund."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from flowpressure.cli._app import emit_json, handle_errors, stdout
from flowpressure.cli._mechanics_io import (
    AS_OF_HELP,
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
)


def vol_target(
    prices: str = typer.Argument(..., metavar="PRICES", help=SOURCE_HELP),
    asset: str = typer.Option(..., "--asset", help="The risky asset (asset_id in PRICES)."),
    target: float = typer.Option(0.10, "--target", help="Annualised volatility target."),
    max_leverage: float = typer.Option(2.0, "--max-leverage", help="Exposure cap L_max."),
    window: int = typer.Option(
        20, "--window", help="Rolling window in sessions (with --ewma: the seed window)."
    ),
    ewma: float | None = typer.Option(None, "--ewma", help="EWMA decay lambda, e.g. 0.94."),
    aum: float = typer.Option(
        1.0, "--aum", help="Fund assets in currency; default 1 (trade as a fraction)."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
    shock: float | None = typer.Option(
        None, "--shock", help="Scenario: a one-day return (e.g. -0.04) after the as-of close."
    ),
    days: int = typer.Option(5, "--days", help="Sessions of the shock scenario."),
    history: int = typer.Option(10, "--history", help="Recent sessions shown."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Exposure min(L_max, target/vol), realised vol (annualised) and the trade E_t - E_t-1(1+r)."""
    from flowpressure.mechanics import vol_shock, vol_targeting

    with handle_errors():
        px = read_input(prices, "prices", db, "PRICES")
        frame = vol_targeting(
            px,
            asset,
            target=target,
            max_leverage=max_leverage,
            window=window,
            lam=ewma,
            aum=aum,
            as_of=parse_date(as_of, "--as-of"),
        )
        last = frame.row(-1, named=True)
        prev = frame.row(-2, named=True)
        method = f"EWMA lambda={ewma} (seed {window})" if ewma is not None else f"rolling {window}"
        payload: dict[str, Any] = {
            "asset_id": asset,
            "as_of": last["date"],
            "method": method,
            "window": window,
            "lam": ewma,
            "target": target,
            "max_leverage": max_leverage,
            "aum": aum,
            "close": last["close"],
            "ret": last["ret"],
            "realized_vol": last["realized_vol"],
            "exposure": last["exposure"],
            "prev_exposure": prev["exposure"],
            "trade": last["trade"],
            "trade_pct": last["trade_pct"],
            "history": records(frame.tail(history)),
        }
        if shock is not None:
            sc = vol_shock(
                aum,
                target,
                shock,
                days=days,
                vol_before=last["realized_vol"],
                max_leverage=max_leverage,
                window=window,
                lam=ewma,
            )
            payload["shock"] = {
                "shock": shock,
                "days": days,
                "vol_before": last["realized_vol"],
                "exposure_before": float(sc.exposure_before[0]),
                "vol": sc.vol[:, 0].tolist(),
                "exposure": sc.exposure[:, 0].tolist(),
                "trades": sc.trade[:, 0].tolist(),
                "total": float(sc.total[0]),
            }
        if as_json:
            emit_json(clean(payload))
            return
        _print(payload, frame.tail(history).iter_rows(named=True))


def _print(p: dict[str, Any], rows: Any) -> None:
    out = stdout()
    out.print(
        f"[bold]vol target {p['asset_id']}[/] as of {p['as_of']}: target {pct(p['target'], 1)}, "
        f"{p['method']}, max leverage {p['max_leverage']:g}, AUM {money(p['aum'])}",
        highlight=False,
    )
    out.print(
        f"realised vol {pct(p['realized_vol'])} (annualised) -> exposure "
        f"{num(p['exposure'], '.3f')} (was {num(p['prev_exposure'], '.3f')}); "
        f"trade at the close {money(p['trade'])} ({pct(p['trade_pct'])} of AUM)",
        highlight=False,
    )
    table = new_table(
        "recent sessions",
        [
            ("date", "left"),
            ("close", "right"),
            ("return", "right"),
            ("realised vol", "right"),
            ("exposure", "right"),
            ("trade", "right"),
        ],
    )
    for r in rows:
        table.add_row(
            str(r["date"]),
            num(r["close"]),
            pct(r["ret"]),
            pct(r["realized_vol"]),
            num(r["exposure"], ".3f"),
            money(r["trade"]),
        )
    out.print(table)
    sc = p.get("shock")
    if sc:
        t = new_table(
            f"scenario: a {pct(sc['shock'], 1)} day after the as-of close, then flat "
            f"(vol before {pct(sc['vol_before'])}, exposure {sc['exposure_before']:.3f})",
            [
                ("day", "right"),
                ("realised vol", "right"),
                ("exposure", "right"),
                ("trade", "right"),
            ],
        )
        for i, (v, e, tr) in enumerate(zip(sc["vol"], sc["exposure"], sc["trades"], strict=True)):
            t.add_row(str(i), pct(v), num(e, ".3f"), money(tr))
        out.print(t)
        out.print(f"total over {sc['days']} sessions: {money(sc['total'])}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``vol-target`` to ``app``."""
    app.command("vol-target")(vol_target)
