"""The Typer application, error handling and shared console helpers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from flowpressure import FlowPressureError, __version__

app = typer.Typer(
    name="flowpressure",
    help="Measure, simulate and explain rules-based capital flows and their price pressure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Exit code for bad input (a FlowPressureError), as for usage errors.
EXIT_BAD_INPUT = 2


def stdout() -> Console:
    """Console for results (120 columns when not a terminal, so tables stay readable in logs)."""
    console = Console(soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(soft_wrap=True, width=120)
    return console


def stderr() -> Console:
    """Console for progress, diagnostics and errors."""
    return Console(stderr=True, soft_wrap=True)


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (dates as ISO strings)."""
    sys.stdout.write(json.dumps(payload, default=_json_default, indent=2) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn a FlowPressureError into one line on stderr and exit code 2 (never a traceback).

    Any other exception is a bug: one line too, exit code 1, the traceback only when
    ``FLOWPRESSURE_DEBUG=1``.
    """
    try:
        yield
    except FlowPressureError as exc:
        stderr().print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if os.environ.get("FLOWPRESSURE_DEBUG") == "1":
            raise
        stderr().print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
            "(set FLOWPRESSURE_DEBUG=1 for the traceback)",
            highlight=False,
        )
        raise typer.Exit(1) from None


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"flowpressure {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Measure, simulate and explain rules-based capital flows and their price pressure."""


def _register() -> None:
    from flowpressure.cli import (
        _flows,
        _flows_reported,
        _ingest,
        _mechanics,
        _pressure,
        _rebalance,
        _report,
        _sample,
        _serve,
        _validate,
    )

    for module in (
        _ingest,
        _sample,
        _flows,
        _flows_reported,
        _rebalance,
        _mechanics,
        _pressure,
        _report,
        _validate,
        _serve,
    ):
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the command line (the ``flowpressure`` console script)."""
    app(args=argv, prog_name="flowpressure")
