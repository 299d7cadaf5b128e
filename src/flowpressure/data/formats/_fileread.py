"""Helpers the SEC and FRED formats share: the file as SQL, and numbers checked before use.

A format computes columns (a net flow, a sign flip, a per-ETF sum) from the file's numbers, so
a stray word in a number column must stop the read with the file's line named, not turn into a
silent null. Not a format itself (no ``FORMATS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from flowpressure._errors import DataError
from flowpressure.data._loaders import file_format, quote_ident

__all__ = ["file_sql", "literal", "require_columns", "require_numbers"]


def literal(text: str) -> str:
    """Quote ``text`` as a SQL string literal.

    Examples
    --------
    >>> literal("O'Neil")
    "'O''Neil'"
    """
    return "'" + text.replace("'", "''") + "'"


def file_sql(path: Path) -> str:
    """``read_parquet(...)`` or ``read_csv(..., all_varchar)`` for ``path``.

    Examples
    --------
    >>> file_sql(Path("a.csv"))
    "read_csv('a.csv', header = true, all_varchar = true)"
    """
    src = literal(str(path))
    if file_format(path) == "parquet":
        return f"read_parquet({src})"
    return f"read_csv({src}, header = true, all_varchar = true)"


def require_columns(
    con: duckdb.DuckDBPyConnection, path: Path, columns: Sequence[str], what: str
) -> None:
    r"""Raise a :class:`~flowpressure.SchemaError` naming the first of ``columns`` the file lacks.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = Path(tmp) / "x.csv"
    ...     _ = f.write_text("month,sales\n2024-01,5\n")
    ...     try:
    ...         require_columns(duckdb.connect(), f, ["series_id", "month"], "nport")
    ...     except ValueError as err:
    ...         print(str(err).split(";")[0])
    x.csv: the nport format needs column 'series_id'
    """
    from flowpressure._errors import SchemaError

    have = list(con.sql(f"SELECT * FROM {file_sql(path)} LIMIT 0").columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise SchemaError(
            f"{path.name}: the {what} format needs column {missing[0]!r}; the file has "
            f"{', '.join(repr(c) for c in have)}",
            field=missing[0],
            expected=f"the {what} columns {', '.join(columns)}",
        )


def require_numbers(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    columns: Sequence[str],
    key: Sequence[str],
) -> None:
    r"""Refuse a value of ``columns`` that is present but not a number, naming line and key.

    Empty cells pass (they are missing values, for validation to judge).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = Path(tmp) / "x.csv"
    ...     _ = f.write_text("fund,sales\nA,5\nB,n/a\n")
    ...     try:
    ...         require_numbers(duckdb.connect(), f, ["sales"], ["fund"])
    ...     except ValueError as err:
    ...         print(err)
    x.csv line 3: field 'sales' at fund=B: expected a number, got 'n/a'
    """
    numbered = f"SELECT row_number() OVER () AS _fp_line, * FROM {file_sql(path)}"
    for name in columns:
        col = quote_ident(name)
        text = f"trim(CAST({col} AS VARCHAR))"
        rows = con.sql(
            f"SELECT _fp_line, {text}, {', '.join(quote_ident(k) for k in key)} "
            f"FROM ({numbered}) WHERE {col} IS NOT NULL AND {text} <> '' "
            f"AND TRY_CAST({col} AS DOUBLE) IS NULL ORDER BY _fp_line"
        ).fetchall()
        if rows:
            line, got, *ids = rows[0]
            err = DataError(
                field=name,
                key=dict(zip(key, ids, strict=True)),
                expected="a number",
                got=got,
                others=len(rows) - 1,
            )
            csv = file_format(path) == "csv"
            err.in_source(path.name, int(line) + (1 if csv else 0), unit="line" if csv else "row")
            raise err
