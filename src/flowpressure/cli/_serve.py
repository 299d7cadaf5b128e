"""``flowpressure serve``: run the HTTP service and dashboard over a store (uvicorn)."""

from __future__ import annotations

from pathlib import Path

import typer

from flowpressure.cli._app import EXIT_BAD_INPUT, handle_errors, stderr

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: Modules the routes import on first use; loaded before serving so that no request pays.
WARM_MODULES = ("polars", "narwhals", "flowpressure.flows", "flowpressure.mechanics")


def _settle() -> None:
    """Import what the routes use and build the calendar, then freeze the heap.

    A full garbage collection walks every object; with the data stack imported that takes
    up to ~100 ms, a latency spike for every request in flight. Frozen objects are not walked.
    """
    import datetime as dt
    import gc
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)
    from flowpressure.data import sessions

    # builds the default exchange calendar for 1950-2049 (a first calendar request paid ~1 s)
    sessions(dt.date(1990, 1, 2), dt.date(2030, 12, 31))
    gc.collect()
    gc.freeze()


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to bind (127.0.0.1: this machine only)."
    ),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    db: Path | None = typer.Option(
        None, "--db", help="Store to serve (default: $FLOWPRESSURE_DB, else ./flowpressure.duckdb)."
    ),
    log_level: str = typer.Option(
        "warning", "--log-level", help="uvicorn log level: " + ", ".join(LOG_LEVELS) + "."
    ),
    max_body_bytes: int = typer.Option(
        1_000_000, "--max-body-bytes", help="Largest request body accepted (413 above it)."
    ),
    validation: Path | None = typer.Option(
        None,
        "--validation",
        help="Folder laid out like ../shared/data: /v1/validation and the dashboard's "
        "Validation view run the checks on it.",
    ),
) -> None:
    """Serve the JSON API and the dashboard; the store is read-only and ingests go through."""
    from flowpressure import ConfigError, StoreError
    from flowpressure.data import default_db_path

    with handle_errors():
        path = db if db is not None else default_db_path()
        if not path.is_file():
            raise StoreError(
                field="--db",
                expected="an existing store file (create one with: flowpressure ingest KIND FILE)",
                got=str(path),
            )
        if log_level not in LOG_LEVELS:
            raise ConfigError(field="--log-level", expected=" or ".join(LOG_LEVELS), got=log_level)
        if not 1 <= port <= 65535:
            raise ConfigError(field="--port", expected="a TCP port in [1, 65535]", got=port)
        if max_body_bytes < 0:
            raise ConfigError(field="--max-body-bytes", expected="bytes >= 0", got=max_body_bytes)
        try:
            import uvicorn

            from flowpressure.service import create_app
        except ImportError as exc:
            from rich.markup import escape

            needs = exc.name or "fastapi and uvicorn"
            stderr().print(
                "[bold red]error:[/] "
                + escape(f'the service needs {needs}: pip install "flowpressure[service]"'),
                highlight=False,
            )
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if validation is not None and not validation.is_dir():
            raise ConfigError(
                field="--validation", expected="an existing folder", got=str(validation)
            )
        app = create_app(path, max_body_bytes=max_body_bytes, validation=validation)
        _settle()
        shown = f"[{host}]" if ":" in host else host
        stderr().print(f"serving {path} at http://{shown}:{port}", highlight=False, markup=False)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve")(serve)
