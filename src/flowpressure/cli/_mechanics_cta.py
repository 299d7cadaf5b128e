"""``flowpressure cta``: trend-follower positions, flows and tomorrow's trigger prices."""

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
    parse_numbers,
    pct,
    read_input,
    records,
)


def cta(
    prices: str = typer.Argument(..., metavar="PRICES", help=SOURCE_HELP),
    asset: str = typer.Option(..., "--asset", help="The traded asset (asset_id in PRICES)."),
    aum: float = typer.Option(..., "--aum", help="Aggregate CTA assets (currency), required."),
    lookbacks: str = typer.Option(
        "20,60,120,250", "--lookbacks", help="Lookbacks in sessions, comma-separated."
    ),
    signal: str = typer.Option("sign", "--signal", help="sign, or scaled (vol-scaled, capped)."),
    weights: str | None = typer.Option(
        None, "--weights", help="Weights of the lookbacks, comma-separated (default equal)."
    ),
    risk_target: float = typer.Option(0.10, "--risk-target", help="Annualised vol target."),
    vol_window: int = typer.Option(60, "--vol-window", help="Sessions of realised volatility."),
    max_leverage: float = typer.Option(2.0, "--max-leverage", help="Exposure cap."),
    z_cap: float = typer.Option(1.0, "--z-cap", help="Scaled signal: z-score of a full signal."),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
    history: int = typer.Option(5, "--history", help="Recent sessions shown."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Position, today's flow, trigger prices per lookback and tomorrow's flow by move."""
    from flowpressure import ConfigError
    from flowpressure.mechanics import cta_model

    with handle_errors():
        if signal not in ("sign", "scaled"):
            raise ConfigError(field="--signal", expected="sign or scaled", got=signal)
        lbs = parse_numbers(lookbacks, "--lookbacks", int) or []
        px = read_input(prices, "prices", db, "PRICES")
        res = cta_model(
            px,
            asset,
            aum=aum,
            lookbacks=lbs,
            signal=signal,  # type: ignore[arg-type]
            weights=parse_numbers(weights, "--weights"),
            risk_target=risk_target,
            vol_window=vol_window,
            max_leverage=max_leverage,
            z_cap=z_cap,
            as_of=parse_date(as_of, "--as-of"),
        )
        payload: dict[str, Any] = {
            "asset_id": res.asset_id,
            "as_of": res.as_of,
            "aum": res.aum,
            "close": res.close,
            "signal": res.signal,
            "realized_vol": res.realized_vol,
            "exposure": res.exposure,
            "position": res.position,
            "flow": res.flow,
            "flip_level": res.flip_level,
            "params": res.params,
            "triggers": records(res.triggers),
            "scenarios": records(res.scenarios),
            "history": records(res.history.tail(history)),
        }
        if as_json:
            emit_json(clean(payload))
            return
        _print(payload)


def _print(p: dict[str, Any]) -> None:
    out = stdout()
    prm = p["params"]
    out.print(
        f"[bold]CTA trend {p['asset_id']}[/] as of {p['as_of']}: lookbacks {prm['lookbacks']} "
        f"({prm['signal']}), risk target {pct(prm['risk_target'], 1)}, AUM {money(p['aum'])}",
        highlight=False,
    )
    flip = (
        f"{num(p['flip_level'])} ({pct(p['flip_level'] / p['close'] - 1)} away)"
        if p["flip_level"] is not None
        else "none within +/-50%"
    )
    out.print(
        f"close {num(p['close'])}; signal {num(p['signal'], '+.2f')}, realised vol "
        f"{pct(p['realized_vol'])} -> exposure {num(p['exposure'], '+.3f')}, position "
        f"{money(p['position'])}; today's flow {money(p['flow'])}; position flips at {flip}",
        highlight=False,
    )
    t = new_table(
        "triggers for tomorrow (lookback L compares with the close L-1 sessions back)",
        [
            ("lookback", "right"),
            ("signal", "right"),
            ("trigger", "right"),
            ("distance", "right"),
            ("flips", "left"),
            ("signal if crossed", "right"),
            ("flow if crossed", "right"),
        ],
    )
    for r in p["triggers"]:
        t.add_row(
            str(r["lookback"]),
            num(r["signal"], "+.2f"),
            num(r["trigger_price"]),
            pct(r["distance_pct"]),
            r["flips_to"],
            num(r["signal_if_crossed"], "+.2f"),
            money(r["flow_if_crossed"]),
        )
    out.print(t)
    s = new_table(
        "tomorrow's close: exposure and flow",
        [(name, "right") for name in ("move", "price", "signal", "exposure", "flow")],
    )
    for r in p["scenarios"]:
        s.add_row(
            pct(r["move"], 1),
            num(r["price"]),
            num(r["signal"], "+.2f"),
            num(r["exposure"], "+.3f"),
            money(r["flow"]),
        )
    out.print(s)


def register(app: typer.Typer) -> None:
    """Add ``cta`` to ``app``."""
    app.command("cta")(cta)
