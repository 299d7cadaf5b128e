"""Validation of panels on any frame narwhals accepts (pandas, polars, DuckDB, PySpark).

The checks run as a few aggregate queries on the caller's backend, so a DuckDB relation or a
Spark frame is checked where it lives; only counts, one offending row per problem and the
distinct dates of daily panels come back to Python.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

import narwhals as nw
from narwhals.typing import IntoFrameT

from flowpressure._errors import DataError, SchemaError
from flowpressure.data._calendar import DEFAULT_CALENDAR, exchange_timezone, non_sessions
from flowpressure.data._dates import DAY_FIRST, detect_format, impossible_date, to_date_column
from flowpressure.data._schema import RULE_TEXT, Column, PanelSchema, get_schema

__all__ = ["validate"]


_NUMBER = r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$|^\s*[-+]?(?:inf|Infinity|nan|NaN)\s*$"
_DELIMITERS = (";", "\t", "|", ",")


def validate(
    frame: IntoFrameT,
    kind: str,
    *,
    calendar: str = DEFAULT_CALENDAR,
    naive_tz: str = "UTC",
    check_sessions: bool = True,
) -> IntoFrameT:
    """Check a panel against its schema and return it with canonical types.

    Checks, in order: required columns; types (text in a number column, unreadable dates);
    missing values in keys and required columns; non-finite numbers and value rules (TNA > 0,
    weights in [0, 1], returns > -1, …); duplicate keys; for daily panels, dates that are not
    sessions of ``calendar``. Period panels (monthly fund data, quarterly holdings) keep their
    reported period-end dates. Input order never changes the verdict or the message: the
    offending row reported is the one with the smallest key.

    Parameters
    ----------
    frame
        A pandas or polars DataFrame, a polars LazyFrame, a DuckDB relation or a PySpark
        DataFrame (anything ``narwhals.from_native`` accepts).
    kind
        One of :data:`flowpressure.data.KINDS`.
    calendar
        ``exchange_calendars`` name whose sessions daily panels must fall on, and whose time
        zone maps timestamps to dates.
    naive_tz
        Time zone in which naive timestamps that carry a time of day are read.
    check_sessions
        Set to ``False`` to skip the session check for daily panels.

    Returns
    -------
    frame
        The same kind of frame (for a DuckDB relation, one reading a TEMP table of the same
        connection that holds the parsed panel, so it is parsed once): keys as text, dates as
        dates, numbers as float64, option ``type`` lower-case; columns the schema does not
        know pass through unchanged.

    Raises
    ------
    SchemaError
        A required column is missing or a column cannot be read as its type.
    DataError
        A value breaks a rule; the message names the field, the key of the first offending
        row, what was expected and how many other rows share the problem.
    ConfigError
        Unknown ``kind`` or ``calendar``.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"fund_id": ["A", "A"], "date": ["2024-01-31", "2024-02-29"],
    ...                    "tna": [100.0, -5.0], "ret": [0.01, 0.02]})
    >>> try:
    ...     validate(df, "fund")
    ... except DataError as err:
    ...     print(err)
    field 'tna' at fund_id=A, date=2024-02-29: expected a finite number > 0, got -5.0
    """
    from flowpressure.data._arrays import array_panel

    panel = array_panel(frame, kind, calendar=calendar, check_sessions=check_sessions)
    if panel is not None:  # an eager frame already typed: checked on its Arrow columns
        return cast("IntoFrameT", panel.frame)
    return validate_generic(
        frame, kind, calendar=calendar, naive_tz=naive_tz, check_sessions=check_sessions
    )


def validate_generic(
    frame: IntoFrameT,
    kind: str,
    *,
    calendar: str = DEFAULT_CALENDAR,
    naive_tz: str = "UTC",
    check_sessions: bool = True,
) -> IntoFrameT:
    """:func:`validate` as backend queries, for every backend (the path that names errors)."""
    schema = get_schema(kind)
    df = nw.from_native(cast("Any", frame))
    eager = isinstance(df, nw.DataFrame)
    lf: nw.LazyFrame[Any] = df.lazy() if isinstance(df, nw.DataFrame) else df
    present = lf.collect_schema()
    names = list(present.names())
    _check_columns(schema, names)
    cols = [c for c in schema.columns if c.name in present]
    keys = [k for k in (*schema.keys, *schema.optional_keys) if k in present]

    lf = _check_and_parse(lf, schema, cols, keys, dict(present.items()), calendar, naive_tz)
    if lf.implementation is nw.Implementation.DUCKDB:
        lf = _materialize_duckdb(lf)
    _check_values(lf, schema, cols, keys)
    _check_duplicates(lf, keys)
    if schema.frequency == "daily" and check_sessions:
        for name in schema.session_dates:
            if name in present:
                _check_sessions(lf, name, keys, calendar)

    out = lf.collect() if eager else lf
    return out.to_native()  # type: ignore[no-any-return]


def _materialize_duckdb(lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Parse once: keep the typed panel in a TEMP table of the relation's own connection.

    Without this every later check would parse text to numbers and dates again. DuckDB keeps
    temporary tables in its buffer pool and spills them to disk past its memory limit, so a
    panel larger than memory still fits.
    """
    rel = lf.to_native()
    name = f"_fp_validated_{uuid.uuid4().hex}"
    rel.query("_fp_src", f'CREATE TEMP TABLE "{name}" AS SELECT * FROM _fp_src')
    out: nw.LazyFrame[Any] = nw.from_native(rel.query("_fp_src", f'SELECT * FROM "{name}"'))
    return out


