"""Loaders: CSV and Parquet files into DuckDB, with a column mapping, without reading into Python.

The file is scanned by DuckDB (CSV as text, so a stray word in a number column becomes a clear
validation error instead of a failed type guess); the result is a relation that validation
and the store work on where it lives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from flowpressure._errors import ConfigError, DataError, FlowPressureError
from flowpressure.data._schema import get_schema

__all__ = ["Scan", "load_file", "quote_ident", "scan_file", "scan_source"]

Backend = Literal["polars", "pandas", "pyarrow", "duckdb"]


def quote_ident(name: str) -> str:
    """Quote a SQL identifier for DuckDB.

    Examples
    --------
    >>> quote_ident('my "odd" col')
    '"my ""odd"" col"'
    """
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def file_format(path: Path) -> Literal["csv", "parquet"]:
    """Return ``"parquet"`` or ``"csv"`` from the suffix (``.csv``, ``.tsv``, ``.txt``, ``.gz``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if {".csv", ".tsv", ".txt"} & set(suffixes):
        return "csv"
    raise ConfigError(
        field="file",
        expected="a .csv, .tsv, .txt (optionally .gz) or .parquet file",
        got=path.name,
    )


@dataclass(frozen=True)
class Scan:
    """A scanned file: its relation and how it was read.

    Attributes
    ----------
    relation
        The rows in the panel's column names.
    format
        The source format used (``None``: the file already had the panel's columns).
    inferred
        Whether the format was recognised from the file's columns rather than named.
    notes
        What the format inferred or corrected (see :class:`flowpressure.data.formats.FormatRead`).
    path
        The file scanned.
    """

    relation: duckdb.DuckDBPyRelation
    format: str | None = None
    inferred: bool = False
    notes: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def place(self, err: FlowPressureError) -> None:
        """Name the file, and the line (CSV) or row (Parquet) of the offending value, in ``err``.

        The row is found by scanning the file again for the error's key and value (only when
        there is an error), so reading a good file costs nothing more. A row that cannot be
        told apart is left out rather than guessed: the file is still named.
        """
        if self.path is None or err.source is not None:
            return
        row = None
        try:
            row = self._find_row(err)
        except (duckdb.Error, TypeError, ValueError):
            row = None
        csv = file_format(self.path) == "csv"
        if row is not None and csv:
            row += 1  # the header is line 1
        err.in_source(self.path.name, row, unit="line" if csv else "row")

    def _find_row(self, err: FlowPressureError) -> int | None:
        columns = set(self.relation.columns)
        conds: list[str] = []

        def text(name: str) -> str:
            return f"trim(CAST({quote_ident(name)} AS VARCHAR))"

        def match(name: str, value: Any) -> str | None:
            if name not in columns:
                return None
            if value is None:
                return f"({quote_ident(name)} IS NULL OR {text(name)} = '')"
            if isinstance(value, str):
                return f"{text(name)} = {_literal(value.strip())}"
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                forms = [value.isoformat(), value.strftime("%Y%m%d"), value.strftime("%m/%d/%Y")]
                return f"left({text(name)}, 10) IN ({', '.join(_literal(f) for f in forms)})"
            if isinstance(value, int | float) and not isinstance(value, bool):
                if value != value or value in (float("inf"), float("-inf")):
                    return None
                return f"TRY_CAST({quote_ident(name)} AS DOUBLE) = {float(value)!r}"
            return None

        for name, value in (err.key or {}).items():
            cond = match(name, value)
            if cond is not None:
                conds.append(cond)
        if err.field is not None and err.field in columns:
            cond = match(err.field, err.got)
            if cond is not None:
                conds.append(cond)
        if not conds:
            return None
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute("SET preserve_insertion_order = true")
            found = con.execute(
                "SELECT _fp_row FROM (SELECT row_number() OVER () AS _fp_row, * "
                f"FROM ({self.relation.sql_query()})) WHERE {' AND '.join(conds)} "
                "ORDER BY _fp_row LIMIT 1"
            ).fetchall()
        finally:
            con.close()
        return int(found[0][0]) if found else None

    def describe(self) -> dict[str, Any]:
        """JSON-safe summary: ``{"format", "format_inferred", **notes}`` (empty when generic)."""
        if self.format is None:
            return {}
        return {"format": self.format, "format_inferred": self.inferred, **self.notes}


def scan_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    kind: str,
    *,
    mapping: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    fmt: str | None = None,
) -> duckdb.DuckDBPyRelation:
    r"""Scan a file as a DuckDB relation named in the panel's columns (see :func:`scan_source`).

    Examples
    --------
    >>> import duckdb, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = pathlib.Path(tmp) / "spy.csv"
    ...     _ = f.write_text("Date,Close\n2024-03-28,523.07\n")
    ...     rel = scan_file(duckdb.connect(), f, "prices", constants={"asset_id": "SPY"})
    ...     rel.fetchall()
    [('2024-03-28', '523.07', 'SPY')]
    """
    return scan_source(
        con, path, kind, mapping=mapping, constants=constants, delimiter=delimiter, fmt=fmt
    ).relation


