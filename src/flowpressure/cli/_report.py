"""``flowpressure report``: write the self-contained HTML report, print a summary per section.

The report is built from a store (``--db``, default ``$FLOWPRESSURE_DB`` or
``./flowpressure.duckdb``) or from the embedded sample (``--sample``). Its as-of date is the
data's last date unless ``--as-of`` is given; every parameter below is stamped in the page.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout
from flowpressure.report import ReportParams

_D = ReportParams()
_LOOKBACKS = ",".join(str(n) for n in _D.lookbacks)

#: CLI option of each report parameter whose name is not ``--`` + the name with dashes.
OPTION = {
    "share_rebalancing": "--share",
    "traded_early": "--early",
    "rebalance_days": "--days",
    "indexed_assets": "--indexed-assets",
}

DB_HELP = "Store to read (default: $FLOWPRESSURE_DB, else ./flowpressure.duckdb)."


def _option(name: str) -> str:
    return OPTION.get(name, "--" + name.replace("_", "-"))


def _triple(text: str, option: str) -> tuple[float, float, float]:
    from flowpressure import ConfigError

    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise ConfigError(field=option, expected="LOW,CENTRAL,HIGH, e.g. 0.5,0.75,1", got=text)
    return values[0], values[1], values[2]


def _ints(text: str, option: str) -> tuple[int, ...]:
    from flowpressure import ConfigError

    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values:
        raise ConfigError(field=option, expected="whole numbers separated by commas", got=text)
    return values


def _params(values: dict[str, Any]) -> ReportParams:
    """Build the parameters; an invalid one is reported under its option name."""
    from flowpressure import ConfigError

    try:
        return ReportParams(**values)
    except ConfigError as exc:
        name = exc.field or ""
        raise ConfigError(
            field=_option(name) if name in values else name,
            expected=exc.expected,
            got=exc.got,
        ) from None


def _triple_text(values: tuple[float, ...]) -> str:
    return ",".join(f"{v:g}" for v in values)


def report(
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    use_sample: bool = typer.Option(
        False, "--sample", help="Build from the embedded sample instead of a store."
    ),
    out: Path = typer.Option(
        Path("build/report.html"), "-o", "--out", help="HTML file to write (directories created)."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Use data up to this date (default: the data's last date)."
    ),
    aum: float = typer.Option(
        _D.aum, "--aum", help="Assets of the 60/40-style mandate (currency)."
    ),
    target_equity: float = typer.Option(
        _D.target_equity, "--target-equity", help="Target equity weight of the mandate."
    ),
    equity_id: str = typer.Option(
        _D.equity_id, "--equity-id", help="Equity asset_id (also vol-target, CTA, gamma, impact)."
    ),
    bond_id: str = typer.Option(_D.bond_id, "--bond-id", help="Bond asset_id of the mandate."),
    share: str = typer.Option(
        _triple_text(_D.share_rebalancing),
        "--share",
        help="Share of the mandate that rebalances: LOW,CENTRAL,HIGH.",
    ),
    band: str = typer.Option(
        _triple_text(_D.band), "--band", help="No trade within this drift: LOW,CENTRAL,HIGH."
    ),
    early: str = typer.Option(
        _triple_text(_D.traded_early), "--early", help="Share traded before: LOW,CENTRAL,HIGH."
    ),
    days: int = typer.Option(
        _D.rebalance_days, "--days", help="Sessions of each month/quarter/year-end window."
    ),
    indexed_assets: float = typer.Option(
        _D.indexed_assets or 0.0, "--indexed-assets", help="Dollars indexed to the benchmark."
    ),
    float_cap: bool = typer.Option(
        False, "--float-cap", help="Size index events by passive share x float cap instead."
    ),
    adv_window: int = typer.Option(_D.adv_window, "--adv-window", help="Sessions of ADV."),
    buyback_cap: float = typer.Option(
        _D.buyback_cap, "--buyback-cap", help="Rule 10b-18 cap, a share of ADTV."
    ),
    blackout_days: int = typer.Option(
        _D.blackout_days, "--blackout-days", help="Buyback blackout days before earnings."
    ),
    vol_target: float = typer.Option(
        _D.vol_target, "--vol-target", help="Vol-control funds' annualised volatility target."
    ),
    vol_aum: float = typer.Option(_D.vol_aum, "--vol-aum", help="Assets of vol-control funds."),
    vol_window: int = typer.Option(
        _D.vol_window, "--vol-window", help="Sessions of the vol-control realised volatility."
    ),
    max_leverage: float = typer.Option(
        _D.max_leverage, "--max-leverage", help="Exposure cap of vol-control and CTA funds."
    ),
    shock: float = typer.Option(_D.shock, "--shock", help="One-day return of the vol scenario."),
    shock_days: int = typer.Option(
        _D.shock_days, "--shock-days", help="Sessions of the vol scenario."
    ),
    cta_aum: float = typer.Option(_D.cta_aum, "--cta-aum", help="Assets following CTA trend."),
    lookbacks: str = typer.Option(_LOOKBACKS, "--lookbacks", help="CTA lookbacks in sessions."),
    horizon: int = typer.Option(
        _D.horizon, "--horizon", help="Trading sessions of the flow calendar after the as-of date."
    ),
    history: int = typer.Option(
        _D.history, "--history", help="Sessions in the vol-target and CTA history charts."
    ),
    inflow: float = typer.Option(_D.inflow, "--inflow", help="Multiplier example: the inflow."),
    theta: float = typer.Option(_D.theta, "--theta", help="Multiplier example: equity mandate."),
    shares: float = typer.Option(_D.shares, "--shares", help="Multiplier example: shares."),
    price: float = typer.Option(_D.price, "--price", help="Multiplier example: price before."),
    impact_y: float = typer.Option(
        _D.impact_y, "--impact-y", help="Square-root impact prefactor Y."
    ),
    calendar: str = typer.Option(_D.calendar, "--calendar", help="Exchange calendar."),
    validation: Path | None = typer.Option(
        None,
        "--validation",
        help="Add the Validation section: run every check on the files in this folder "
        "(laid out like ../shared/data).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write the HTML report: flows, rebalancing, index events, buybacks, vol, CTA, pressure."""
    from flowpressure import ConfigError
    from flowpressure.cli._mechanics_io import clean, parse_date
    from flowpressure.data import Store, default_db_path, sample
    from flowpressure.report import build_report, write_report

    with handle_errors():
        if use_sample and db is not None:
            raise ConfigError(field="--sample", expected="either --db PATH or --sample, not both")
        day = parse_date(as_of, "--as-of")
        params = _params(
            {
                "aum": aum,
                "target_equity": target_equity,
                "equity_id": equity_id,
                "bond_id": bond_id,
                "share_rebalancing": _triple(share, "--share"),
                "band": _triple(band, "--band"),
                "traded_early": _triple(early, "--early"),
                "rebalance_days": days,
                "indexed_assets": None if float_cap else indexed_assets,
                "adv_window": adv_window,
                "buyback_cap": buyback_cap,
                "blackout_days": blackout_days,
                "vol_target": vol_target,
                "vol_aum": vol_aum,
                "vol_window": vol_window,
                "max_leverage": max_leverage,
                "shock": shock,
                "shock_days": shock_days,
                "cta_aum": cta_aum,
                "lookbacks": _ints(lookbacks, "--lookbacks"),
                "horizon": horizon,
                "history": history,
                "inflow": inflow,
                "theta": theta,
                "shares": shares,
                "price": price,
                "impact_y": impact_y,
                "calendar": calendar,
            }
        )
        err = stderr()
        with (
            err.status("building the report", spinner="dots") if err.is_terminal else nullcontext()
        ):
            checks = None
            if validation is not None:
                from flowpressure.validate import run_checks

                checks = run_checks(None, validation)
            extra: dict[str, Any] = {"validation": checks, "validation_source": str(validation)}
            if use_sample:
                tables = {kind: sample.load(kind) for kind in sample.SAMPLE_KINDS}
                built = build_report(
                    tables, as_of=day, params=params, source="embedded sample", **extra
                )
            else:
                with Store(db or default_db_path(), read_only=True) as store:
                    built = build_report(store, as_of=day, params=params, **extra)
            path = write_report(built, out)
        if as_json:
            emit_json(clean({"path": str(path), **built.to_dict()}))
            return
        _print(built, path)


def _print(built: Any, path: Path) -> None:
    from rich.table import Table
    from rich.text import Text

    out = stdout()
    size = path.stat().st_size / 1e6
    out.print(f"report written to {path} ({size:.1f} MB)", highlight=False)
    out.print(
        f"flowpressure {built.version}; data as of {built.as_of.isoformat()}; {built.source}",
        highlight=False,
    )
    table = Table(title="sections", title_justify="left")
    table.add_column("section", justify="left", no_wrap=True)
    table.add_column("status", justify="left", no_wrap=True)
    table.add_column("headline", justify="left", overflow="fold")
    for s in built.sections:
        style = "green" if s.status == "ok" else "yellow"
        table.add_row(Text(s.title), Text(s.status, style=style), Text(s.headline))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``report`` verb to ``app``."""
    app.command("report")(report)
