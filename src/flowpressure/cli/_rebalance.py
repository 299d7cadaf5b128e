"""``flowpressure rebalance`` and ``pension``: simulate rebalancing, estimate pension flows."""

from __future__ import annotations

import math
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout

DB_HELP = "Read the prices stored in this DuckDB store instead of a file."
RULES = ("monthly", "quarterly", "annual", "threshold")


def _money(value: float) -> str:
    size = abs(value)
    for unit, scale in (("tn", 1e12), ("bn", 1e9), ("m", 1e6)):
        if size >= scale:
            return f"{value / scale:,.2f}{unit}"
    return f"{value:,.2f}"


def _targets(pairs: list[str] | None) -> dict[str, float]:
    from flowpressure import ConfigError

    out: dict[str, float] = {}
    for pair in pairs or []:
        name, sep, weight = pair.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = math.nan
        if not sep or not name.strip() or not math.isfinite(value):
            raise ConfigError(field="--target", expected="ASSET=WEIGHT, e.g. SPX=0.6", got=pair)
        if name.strip() in out:
            raise ConfigError(field="--target", expected="each asset once", got=name.strip())
        out[name.strip()] = value
    if not out:
        raise ConfigError(field="--target", expected="at least one ASSET=WEIGHT, e.g. SPX=0.6")
    return out


def _triple(text: str, option: str) -> tuple[float, float, float]:
    from flowpressure import ConfigError

    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise ConfigError(field=option, expected="LOW,CENTRAL,HIGH, e.g. 0.5,0.75,1", got=text)
    return values[0], values[1], values[2]


def _prices(prices: Path | None, db: Path | None, assets: list[str], calendar: str) -> Any:
    """Pivot the prices of ``assets`` from a file or a store (PriceArrays)."""
    from flowpressure import ConfigError, DataError
    from flowpressure.data import Store, load_file
    from flowpressure.mechanics import PriceArrays

    if (prices is None) == (db is None):
        raise ConfigError(
            field="PRICES", expected="a prices file, or --db with a store holding prices"
        )
    try:
        if db is not None:
            with Store(db, read_only=True) as store:
                return PriceArrays.from_frame(store.table("prices"), assets)
        assert prices is not None
        return PriceArrays.from_frame(load_file(prices, "prices", calendar=calendar), assets)
    except DataError as exc:
        if exc.field != "asset_id":
            raise
        raise ConfigError(
            field="--target", key=exc.key, expected="an asset_id with rows in the prices"
        ) from None


def _pension_prices(
    files: list[Path], db: Path | None, assets: list[str], calendar: str
) -> tuple[Any, dict[str, dict[str, Any]]]:
    """Prices of the legs from one or more files (each read in its format) or a store.

    Returns the pivoted prices and, per file, what its source format inferred (FRED: the
    frequency per series, NaN and non-session rows dropped).
    """
    if files and db is not None:
        from flowpressure import ConfigError

        raise ConfigError(field="--prices", expected="prices files or --db, not both")
    if db is not None:
        return _prices(None, db, assets, calendar), {}
    import duckdb

    from flowpressure import ConfigError, DataError, FlowPressureError
    from flowpressure.data import scan_source, validate
    from flowpressure.mechanics import PriceArrays
    from flowpressure.mechanics.pension import stack_legs

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    panels: list[Any] = []
    inputs: dict[str, dict[str, Any]] = {}
    for file in files:
        scan = scan_source(con, file, "prices")
        try:
            panels.append(validate(scan.relation, "prices", calendar=calendar))
        except FlowPressureError as err:
            scan.place(err)
            raise
        described = scan.describe()
        if described:
            inputs[file.name] = described
    try:
        return PriceArrays.from_frame(stack_legs(panels), assets), inputs
    except DataError as exc:
        if exc.field != "asset_id":
            raise
        raise ConfigError(
            field="--equity-id", key=exc.key, expected="an asset_id with rows in the prices"
        ) from None