def _check_columns(schema: PanelSchema, names: list[str]) -> None:
    missing = [c for c in schema.required if c not in names]
    if missing:
        hint = ""
        if len(names) == 1:
            for sep in _DELIMITERS:
                if sep in names[0]:
                    hint = f"; the file was read as one column: is its delimiter {sep!r}?"
                    break
        raise SchemaError(
            f"{schema.kind} panel: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; expected {', '.join(schema.required)}; "
            f"frame has {', '.join(repr(n) for n in names)}{hint}",
            field=missing[0],
            expected=", ".join(schema.required),
        )
    for group in schema.one_of:
        if not any(g in names for g in group):
            raise SchemaError(
                f"{schema.kind} panel: needs one of the columns {' or '.join(group)}; "
                f"frame has {', '.join(repr(n) for n in names)}",
                field=group[0],
                expected=" or ".join(group),
            )


def _first_row(
    lf: nw.LazyFrame[Any], condition: nw.Expr, keys: list[str], field: str
) -> tuple[dict[str, Any], Any, int]:
    """Return (key, value, count) of the rows matching ``condition``, smallest key first."""
    bad = lf.filter(condition)
    count = int(bad.select(nw.len()).collect().item())
    wanted = list(dict.fromkeys([*keys, field]))
    row = bad.select(wanted).sort(keys, nulls_last=True).head(1).collect().rows(named=True)[0]
    key = {k: row[k] for k in keys}
    return key, row[field], count


def _raise(
    lf: nw.LazyFrame[Any],
    condition: nw.Expr,
    keys: list[str],
    field: str,
    expected: str,
    error: type[DataError] | type[SchemaError] = DataError,
) -> None:
    key, got, count = _first_row(lf, condition, keys, field)
    raise error(field=field, key=key, expected=expected, got=got, others=count - 1)


def _padded(c: nw.Expr) -> nw.Expr:
    return (
        c.str.starts_with(" ")
        | c.str.ends_with(" ")
        | c.str.starts_with("\t")
        | c.str.ends_with("\t")
    )


