"""Shared helpers of the mechanics verbs: reading inputs, writing outputs, formatting numbers.

An input argument is one of:

- a ``.csv``/``.parquet`` path (validated as its panel kind);
- ``sample``: the embedded sample's table of that kind (``flowpressure sample`` writes it);
- with ``--db PATH``, a name without a suffix: the stored panel of that kind (e.g. ``prices``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Table

SOURCE_HELP = "CSV/Parquet file, 'sample' (embedded sample) or, with --db, a stored kind."
DB_HELP = "Read inputs named without a suffix from this DuckDB store."
AS_OF_HELP = "Use data up to this date (default: the data's last date)."


def read_input(source: str | None, kind: str, db: Path | None, option: str) -> Any:
    """Read ``source`` as a panel of ``kind``; see the module docstring.

    For ``options`` a file is scanned but not validated here: the chain may lack
    ``asset_id``/``date``, which the library fills in before it validates. A spinner shows on
    stderr when it is a terminal.
    """
    from contextlib import nullcontext

    from flowpressure.cli._app import stderr

    err = stderr()
    shown = source if source is not None else f"stored {kind}"
    with (
        err.status(f"reading {shown} ({kind})", spinner="dots")
        if err.is_terminal
        else nullcontext()
    ):
        return _read(source, kind, db, option)


def _read(source: str | None, kind: str, db: Path | None, option: str) -> Any:
    from flowpressure import ConfigError
    from flowpressure.data import Store, load_file, sample

    if source is None:
        if db is None:
            raise ConfigError(
                field=option, expected=f"a {kind} file, 'sample', or --db with a stored {kind}"
            )
        source = kind
    if source == "sample":
        return sample.load(kind)
    if db is not None and not Path(source).suffix:
        with Store(db, read_only=True) as store:
            table = store.table(source).to_arrow_table()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame
    if kind == "options":
        import duckdb

        from flowpressure.data import scan_file

        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        return scan_file(con, source, kind)
    return load_file(source, kind)


def write_frame(frame: pl.DataFrame, out: Path) -> None:
    """Write ``frame`` to ``.csv`` or ``.parquet`` by suffix."""
    from flowpressure import ConfigError

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ConfigError(field="-o", expected="a .csv or .parquet path", got=out.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.write_csv(out)
    else:
        frame.write_parquet(out)


def parse_date(text: str | None, option: str) -> dt.date | None:
    """Read an ISO date option."""
    from flowpressure import ConfigError

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(field=option, expected="a date as YYYY-MM-DD", got=text) from None


def parse_numbers(text: str | None, option: str, kind: type = float) -> list[Any] | None:
    """Read a comma-separated list of numbers (``20,60,120``)."""
    from flowpressure import ConfigError

    if text is None:
        return None
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(field=option, expected="numbers separated by commas", got=text) from None


def money(value: Any) -> str:
    """Format currency compactly: ``$15.0bn``, ``-$2.5m``; blank for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    v = float(value)
    sign = "-" if v < 0 else ""
    a = abs(v)
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if a >= size:
            return f"{sign}${a / size:,.2f}{unit}"
    return f"{sign}${a:,.0f}"


def num(value: Any, fmt: str = ",.2f") -> str:
    """Format a number, blank for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format(float(value), fmt)


def pct(value: Any, digits: int = 2) -> str:
    """Format a fraction as a percentage, blank for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value) * 100:.{digits}f}%"


def clean(value: Any) -> Any:
    """NaN to None, recursively, for JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts."""
    return [clean(r) for r in frame.to_dicts()]


def new_table(title: str, columns: list[tuple[str, str]]) -> Table:
    """Return a left-titled Rich table with (name, justify) columns."""
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    return table