def _rule(
    rule: str | None,
    every: int | None,
    band: float | None,
    band_kind: str,
    floor: float,
    to: str,
    only_outside: bool,
) -> Any:
    from flowpressure import ConfigError
    from flowpressure.mechanics import RebalanceRule

    spec: dict[str, Any] = {
        "band": band,
        "band_kind": band_kind,
        "floor": floor,
        "to": to,
        "trade": "outside" if only_outside else "all",
    }
    if rule is not None and rule not in RULES:
        raise ConfigError(field="--rule", expected=" or ".join(RULES), got=rule)
    if every is not None:
        if rule not in (None, "threshold"):
            raise ConfigError(
                field="--every",
                expected="either --every N or a calendar --rule, not both",
                got=f"--rule {rule} --every {every}",
            )
        if rule == "threshold" and band is None:
            raise ConfigError(field="--band", expected="a band width > 0 for --rule threshold")
        return RebalanceRule("D", every, **spec)
    if rule == "threshold":
        if band is None:
            raise ConfigError(field="--band", expected="a band width > 0 for --rule threshold")
        return RebalanceRule("D", None, **spec)
    return RebalanceRule(
        {"quarterly": "Q", "annual": "Y"}.get(rule or "monthly", "M"), None, **spec
    )


def rebalance(
    prices: Path | None = typer.Argument(
        None, help="Long prices file (asset_id, date, close; CSV or Parquet)."
    ),
    target: list[str] | None = typer.Option(
        None, "--target", "-t", help="Target weight ASSET=W, e.g. SPX=0.6 (repeat per asset)."
    ),
    rule: str | None = typer.Option(
        None, "--rule", help="monthly (default), quarterly, annual or threshold (needs --band)."
    ),
    every: int | None = typer.Option(None, "--every", help="Rebalance every N trading days."),
    band: float | None = typer.Option(
        None,
        "--band",
        help="Band width (0.05 = 5 points). With a calendar rule: trade only outside the band.",
    ),
    band_kind: str = typer.Option(
        "absolute", "--band-kind", help="absolute |w-w*|>b, relative |w/w*-1|>b, or hybrid."
    ),
    band_floor: float = typer.Option(
        0.0, "--band-floor", help="Absolute floor of a hybrid band: max(b*w*, floor)."
    ),
    to: str = typer.Option("target", "--to", help="Trade back to the target or the band edge."),
    only_outside: bool = typer.Option(
        False, "--only-outside", help="Trade only the assets outside their band."
    ),
    cost_bps: float = typer.Option(0.0, "--cost-bps", help="Proportional cost, bps per trade."),
    fixed_cost: float = typer.Option(0.0, "--fixed-cost", help="Cost per rebalance."),
    tax_rate: float = typer.Option(0.0, "--tax-rate", help="Tax on realised gains (0.2 = 20%)."),
    deduct_taxes: bool = typer.Option(
        False, "--deduct-taxes", help="Pay the tax out of the portfolio (else only reported)."
    ),
    initial: float = typer.Option(1e6, "--initial", help="Money invested at the first close."),
    flows: Path | None = typer.Option(
        None, "--flows", help="CSV/Parquet of dated contributions/withdrawals (date, flow)."
    ),
    reinvest: bool = typer.Option(
        False, "--reinvest-dividends", help="Reinvest dividends at once (else cash)."
    ),
    start: str | None = typer.Option(None, "--start", help="First date to simulate."),
    end: str | None = typer.Option(None, "--end", help="Last date to simulate."),
    calendar: str = typer.Option("XNYS", "--calendar", help="Exchange calendar of period ends."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    trades: Path | None = typer.Option(None, "--trades", help="Write every trade to this CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Simulate a rebalancing policy on PRICES and report value, rebalances, turnover, costs."""
    from flowpressure.mechanics import RebalanceCosts, simulate_rebalance

    with handle_errors():
        weights = _targets(target)
        the_rule = _rule(rule, every, band, band_kind, band_floor, to, only_outside)
        costs = RebalanceCosts(
            bps=cost_bps, fixed=fixed_cost, tax_rate=tax_rate, deduct_taxes=deduct_taxes
        )
        flow_frame = None
        if flows is not None:
            import polars as pl

            flow_frame = (
                pl.read_parquet(flows) if flows.suffix == ".parquet" else pl.read_csv(flows)
            )
        err = stderr()
        with err.status("simulating", spinner="dots") if err.is_terminal else nullcontext():
            panel = _prices(prices, db, list(weights), calendar)
            result = simulate_rebalance(
                panel,
                weights,
                the_rule,
                costs,
                initial,
                flows=flow_frame,
                dividends="reinvest" if reinvest else "cash",
                record="full",
                start=start,
                end=end,
                calendar=calendar,
            )
        summary = result.summary()
        if trades is not None:
            result.trades().drop("portfolio").write_csv(trades)
            summary["trades_file"] = str(trades)
        if as_json:
            emit_json(summary)
            return
        _print_rebalance(summary)


def _print_rebalance(s: dict[str, Any]) -> None:
    table = Table(title=f"rebalancing: {s['rule']}", title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    dates = s.get("rebalance_dates") or []
    rows = [
        ("period", f"{s['start']} .. {s['end']} ({s['days']:,} sessions)"),
        ("initial", _money(s["initial"])),
        ("final value", _money(s["final_value"])),
        ("total return", f"{s['total_return']:.2%}"),
        ("rebalances", f"{s['n_rebalances']:,}"),
        ("first / last", f"{dates[0]} / {dates[-1]}" if dates else "-"),
        ("turnover per year", f"{s['turnover']:.2%}"),
        ("costs", _money(s["costs"])),
        ("taxes", _money(s["taxes"])),
        ("realised gains", _money(s["realized_gains"])),
        ("dividends", _money(s["dividends"])),
    ]
    if s.get("flows"):
        rows.append(("flows", _money(s["flows"])))
    for name, value in rows:
        table.add_row(name, value)
    for asset, w in s["targets"].items():
        final = s.get("final_weights", {}).get(asset, float("nan"))
        table.add_row(f"weight {asset}", f"{final:.2%} (target {w:.2%})")
    if "trades_file" in s:
        table.add_row("trades written", s["trades_file"])
    stdout().print(table)


def pension(
    aum: float = typer.Option(..., "--aum", help="Mandate value at the last rebalance, W."),
    target_equity: float = typer.Option(0.6, "--target-equity", help="Equity weight (0.6)."),
    equity_return: float | None = typer.Option(
        None, "--equity-return", help="Equity return since the last rebalance (0.20 = +20%)."
    ),
    bond_return: float | None = typer.Option(
        None, "--bond-return", help="Bond return since the last rebalance."
    ),
    prices: list[Path] | None = typer.Option(
        None,
        "--prices",
        help="Prices file: estimate month/quarter/year windows from data. Repeatable, one per "
        "leg, e.g. equities and a FRED/ICE total-return index (read by the fred format).",
    ),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    equity_id: str | None = typer.Option(None, "--equity-id", help="asset_id of equities."),
    bond_id: str | None = typer.Option(None, "--bond-id", help="asset_id of bonds."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date of the latest returns."),
    days: int = typer.Option(5, "--days", help="Spread over the last N sessions of a window."),
    share: str = typer.Option(
        "0.5,0.75,1", "--share", help="Share of AUM that rebalances: LOW,CENTRAL,HIGH."
    ),
    band: str = typer.Option("0,0,0.02", "--band", help="No trade within this drift: L,C,H."),
    early: str = typer.Option("0,0.25,0.5", "--early", help="Share traded before: L,C,H."),
    calendar: str = typer.Option("XNYS", "--calendar", help="Exchange calendar of period ends."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Estimate the trade a 60/40-style mandate needs to get back to target (negative = sell)."""
    from flowpressure import ConfigError
    from flowpressure.mechanics import (
        PensionAssumptions,
        estimate_pension_flows,
        two_asset_trade,
    )
    from flowpressure.mechanics.pension import RETURN_BASIS

    with handle_errors():
        if not prices and db is None:
            if equity_return is None or bond_return is None:
                raise ConfigError(
                    field="--equity-return",
                    expected="--equity-return and --bond-return, or --prices with ids",
                )
            trade = two_asset_trade(aum, target_equity, equity_return, bond_return)
            r_p = target_equity * equity_return + (1 - target_equity) * bond_return
            after = target_equity * (1 + equity_return) / (1 + r_p)
            payload: dict[str, Any] = {
                "aum": aum,
                "target_equity": target_equity,
                "equity_return": equity_return,
                "bond_return": bond_return,
                "equity_weight_before_trade": after,
                "drift": after - target_equity,
                "equity_trade": trade,
                "bond_trade": -trade,
            }
            if as_json:
                emit_json(payload)
                return
            sell, buy = ("equities", "bonds") if trade < 0 else ("bonds", "equities")
            stdout().print(
                f"{target_equity:.0%}/{1 - target_equity:.0%} mandate, W = {_money(aum)}: "
                f"equities {equity_return:+.2%}, bonds {bond_return:+.2%} -> weight {after:.2%}; "
                f"sell {_money(abs(trade))} of {sell}, buy {_money(abs(trade))} of {buy} "
                "(W*w_e*w_b*(r_b - r_e))",
                highlight=False,
            )
            return
        if not equity_id or not bond_id:
            raise ConfigError(field="--equity-id", expected="--equity-id and --bond-id with data")
        assumptions = PensionAssumptions(
            _triple(share, "--share"), _triple(band, "--band"), _triple(early, "--early")
        )
        panel, inputs = _pension_prices(prices or [], db, [equity_id, bond_id], calendar)
        est = estimate_pension_flows(
            panel,
            {equity_id: target_equity, bond_id: 1 - target_equity},
            aum,
            as_of=as_of,
            assumptions=assumptions,
            days=days,
            calendar=calendar,
        )
        windows: dict[str, dict[str, Any]] = {}
        for name, w in est.windows.items():
            windows[name] = {
                "start": w.start,
                "end": w.end,
                "equity_return": w.returns[equity_id],
                "bond_return": w.returns[bond_id],
                "equity_weight_before_trade": w.drifted_weights[equity_id],
                "drift": w.drifted_weights[equity_id] - target_equity,
                "mechanical_equity_trade": w.trade[equity_id],
                "equity_trade": {
                    "low": w.low[equity_id],
                    "central": w.central[equity_id],
                    "high": w.high[equity_id],
                },
                "bond_trade": {
                    "low": w.low[bond_id],
                    "central": w.central[bond_id],
                    "high": w.high[bond_id],
                },
                "days": w.days,
                "equity_per_day": w.per_day[equity_id],
            }
        payload = {
            "as_of": est.as_of,
            "aum": aum,
            "target_equity": target_equity,
            "equity_id": equity_id,
            "bond_id": bond_id,
            "assumptions": {
                "share_rebalancing": assumptions.share_rebalancing,
                "band": assumptions.band,
                "traded_early": assumptions.traded_early,
            },
            "windows": windows,
            "notes": {**est.notes, "inputs": inputs},
        }
        if as_json:
            emit_json(payload)
            return
        err = stderr()
        for asset, basis in est.notes["return_basis"].items():
            err.print(f"pension {asset}: {RETURN_BASIS[basis]}", highlight=False)
        for name, described in inputs.items():
            for key, value in described.items():
                err.print(f"pension {name} {key}: {value}", highlight=False)
        table = Table(
            title=f"pension rebalancing flows as of {est.as_of} "
            f"({target_equity:.0%} {equity_id} / {1 - target_equity:.0%} {bond_id}, "
            f"W = {_money(aum)}; negative = sell equities)",
            title_justify="left",
        )
        for col in ("window", "since", "ends", equity_id, bond_id, "weight", "equities: low"):
            table.add_column(col, justify="right")
        table.add_column("central", justify="right", style="bold")
        table.add_column("high", justify="right")
        table.add_column(f"per day (last {days})", justify="right")
        for name, row in windows.items():
            t = row["equity_trade"]
            table.add_row(
                name,
                str(row["start"]),
                str(row["end"]),
                f"{row['equity_return']:+.2%}",
                f"{row['bond_return']:+.2%}",
                f"{row['equity_weight_before_trade']:.2%}",
                _money(t["low"]),
                _money(t["central"]),
                _money(t["high"]),
                _money(row["equity_per_day"]),
            )
        stdout().print(table)


def register(app: typer.Typer) -> None:
    """Add ``rebalance`` and ``pension`` to ``app``."""
    app.command("rebalance")(rebalance)
    app.command("pension")(pension)