def _check_and_parse(
    lf: nw.LazyFrame[Any],
    schema: PanelSchema,
    cols: list[Column],
    keys: list[str],
    dtypes: dict[str, Any],
    calendar: str,
    naive_tz: str,
) -> nw.LazyFrame[Any]:
    """Check readability and missing values in one query, then cast to canonical types."""
    checks: dict[str, tuple[nw.Expr, str, str]] = {}
    pads: dict[str, nw.Expr] = {}
    date_formats: dict[str, Any] = {}
    for col in cols:
        dtype = dtypes[col.name]
        c = nw.col(col.name)
        if not col.nullable or col.name in keys:
            checks[f"null:{col.name}"] = (c.is_null(), col.name, "a value (got a missing value)")
        if col.dtype == "float":
            if dtype == nw.String:
                pads[col.name] = _padded(c)
                checks[f"text:{col.name}"] = (
                    ~c.str.contains(_NUMBER) & ~c.is_null(),
                    col.name,
                    "a number",
                )
            elif not dtype.is_numeric():
                raise SchemaError(
                    f"field {col.name!r}: expected numbers, the column has type {dtype}",
                    field=col.name,
                    expected="numbers",
                )
        elif col.dtype == "date":
            if dtype == nw.String:
                sample = (
                    lf.filter(~c.is_null()).select(c.str.strip_chars()).head(1).collect().rows()
                )
                if sample:
                    fmt = detect_format(str(sample[0][0]))
                    if fmt is None:
                        _raise(
                            lf,
                            ~c.is_null(),
                            keys,
                            col.name,
                            "a date like 2024-03-28, 20240328 or 03/28/2024",
                            SchemaError,
                        )
                    assert fmt is not None
                    date_formats[col.name] = fmt
                    pads[col.name] = _padded(c)
                    tolerant = r"^\s*" + fmt.pattern[1:-1] + r"\s*$"
                    checks[f"date:{col.name}"] = (
                        ~c.str.contains(tolerant) & ~c.is_null(),
                        col.name,
                        f"a date written like {fmt.example} as in the rest of the column",
                    )
            elif dtype.is_integer():
                date_formats[col.name] = detect_format("20240328")
            elif not (dtype == nw.Date or dtype == nw.Datetime or dtype == nw.Object):
                raise SchemaError(
                    f"field {col.name!r}: expected dates, the column has type {dtype}",
                    field=col.name,
                    expected="dates",
                )
    for group in schema.one_of:
        have = [g for g in group if g in dtypes]
        if len(have) == 1:
            checks[f"null:{have[0]}"] = (
                nw.col(have[0]).is_null(),
                have[0],
                "a value (got a missing value)",
            )
        else:
            none = nw.all_horizontal(*[nw.col(g).is_null() for g in have], ignore_nulls=False)
            checks[f"null:{'|'.join(have)}"] = (none, have[0], f"a value in {' or '.join(have)}")
    counts = (
        lf.select(
            nw.len().alias("rows"),
            *[
                expr.fill_null(False).cast(nw.Int64).sum().alias(name)
                for name, (expr, _, _) in checks.items()
            ],
            *[e.fill_null(False).cast(nw.Int64).sum().alias(f"pad:{n}") for n, e in pads.items()],
        )
        .collect()
        .rows(named=True)[0]
    )
    if counts["rows"] == 0:
        raise DataError(f"{schema.kind} panel has no rows", expected="at least one row")
    for name, (expr, field, expected) in checks.items():
        if counts[name]:
            _raise(lf, expr, keys, field, expected)

    exchange_tz = exchange_timezone(calendar)

    def text(name: str) -> nw.Expr:
        # Trimming costs more than parsing on DuckDB: trim only columns that need it.
        col = nw.col(name)
        return col.str.strip_chars() if counts.get(f"pad:{name}") else col

    # NN/NN/YYYY is month first (03/28/2024) or day first (28/03/2024): the data decide; when
    # every value fits both orders the column is ambiguous and refused, never guessed.
    slashed = [n for n, f in date_formats.items() if f.strftime == "%m/%d/%Y"]
    slashed = [n for n in slashed if dtypes[n] == nw.String]
    if slashed:
        parts = [
            text(n).str.slice(k, 2).cast(nw.Int64).max().alias(f"{n}:{k}")
            for n in slashed
            for k in (0, 3)
        ]
        highest = lf.select(*parts).collect().rows(named=True)[0]
        for name in slashed:
            first, second = highest[f"{name}:0"], highest[f"{name}:3"]
            if first is None or second is None:
                continue
            if first > 12 and second <= 12:
                date_formats[name] = DAY_FIRST
            elif first <= 12 and second <= 12:
                _raise(
                    lf,
                    ~nw.col(name).is_null(),
                    keys,
                    name,
                    "dates whose order can be told: every value fits both MM/DD/YYYY and "
                    "DD/MM/YYYY (no part above 12); write them as YYYY-MM-DD",
                    SchemaError,
                )

    # Every text date is now written in its column's format; 2024-02-30 and 2024-13-45 are,
    # too, and would fail inside the parse with the backend's own error, so look first.
    impossible = {}
    for name, fmt in date_formats.items():
        written = text(name) if dtypes[name] == nw.String else nw.col(name).cast(nw.String)
        impossible[name] = impossible_date(written, fmt) & ~nw.col(name).is_null()
    if impossible:
        found = (
            lf.select(
                *[e.fill_null(False).cast(nw.Int64).sum().alias(n) for n, e in impossible.items()]
            )
            .collect()
            .rows(named=True)[0]
        )
        for name, expr in impossible.items():
            if found[name]:
                _raise(
                    lf,
                    expr,
                    keys,
                    name,
                    f"a real date like {date_formats[name].example} "
                    "(month 01-12, a day the month has)",
                )

    casts = []
    for col in cols:
        dtype = dtypes[col.name]
        c = nw.col(col.name)
        if col.dtype == "str" and dtype != nw.String:
            casts.append(c.cast(nw.String))
        elif col.dtype == "str" and col.rule == "option_type":
            casts.append(c.str.strip_chars().str.to_lowercase())
        elif col.dtype == "float" and dtype == nw.String:
            casts.append(text(col.name).cast(nw.Float64))
        elif col.dtype == "float" and dtype != nw.Float64:
            casts.append(c.cast(nw.Float64))
    if casts:
        lf = lf.with_columns(*casts)
    for col in cols:
        if col.dtype != "date":
            continue
        dtype = dtypes[col.name]
        fmt = date_formats.get(col.name)
        c = nw.col(col.name)
        if fmt is not None and dtype.is_integer():
            lf = lf.with_columns(c.cast(nw.String).str.to_datetime(fmt.strftime).cast(nw.Date))
        elif fmt is not None and not fmt.has_time:
            lf = lf.with_columns(text(col.name).str.to_datetime(fmt.strftime).cast(nw.Date))
        elif fmt is not None:
            # Spark reads an ISO offset by itself but not through narwhals' %z translation.
            spark_tz = fmt.has_tz and lf.implementation.is_spark_like()
            parsed = text(col.name).str.to_datetime(None if spark_tz else fmt.strftime)
            lf = lf.with_columns(parsed.alias(col.name))
            lf = to_date_column(lf, col.name, exchange_tz, naive_tz)
        elif dtype == nw.Datetime:
            lf = to_date_column(lf, col.name, exchange_tz, naive_tz)
        elif dtype == nw.Object:  # pandas holding datetime.date objects
            lf = lf.with_columns(c.cast(nw.Date))
    return lf


