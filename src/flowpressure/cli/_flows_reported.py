"""``flowpressure flows-reported``: reported gross and net fund flows, beside implied flows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout

KIND = "fund_flows_reported"


def flows_reported(
    source: str = typer.Argument(
        ...,
        metavar="INPUT",
        help="N-PORT, 24F-2NT or N-CEN extract (CSV/Parquet), or a fund_flows_reported file; "
        "with --db, the stored kind (fund_flows_reported).",
    ),
    db: Path | None = typer.Option(None, "--db", help="Read INPUT (and --fund) from this store."),
    fmt: str | None = typer.Option(
        None, "--format", help="Source format of INPUT: nport, 24f2nt or ncen (recognised)."
    ),
    fund: str | None = typer.Option(
        None,
        "--fund",
        help="Fund panel (TNA + return) to set the implied flow beside the reported one: "
        "a file, or with --db the stored kind (fund).",
    ),
    returns: str | None = typer.Option(
        None,
        "--returns",
        help="Fund or class returns (e.g. the N-PORT class returns file; with --db the stored "
        "kind fund_returns): adds ret_total and, where tna is reported, tna_start and flow_pct.",
    ),
    timing: str = typer.Option("end", "--timing", help="Implied-flow timing: end or start."),
    calendar: str = typer.Option("XNYS", "--calendar", help="Exchange calendar."),
    as_json: bool = typer.Option(
        False, "--json", help="Print {notes, rows}: every row with its flows."
    ),
) -> None:
    """Per fund and period: sales, reinvestments, redemptions, net flow (and implied flow, gap)."""
    import duckdb

    from flowpressure import ConfigError, FlowPressureError
    from flowpressure.data import Store, scan_file, scan_source, validate
    from flowpressure.flows import REPORTED_NOTES, reported_flows

    with handle_errors():
        if timing not in ("end", "start"):
            raise ConfigError(field="--timing", expected="end or start", got=timing)
        store = Store(db, read_only=True) if db is not None else None
        try:
            con = store.con if store is not None else duckdb.connect()
            con.execute("SET enable_progress_bar = false")
            notes: dict[str, Any] = {}
            if store is not None and not Path(source).suffix:
                panel = store.table(source if source != "fund" else KIND)
                notes["input"] = f"{KIND} stored in {store.path}"
            else:
                scan = scan_source(con, source, KIND, fmt=fmt)
                try:
                    panel = validate(scan.relation, KIND, calendar=calendar)
                except FlowPressureError as bad:
                    scan.place(bad)
                    raise
                notes.update(scan.describe())
            fund_panel = None
            if fund is not None:
                if store is not None and not Path(fund).suffix:
                    fund_panel = store.table(fund)
                else:
                    fund_panel = validate(scan_file(con, fund, "fund"), "fund", calendar=calendar)
            returns_panel = None
            if returns is not None:
                if store is not None and not Path(returns).suffix:
                    returns_panel = store.table(returns)
                else:
                    rscan = scan_source(con, returns, "fund_returns")
                    try:
                        returns_panel = validate(rscan.relation, "fund_returns")
                    except FlowPressureError as bad:
                        rscan.place(bad)
                        raise
                    if rscan.describe():
                        notes["returns"] = rscan.describe()
            result = reported_flows(
                panel,
                fund_panel,
                returns=returns_panel,
                timing=timing,  # type: ignore[arg-type]
                validate_input=False,
            )
            rows = result.pl().to_dicts()
        finally:
            if store is not None:
                store.close()
        if fund_panel is not None:
            counts: dict[str, int] = {}
            for row in rows:
                if row.get("implied_note"):
                    counts[row["implied_note"]] = counts.get(row["implied_note"], 0) + 1
            notes["implied_flow_missing"] = counts
            err = stderr()
            for note, count in counts.items():
                err.print(
                    f"reported flows: {count:,} rows without implied flow "
                    f"({REPORTED_NOTES.get(note, note)})",
                    highlight=False,
                )
        if as_json:
            emit_json({"notes": notes, "rows": rows})
            return
        err = stderr()
        for name, value in notes.items():
            if name not in ("implied_flow_missing",):
                err.print(f"{KIND} {name}: {value}", highlight=False)
        _print(rows)


def _period(start: Any, end: Any) -> str:
    """``2022-10`` for one calendar month, ``2025-03..2026-02`` for whole months, else dates."""
    import datetime as dt

    after = end + dt.timedelta(days=1)
    if start.day == 1 and after.day == 1:
        first, last = start.strftime("%Y-%m"), end.strftime("%Y-%m")
        return first if first == last else f"{first}..{last}"
    return f"{start}..{end}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:+.2%}"


def _money(value: float | None) -> str:
    return "" if value is None else f"{value / 1e6:,.3f}"


def _print(rows: list[dict[str, Any]]) -> None:
    table = Table(
        title="reported fund flows, millions (net = sales + reinvestments - redemptions)",
        title_justify="left",
    )
    cols = ["fund_id", "period", "source", "sales", "reinvest", "redemptions", "net_flow"]
    extra = [
        (name, label)
        for name, label in (
            ("net_sales_form", "24F net sales"),
            ("tna", "tna"),
            ("flow_pct", "flow %"),
            ("implied_flow", "implied"),
            ("flow_gap", "gap"),
        )
        if any(r.get(name) is not None for r in rows)
    ]
    for name in cols + [label for _, label in extra]:
        left = name in cols[:3]
        table.add_column(name, justify="left" if left else "right", no_wrap=left)
    for r in rows:
        table.add_row(
            str(r["fund_id"]),
            _period(r["period_start"], r["date"]),
            str(r.get("source") or ""),
            _money(r["sales"]),
            _money(r["reinvestments"]),
            _money(r["redemptions"]),
            _money(r["net_flow"]),
            *[
                (_pct(r.get(name)) if name == "flow_pct" else _money(r.get(name)))
                for name, _ in extra
            ],
        )
    stdout().print(table)


def register(app: typer.Typer) -> None:
    """Add ``flows-reported`` to ``app``."""
    app.command("flows-reported")(flows_reported)
