"""``flowpressure sample``: write the embedded sample data set to files."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer
from rich.table import Table

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout


def sample(
    out: Path = typer.Option(Path("sample"), "--out", "-o", help="Directory to write into."),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write the embedded sample (prices, funds, ETFs, holdings, events, buybacks, options)."""
    from flowpressure import ConfigError
    from flowpressure.data import sample as sample_data

    with handle_errors():
        if fmt not in ("parquet", "csv"):
            raise ConfigError(field="--format", expected="parquet or csv", got=fmt)
        err = stderr()
        with (
            err.status("generating the sample", spinner="dots")
            if err.is_terminal
            else nullcontext()
        ):
            paths = sample_data.write(out, fmt)  # type: ignore[arg-type]
            described = sample_data.describe()
        if as_json:
            emit_json(
                {
                    kind: {**described.get(kind, {}), "path": str(path)}
                    for kind, path in paths.items()
                }
            )
            return
        table = Table(title=f"embedded sample written to {out}", title_justify="left")
        for name in ("kind", "file", "rows", "dates", "real", "synthetic"):
            table.add_column(name, overflow="fold")
        for kind, path in paths.items():
            d = described.get(kind, {})
            table.add_row(
                kind,
                path.name,
                f"{d.get('rows', 0):,}",
                f"{d.get('start', '')} .. {d.get('end', '')}",
                str(d.get("real", "")),
                str(d.get("synthetic", "")),
            )
        stdout().print(table)


def register(app: typer.Typer) -> None:
    """Add ``sample`` to ``app``."""
    app.command("sample")(sample)