def _check_values(
    lf: nw.LazyFrame[Any], schema: PanelSchema, cols: list[Column], keys: list[str]
) -> None:
    checks: dict[str, tuple[nw.Expr, str, str]] = {}
    for col in cols:
        c = nw.col(col.name)
        if col.dtype == "float":
            finite = c.is_finite().fill_null(True)
            checks[f"finite:{col.name}"] = (~finite, col.name, "a finite number (not NaN or inf)")
            if col.rule == "positive":
                bad = c <= 0
            elif col.rule == "nonnegative":
                bad = c < 0
            elif col.rule == "fraction":
                bad = (c < 0) | (c > 1)
            elif col.rule == "return":
                bad = c <= -1
            else:
                continue
            checks[f"rule:{col.name}"] = (bad & finite, col.name, RULE_TEXT[col.rule])
        elif col.rule == "option_type":
            checks[f"rule:{col.name}"] = (~c.is_in(["call", "put"]), col.name, RULE_TEXT[col.rule])
    names = {c.name for c in cols}
    if {"announce_date", "effective_date"} <= names:
        checks["order:announce"] = (
            nw.col("announce_date") > nw.col("effective_date"),
            "announce_date",
            "an announcement on or before effective_date",
        )
    if schema.kind == "options":
        checks["order:expiry"] = (
            nw.col("expiry") < nw.col("date"),
            "expiry",
            "an expiry on or after the snapshot date",
        )
    if not checks:
        return
    counts = (
        lf.select(
            *[e.fill_null(False).cast(nw.Int64).sum().alias(n) for n, (e, _, _) in checks.items()]
        )
        .collect()
        .rows(named=True)[0]
    )
    for name, (expr, field, expected) in checks.items():
        if counts[name]:
            _raise(lf, expr.fill_null(False), keys, field, expected)
    _check_percent_returns(lf, [c.name for c in cols if c.rule == "return"], keys)


