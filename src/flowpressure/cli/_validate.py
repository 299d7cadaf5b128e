"""``flowpressure validate``: every model checked against real outcomes, one table."""

from __future__ import annotations

from pathlib import Path

import typer

from flowpressure.cli._app import emit_json, handle_errors, stdout
from flowpressure.validate import CHECKS

_CHECK_HELP = "Checks to run (default: all): " + ", ".join(CHECKS) + "."
_VERDICT_STYLE = {"pass": "green", "partial": "yellow", "fail": "bold red"}


def validate(
    checks: list[str] | None = typer.Argument(None, help=_CHECK_HELP, show_default=False),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Folder laid out like ../shared/data (default: $FLOWPRESSURE_DATA, else that).",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print a JSON list, one object per check: check, data, figure, reference, verdict.",
    ),
) -> None:
    """Check each model against what really happened, on real public files (no network)."""
    from flowpressure.validate import run_checks

    with handle_errors():
        results = run_checks(checks, data)
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="validation on real outcomes", title_justify="left", show_lines=True)
    for col in ("check", "data", "figure", "reference"):
        table.add_column(col, justify="left", overflow="fold")
    table.add_column("verdict", justify="left", no_wrap=True)
    for r in results:
        table.add_row(
            Text(r.check),
            Text(r.data),
            Text(r.figure),
            Text(r.reference),
            Text(r.verdict, style=_VERDICT_STYLE[r.verdict]),
        )
    out = stdout()
    out.print(table)
    counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "partial", "fail")}
    out.print(
        f"{len(results)} checks: {counts['pass']} pass, {counts['partial']} partial, "
        f"{counts['fail']} fail",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the ``validate`` verb to ``app``."""
    app.command("validate")(validate)
