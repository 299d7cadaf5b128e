"""Command line: ``flowpressure ingest | info | sample`` (Typer + Rich).

Data goes to stdout (a Rich table, or JSON with ``--json``); progress and errors go to
stderr. A :class:`~flowpressure.FlowPressureError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

from flowpressure.cli._app import app, main

__all__ = ["app", "main"]