#: A return column where more than this share of (at least PERCENT_MIN_ROWS) values is above 1
#: (+100 % in one period) is written in percent, not as fractions: refused, never rescaled.
PERCENT_SHARE = 0.2
PERCENT_MIN_ROWS = 5


def _check_percent_returns(lf: nw.LazyFrame[Any], columns: list[str], keys: list[str]) -> None:
    if not columns:
        return
    found = (
        lf.select(
            *[(~nw.col(n).is_null()).cast(nw.Int64).sum().alias(f"{n}:n") for n in columns],
            *[
                (nw.col(n) > 1).fill_null(False).cast(nw.Int64).sum().alias(f"{n}:big")
                for n in columns
            ],
        )
        .collect()
        .rows(named=True)[0]
    )
    for name in columns:
        n, big = int(found[f"{name}:n"] or 0), int(found[f"{name}:big"] or 0)
        if n >= PERCENT_MIN_ROWS and big > PERCENT_SHARE * n:
            _raise(
                lf,
                (nw.col(name) > 1).fill_null(False),
                keys,
                name,
                f"returns as fractions (0.05 = 5 %): {big} of {n} values are above 1 (+100 % "
                "in one period), as returns written in percent are; rescale them "
                f"(ingest --scale {name}=0.01)",
            )


def _check_duplicates(lf: nw.LazyFrame[Any], keys: list[str]) -> None:
    dups = lf.group_by(keys).agg(nw.len().alias("_n")).filter(nw.col("_n") > 1)
    summary = dups.select(nw.len().alias("keys"), nw.col("_n").sum().alias("rows")).collect()
    n_keys = int(summary.item(0, "keys"))
    if n_keys == 0:
        return
    first = dups.sort(keys).head(1).collect().rows(named=True)[0]
    raise DataError(
        field=", ".join(keys),
        key={k: first[k] for k in keys},
        expected="one row per key",
        got=f"{first['_n']} rows",
        others=n_keys - 1,
    )


def _check_sessions(lf: nw.LazyFrame[Any], column: str, keys: list[str], calendar: str) -> None:
    dates = lf.select(nw.col(column)).unique().collect()[column].to_list()
    values: list[dt.date] = [d for d in dates if d is not None]
    bad = non_sessions(values, calendar)
    if bad:
        _raise(
            lf,
            nw.col(column).is_in(bad),
            keys,
            column,
            f"a trading session of {calendar} (daily panel)",
        )