def scan_source(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    kind: str,
    *,
    mapping: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    fmt: str | None = None,
) -> Scan:
    r"""Scan a CSV or Parquet file as a DuckDB relation named in the panel's columns.

    A file in a public source format (:mod:`flowpressure.data.formats`) is read by that
    format: named with ``fmt``, or recognised when the file lacks the kind's required columns
    and carries exactly one format's signature columns.

    Parameters
    ----------
    con
        The DuckDB connection that scans the file.
    path
        A ``.csv``/``.tsv``/``.txt`` (optionally gzipped) or ``.parquet`` file.
    kind
        The panel kind whose column names the result should use (``13f`` for holdings read
        from an SEC 13F source format).
    mapping
        ``{file column: panel column}`` renames, e.g. ``{"Date": "date", "Close": "close"}``.
        A file column that differs from a panel column only in case is renamed by itself.
    constants
        ``{panel column: value}`` for columns the file lacks, e.g. ``{"asset_id": "SPY"}`` for a
        single-ticker price file.
    delimiter
        CSV delimiter; DuckDB detects it when omitted.
    fmt
        A source format's name (``--format``); ``None`` infers one only when needed.

    Returns
    -------
    Scan
        The file's rows (CSV columns as text, validation parses them; Parquet columns typed)
        and the format that read them.

    Raises
    ------
    ConfigError
        The file does not exist, has an unknown suffix, or a mapping names a column it lacks.
    DataError
        The file is empty or cannot be parsed as CSV/Parquet.

    Examples
    --------
    >>> import duckdb, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = pathlib.Path(tmp) / "spy.csv"
    ...     _ = f.write_text("Date,Close\n2024-03-28,523.07\n")
    ...     scan = scan_source(duckdb.connect(), f, "prices", constants={"asset_id": "SPY"})
    ...     scan.format, scan.relation.fetchall()
    (None, [('2024-03-28', '523.07', 'SPY')])
    """
    from flowpressure.data.formats import detect_format, get_format

    schema = get_schema("holdings" if kind == "13f" else kind)
    file = Path(path)
    if not file.is_file():
        raise ConfigError(field="file", expected="an existing file", got=str(file))
    if file.stat().st_size == 0:
        raise DataError(f"file {file.name!r} is empty", field="file", expected="a header and rows")
    ftype = file_format(file)
    src = _literal(str(file))
    if ftype == "parquet":
        source = f"read_parquet({src})"
    else:
        opts = ["header = true", "all_varchar = true"]
        if delimiter is not None:
            opts.append(f"delim = {_literal(delimiter)}")
        source = f"read_csv({src}, {', '.join(opts)})"
    try:
        rel = con.sql(f"SELECT * FROM {source}")
        columns = list(rel.columns)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(
            f"cannot read {file.name!r} as {ftype.upper()}: {first}", field="file", expected=ftype
        ) from None
    chosen = get_format(kind, fmt) if fmt is not None else None
    inferred = False
    # The user's mapping and constants come first: a file they already map onto the panel's
    # columns is read as it is, not taken over by a format that happens to fit its header.
    given = {(mapping or {}).get(c, c).lower() for c in columns} | set(constants or {})
    if chosen is None and not set(schema.required) <= given:
        chosen = detect_format(kind, columns)
        inferred = chosen is not None
    notes: Mapping[str, Any] = {}
    if chosen is not None:
        try:
            read = chosen.read(con, file)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise DataError(
                f"cannot read {file.name!r} as the {chosen.name} format: {first}",
                field="file",
                expected=chosen.description,
            ) from None
        notes = dict(read.notes)
        source = f"({read.relation.sql_query()})"
        columns = list(read.relation.columns)

    renames = dict(mapping or {})
    unknown = [c for c in renames if c not in columns]
    if unknown:
        raise ConfigError(
            f"mapping names column {unknown[0]!r}, which {file.name!r} does not have; "
            f"it has {', '.join(repr(c) for c in columns)}",
            field="mapping",
            expected="a column of the file",
            got=unknown[0],
        )
    targets = set(renames.values())
    lower = {c.lower(): c for c in columns if c not in renames}
    for name in schema.names:
        if name not in targets and name not in columns and name in lower:
            renames[lower[name]] = name
    consts = dict(constants or {})
    clash = [c for c in consts if (c in columns and c not in renames) or c in renames.values()]
    if clash:
        raise ConfigError(field=clash[0], expected="a column the file does not already have")
    parts = [
        f"{quote_ident(c)} AS {quote_ident(renames[c])}" if c in renames else quote_ident(c)
        for c in columns
    ]
    parts += [f"{_literal(v)} AS {quote_ident(k)}" for k, v in consts.items()]
    relation = con.sql(f"SELECT {', '.join(parts)} FROM {source}")
    return Scan(relation, chosen.name if chosen else None, inferred, notes, file)


