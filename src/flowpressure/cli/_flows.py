"""``flowpressure flows fund|etf|holdings``: measure flows from a file or a stored panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout

KINDS = ("fund", "etf", "holdings")


def flows(
    kind: str = typer.Argument(..., help="fund, etf or holdings."),
    source: str = typer.Argument(
        ..., metavar="INPUT", help="CSV or Parquet file; with --db, the stored kind to read."
    ),
    prices: str | None = typer.Option(
        None,
        "--prices",
        help="Prices file for holdings (with --db: defaults to stored prices); 'values' prices "
        "13F holdings by their reported value / shares.",
    ),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write all rows to .csv/.parquet."),
    db: Path | None = typer.Option(None, "--db", help="Read INPUT (and prices) from this store."),
    timing: str = typer.Option("end", "--timing", help="Fund flow timing: end or start."),
    mergers: Path | None = typer.Option(
        None, "--mergers", help="Fund mergers file: target_id, acquirer_id, date."
    ),
    freq: str | None = typer.Option(
        None,
        "--freq",
        help="Period of the panel: D, W, M, Q or A (fund: inferred from the dates when left "
        "out, and said; holdings: Q).",
    ),
    unit_size: float | None = typer.Option(None, "--unit-size", help="ETF creation unit size."),
    so_lag: int = typer.Option(0, "--so-lag", help="ETF shares reported K sessions late."),
    bridge_gaps: bool = typer.Option(
        False,
        "--bridge-gaps",
        help="ETF: the flow after a missing session covers the whole gap (flagged gap_bridged); "
        "by default it is dropped and the dropped amount is stated.",
    ),
    return_kind: str = typer.Option("price", "--return-kind", help="ETF AUM check: price|total."),
    calendar: str = typer.Option("XNYS", "--calendar", help="Exchange calendar."),
    top: int = typer.Option(15, "--top", help="Rows in the table of largest flows."),
    as_json: bool = typer.Option(False, "--json", help="Print every row as JSON records."),
) -> None:
    """Measure flows: every input column plus flow, flow_pct (and creation_units, value)."""
    import duckdb

    from flowpressure import ConfigError, FlowPressureError
    from flowpressure.data import Store, scan_source, validate
    from flowpressure.flows import (
        NOTES,
        FreqInference,
        etf_flows,
        fund_flows,
        holdings_flows,
        infer_freq,
        note_counts,
    )

    with handle_errors():
        if kind not in KINDS:
            raise ConfigError(field="kind", expected="fund, etf or holdings", got=kind)
        store = Store(db, read_only=True) if db is not None else None
        con = store.con if store is not None else duckdb.connect()
        con.execute("SET enable_progress_bar = false")

        def read(what: str, name: str) -> Any:
            if store is not None and not Path(name).suffix:
                return store.table(name)
            scan = scan_source(con, name, what)
            try:
                return validate(scan.relation, what, calendar=calendar)
            except FlowPressureError as err:
                scan.place(err)  # name the file and the line, as ingest does
                raise

        panel = read(kind, source)
        err = stderr()
        inference: FreqInference | None = None
        if kind == "fund":
            inference = (
                infer_freq(panel, calendar=calendar)
                if freq is None
                else FreqInference(freq, False, "stated")  # type: ignore[arg-type]
            )
            if inference.inferred:
                err.print(
                    f"fund flows: frequency {inference.freq} inferred ({inference.reason})",
                    highlight=False,
                )
            merged = None
            if mergers is not None:
                merged = con.sql(f"SELECT * FROM read_csv('{_lit(mergers)}', all_varchar=true)")
                merged = merged.project("target_id, acquirer_id, CAST(date AS DATE) AS date")
            result = fund_flows(
                panel,
                timing=timing,  # type: ignore[arg-type]
                mergers=merged,
                freq=inference.freq,
                calendar=calendar,
                validate_input=False,
            )
        elif kind == "etf":
            result = etf_flows(
                panel,
                unit_size=unit_size,
                so_lag=so_lag,
                return_kind=return_kind,  # type: ignore[arg-type]
                calendar=calendar,
                bridge_gaps=bridge_gaps,
                validate_input=False,
            )
        else:
            px = None
            if prices == "values":
                # 13F panels carry values: each position priced by value / shares, said
                err.print(
                    "holdings flows: priced by the holdings' own values (value / shares); "
                    "splits inferred from the holders' share counts",
                    highlight=False,
                )
            elif prices is not None or store is not None:
                px = read("prices", prices or "prices")
            else:
                raise ConfigError(
                    field="--prices",
                    expected="a prices file for holdings flows, or 'values' to price 13F "
                    "holdings by their reported values",
                )
            result = holdings_flows(
                panel,
                px,
                freq=(freq or "Q"),  # type: ignore[arg-type]
                calendar=calendar,
                validate_input=False,
            )
        for note, count in note_counts(result).items():
            err.print(
                f"{kind} flows: {count:,} rows {note} ({NOTES.get(note, note)})", highlight=False
            )
        if kind == "etf" and not bridge_gaps:
            n, known, amount = (
                result.filter("flow_note = 'gap'")
                .aggregate("count(*), count(flow_dropped), coalesce(sum(flow_dropped), 0)")
                .fetchall()[0]
            )
            if n:
                unknown = f" ({n - known:,} of them unknown: so_lag)" if known < n else ""
                err.print(
                    f"etf flows: {n:,} flows dropped after a gap, {amount:,.0f} in all{unknown}; "
                    "--bridge-gaps keeps them, flagged gap_bridged",
                    highlight=False,
                )
        if out is not None:
            _write(result, out)
            err.print(f"wrote {out}", highlight=False)
        if as_json:
            rows = result.pl().to_dicts()
            if inference is not None:  # every row says the frequency it was measured at
                rows = [
                    {**r, "freq": inference.freq, "freq_inferred": inference.inferred} for r in rows
                ]
            emit_json(rows)
        elif out is None:
            _print_largest(result, kind, top)
        if store is not None:
            store.close()


def _lit(path: Path) -> str:
    return str(path).replace("'", "''")


def _write(result: Any, out: Path) -> None:
    from flowpressure import ConfigError

    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        result.write_parquet(str(out))
    elif suffix == ".csv":
        result.write_csv(str(out))
    else:
        raise ConfigError(field="-o", expected="a .csv or .parquet path", got=out.name)


def _print_largest(result: Any, kind: str, top: int) -> None:
    entity = "investor_id" if kind == "holdings" else "fund_id"
    cols = [entity, *(["asset_id"] if kind == "holdings" else []), "date", "flow", "flow_pct"]
    rows = (
        result.filter("flow IS NOT NULL")
        .order("abs(flow) DESC")
        .limit(top)
        .project(", ".join(cols))
        .fetchall()
    )
    table = Table(title=f"largest {kind} flows", title_justify="left")
    for name in cols:
        table.add_column(name, justify="right" if name.startswith("flow") else "left")
    for row in rows:
        *keys, flow, pct = row
        table.add_row(
            *[str(k) for k in keys],
            f"{flow:,.0f}",
            "" if pct is None else f"{pct:.2%}",
        )
    stdout().print(table)


def register(app: typer.Typer) -> None:
    """Add ``flows`` to ``app``."""
    app.command("flows")(flows)
