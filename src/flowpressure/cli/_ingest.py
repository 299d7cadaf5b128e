"""``flowpressure ingest`` and ``info``: load files into the store, list what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout

if TYPE_CHECKING:
    from rich.console import Console

    from flowpressure.data import IngestResult

DB_HELP = "DuckDB store file (default: $FLOWPRESSURE_DB, else ./flowpressure.duckdb)."


def ingest(
    kind: str = typer.Argument(
        ..., help="fund, etf, holdings, prices, index_events, buybacks, options or 13f."
    ),
    file: Path = typer.Argument(..., help="CSV or Parquet file; for 13f the SEC data-set zip."),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite stored rows whose keys the file has."
    ),
    mapping: list[str] | None = typer.Option(
        None, "--map", help="Rename a file column: FILE_COL=PANEL_COL (repeatable)."
    ),
    constants: list[str] | None = typer.Option(
        None, "--set", help="Add a constant column: PANEL_COL=VALUE, e.g. asset_id=SPY."
    ),
    delimiter: str | None = typer.Option(None, "--delimiter", help="CSV delimiter (detected)."),
    scale: list[str] | None = typer.Option(
        None, "--scale", help="Multiply a column after reading: PANEL_COL=FACTOR, e.g. aum=1e6."
    ),
    calendar: str = typer.Option("XNYS", "--calendar", help="Exchange calendar of daily panels."),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="Source format of FILE when its columns are not the panel's (flowpressure formats "
        "lists them); "
        "recognised from the columns when omitted.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Validate FILE as a KIND panel and add it to the store in one transaction."""
    from flowpressure.data import default_db_path
    from flowpressure.data._loaders import parse_pairs

    with handle_errors():
        maps = parse_pairs(mapping, "--map")
        consts = parse_pairs(constants, "--set")
        factors = {k: _number(v, "--scale") for k, v in parse_pairs(scale, "--scale").items()}
        err = stderr()
        target = db or default_db_path()
        fresh = not target.exists()
        try:
            result, path = _ingest(
                kind, file, target, replace, maps, consts, delimiter, factors, calendar, fmt, err
            )
        except BaseException:
            # A failed first ingest leaves no store behind, as if it had not been tried.
            if fresh:
                for leftover in (target, target.with_name(target.name + ".wal")):
                    leftover.unlink(missing_ok=True)
            raise
        _report(kind, file, result, path, as_json, err)


def _ingest(
    kind: str,
    file: Path,
    db: Path,
    replace: bool,
    maps: dict[str, str],
    consts: dict[str, str],
    delimiter: str | None,
    factors: dict[str, float],
    calendar: str,
    fmt: str | None,
    err: Console,
) -> tuple[IngestResult, Path]:
    from flowpressure.data import Store

    with (
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar,
        Store(db) as store,
    ):
        task = bar.add_task(f"ingest {kind} {file.name}", total=None)

        def stage(name: str) -> None:
            bar.update(task, description=f"ingest {kind} {file.name}: {name}")

        result = store.ingest(
            kind,
            file,
            replace=replace,
            mapping=maps,
            constants=consts,
            delimiter=delimiter,
            scale=factors,
            calendar=calendar,
            fmt=fmt,
            progress=stage,
        )
        path = store.path
    return result, path


def _report(
    kind: str, file: Path, result: IngestResult, path: Path, as_json: bool, err: Console
) -> None:
    if as_json:
        emit_json({**result.to_dict(), "db": str(path)})
        return
    out = stdout()
    if result.status == "unchanged":
        out.print(f"{kind}: {file.name} is already in {path} (same SHA-256); nothing changed")
    else:
        extra = f", replaced {result.replaced:,}" if result.replaced else ""
        out.print(f"{kind}: ingested {result.rows:,} rows from {file.name} into {path}{extra}")
    if result.format is not None:
        how = "recognised from its columns" if result.notes.get("format_inferred") else "named"
        err.print(f"{kind}: read as format {result.format} ({how})", highlight=False)
    for name, value in result.notes.items():
        if name not in ("format", "format_inferred"):
            err.print(f"{kind} {name}: {value}", highlight=False)
    if result.ignored_columns:
        err.print(f"columns not stored: {', '.join(result.ignored_columns)}", highlight=False)
    for name, value in result.diagnostics.items():
        if value:
            err.print(f"{kind} {name}: {value:,}", highlight=False)


def _number(text: str, option: str) -> float:
    from flowpressure import ConfigError

    try:
        return float(text)
    except ValueError:
        raise ConfigError(field=option, expected="NAME=NUMBER", got=text) from None


def info(
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object keyed by kind."),
) -> None:
    """List each stored kind: rows, entities, date range and the provenance of each ingest."""
    from flowpressure import StoreError
    from flowpressure.data import Store

    with handle_errors():
        from flowpressure.data import default_db_path

        path = db or default_db_path()
        if not path.exists():
            raise StoreError(
                f"no store at {str(path)!r}; create one with: flowpressure ingest KIND FILE"
                + (f" --db {path}" if db else ""),
                field="db",
            )
        with Store(path, read_only=True) as store:
            summary = store.info()
        if as_json:
            emit_json(summary)
            return
        _print_info(summary, path)


def _print_info(summary: dict[str, dict[str, Any]], path: Path) -> None:
    out = stdout()
    if not summary:
        out.print(f"{path}: empty store")
        return
    table = Table(title=f"flowpressure store {path}", title_justify="left")
    for name, justify in [
        ("kind", "left"),
        ("rows", "right"),
        ("entities", "right"),
        ("first", "left"),
        ("last", "left"),
        ("key", "left"),
        ("ingests", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for kind, item in summary.items():
        table.add_row(
            kind,
            f"{item['rows']:,}",
            f"{item['entities']:,}",
            str(item["first_date"]),
            str(item["last_date"]),
            ", ".join(item["key"]),
            str(len(item["ingests"])),
        )
    out.print(table)
    prov = Table(title="provenance", title_justify="left")
    for name in ("id", "kind", "file", "sha256", "rows", "ingested (UTC)"):
        prov.add_column(name)
    for item in summary.values():
        for p in item["ingests"]:
            prov.add_row(
                str(p["ingest_id"]),
                p["kind"],
                Path(p["source"]).name,
                p["sha256"][:12],
                f"{p['rows']:,}",
                p["ingested_at"],
            )
    out.print(prov)


def formats(
    kind: str | None = typer.Argument(None, help="Only the formats of this kind."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of formats."),
) -> None:
    """List the public source formats ingest --format reads, per kind, with their columns."""
    from flowpressure.data import INGEST_KINDS
    from flowpressure.data.formats import formats_for

    with handle_errors():
        if kind is not None and kind not in INGEST_KINDS:
            from flowpressure import ConfigError

            raise ConfigError(field="kind", expected=f"one of {', '.join(INGEST_KINDS)}", got=kind)
        rows: list[dict[str, Any]] = [
            {
                "kind": f.kind,
                "format": f.name,
                "description": f.description,
                "signature": list(f.signature),
            }
            for k in ([kind] if kind else INGEST_KINDS)
            for f in formats_for(k)
        ]
        if as_json:
            emit_json(rows)
            return
        table = Table(title="source formats (ingest KIND FILE --format NAME)", title_justify="left")
        for name in ("kind", "format", "description", "recognised by columns"):
            table.add_column(name)
        for r in rows:
            table.add_row(r["kind"], r["format"], r["description"], ", ".join(r["signature"]))
        stdout().print(table)


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``info`` and ``formats`` to ``app``."""
    app.command("ingest")(ingest)
    app.command("info")(info)
    app.command("formats")(formats)