def parse_pairs(pairs: list[str] | None, option: str) -> dict[str, str]:
    """Parse ``["a=b", "c=d"]`` into ``{"a": "b", "c": "d"}``.

    Examples
    --------
    >>> parse_pairs(["Date=date", "Close=close"], "--map")
    {'Date': 'date', 'Close': 'close'}
    """
    out: dict[str, str] = {}
    for pair in pairs or []:
        left, sep, right = pair.partition("=")
        if not sep or not left or not right:
            raise ConfigError(field=option, expected="NAME=VALUE", got=pair)
        out[left.strip()] = right.strip()
    return out


def load_file(
    path: str | Path,
    kind: str,
    *,
    mapping: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    backend: Backend = "polars",
    calendar: str = "XNYS",
    fmt: str | None = None,
) -> Any:
    r"""Read, map and validate a CSV or Parquet panel into a frame of the chosen backend.

    The file is scanned and validated in DuckDB; only the validated rows come to Python.

    Parameters
    ----------
    path, kind, mapping, constants, delimiter, fmt
        As for :func:`scan_source`.
    backend
        ``"polars"`` (default), ``"pandas"``, ``"pyarrow"`` or ``"duckdb"`` (a relation on a
        new in-memory connection).
    calendar
        Exchange calendar for the session check of daily panels.

    Returns
    -------
    frame
        The validated panel: keys as text, dates as dates, numbers as float64.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = pathlib.Path(tmp) / "funds.csv"
    ...     _ = f.write_text("fund,month,tna,ret\nA,2024-01-31,100,0.01\n")
    ...     df = load_file(f, "fund", mapping={"fund": "fund_id", "month": "date"})
    >>> df.select("fund_id", "date", "tna").rows()
    [('A', datetime.date(2024, 1, 31), 100.0)]
    """
    from flowpressure.data._validate import validate

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    scan = scan_source(
        con, path, kind, mapping=mapping, constants=constants, delimiter=delimiter, fmt=fmt
    )
    try:
        rel = validate(scan.relation, "holdings" if kind == "13f" else kind, calendar=calendar)
    except FlowPressureError as err:
        scan.place(err)
        raise
    if backend == "duckdb":
        return rel
    table = rel.to_arrow_table()
    if backend == "pyarrow":
        return table
    if backend == "pandas":
        return table.to_pandas()
    if backend == "polars":
        import polars as pl

        return pl.from_arrow(table)
    raise ConfigError(field="backend", expected="polars, pandas, pyarrow or duckdb", got=backend)
