"""Validation of eager frames on Arrow arrays, and the panel in key order that comes with it.

:func:`flowpressure.data.validate` runs its checks as backend queries, which is what a lazy
or remote frame needs. An eager pandas or polars frame whose columns already have their
canonical types (text keys, dates, numbers) can be checked faster on its columns as Arrow and
NumPy arrays: null counts are metadata, finiteness and value rules are one vectorised pass per
column, and duplicate keys are adjacent equal keys once the rows are in key order, an order
the flow passes need anyway. :func:`array_panel` does exactly that.

The verdict is the same as :func:`~flowpressure.data.validate`'s, and so is every message: when
any check fails, the generic validation runs on the frame and raises its own error, which
names the field, the smallest offending key and what was expected. Frames this module cannot
take as they are (text to parse, timestamps, other backends) return ``None``; the caller then
runs the generic validation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from numpy.typing import NDArray

from flowpressure.data._calendar import DEFAULT_CALENDAR, non_sessions
from flowpressure.data._schema import PanelSchema, get_schema
from flowpressure.data._validate import PERCENT_MIN_ROWS, PERCENT_SHARE, validate_generic

__all__ = ["ArrayPanel", "array_panel", "bool_numpy"]


@dataclass(frozen=True)
class ArrayPanel:
    """A panel's schema columns as Arrow arrays in key order.

    Attributes
    ----------
    frame
        The frame with canonical types, as :func:`~flowpressure.data.validate` returns it (the
        input itself when nothing needed a cast or ``check`` is off), in the caller's row order.
    table
        The schema columns present (keys as ``large_string``, dates as ``date32``, numbers as
        ``float64``) in key order.
    order
        ``table`` row ``i`` is ``frame`` row ``order[i]``; ``None`` when the frame already was
        in key order (then ``table`` is in the frame's order).
    same
        ``same[i]``: rows ``i`` and ``i + 1`` of ``table`` share the first key (the entity).
    unique
        No two rows share the whole key.
    """

    frame: Any
    table: pa.Table
    order: NDArray[np.int64] | None
    same: NDArray[np.bool_]
    unique: bool

    @cached_property
    def days(self) -> NDArray[np.int64]:
        """The ``date`` column of ``table`` as days since 1970."""
        days: NDArray[np.int64] = self.table.column("date").cast(pa.int32()).to_numpy()
        return days.astype(np.int64)


def bool_numpy(array: Any) -> NDArray[np.bool_]:
    """Return an Arrow boolean array as NumPy booleans, nulls as ``False``.

    PyArrow's own conversion of booleans goes value by value (0.46 s for 10M values here);
    unpacking the bit buffer is about a hundred times faster.

    Examples
    --------
    >>> import pyarrow as pa
    >>> bool_numpy(pa.array([True, None, False, True])).tolist()
    [True, False, False, True]
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        array = pc.fill_null(array, False)
    if len(array) == 0:
        return np.zeros(0, dtype=np.bool_)
    bits = np.unpackbits(np.frombuffer(array.buffers()[1], np.uint8), bitorder="little")
    return bits[array.offset : array.offset + len(array)].view(np.bool_)


def _polars_columns(frame: Any, schema: PanelSchema) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arrow arrays of the schema columns of a polars frame, and the casts validation makes."""
    import polars as pl

    arrays: dict[str, Any] = {}
    casts: dict[str, Any] = {}
    for col in schema.columns:
        if col.name not in frame.columns:
            continue
        series = frame.get_column(col.name)
        dtype = series.dtype
        if col.dtype == "str" and dtype == pl.String:
            arrays[col.name] = series.to_arrow(compat_level=pl.CompatLevel.oldest())
        elif (col.dtype, dtype) in (("date", pl.Date), ("float", pl.Float64)):
            arrays[col.name] = series.to_arrow()
        elif col.dtype == "float" and dtype.is_numeric():
            casts[col.name] = pl.col(col.name).cast(pl.Float64)
            arrays[col.name] = series.cast(pl.Float64).to_arrow()
        else:
            raise _Unsupported
    return arrays, casts


def _pandas_columns(frame: Any, schema: PanelSchema) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arrow arrays of the schema columns of a pandas frame, and the columns validation casts."""
    import pandas as pd

    arrays: dict[str, Any] = {}
    casts: dict[str, Any] = {}
    for col in schema.columns:
        if col.name not in frame.columns:
            continue
        series = frame[col.name]
        if not isinstance(series, pd.Series):  # duplicated column names
            raise _Unsupported
        dtype = series.dtype
        arrow_type = getattr(dtype, "pyarrow_dtype", None)
        if col.dtype == "str" and str(dtype) in ("str", "string"):
            arrays[col.name] = pa.array(series.array).cast(pa.large_string())
        elif col.dtype == "date" and arrow_type is not None and pa.types.is_date32(arrow_type):
            arrays[col.name] = pa.array(series.array)
        elif col.dtype == "date" and isinstance(dtype, np.dtype) and dtype.kind == "M":
            values = series.to_numpy()
            days = values.astype("datetime64[D]")
            if not np.array_equal(days.astype(values.dtype), values):  # a time of day
                raise _Unsupported
            date_array = pa.array(days, from_pandas=True).cast(pa.date32())
            arrays[col.name] = date_array
            casts[col.name] = pd.arrays.ArrowExtensionArray(date_array)
        elif col.dtype == "float" and dtype == np.float64:
            # NaN stays NaN (refused as not finite), as the generic validation refuses it
            arrays[col.name] = pa.array(series.to_numpy())
        elif col.dtype == "float" and isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            casts[col.name] = series.to_numpy().astype(np.float64)
            arrays[col.name] = pa.array(casts[col.name])
        elif (
            col.dtype == "float"
            and arrow_type is not None
            and pa.types.is_floating(arrow_type)
            and arrow_type.bit_width == 64
        ):
            arrays[col.name] = pa.array(series.array)
        else:
            raise _Unsupported
    return arrays, casts


class _Unsupported(Exception):
    """A column type this module does not read as it is: the generic validation runs."""


def _frame_columns(
    frame: Any, schema: PanelSchema
) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    module = type(frame).__module__
    name = type(frame).__name__
    try:
        if module.startswith("polars") and name == "DataFrame":
            return (*_polars_columns(frame, schema), "polars")
        if module.startswith("pandas") and name == "DataFrame":
            if frame.columns.has_duplicates:
                return None
            return (*_pandas_columns(frame, schema), "pandas")
    except _Unsupported:
        return None
    return None


def _with_casts(frame: Any, casts: dict[str, Any], backend: str) -> Any:
    if not casts:
        return frame
    if backend == "polars":
        return frame.with_columns(**casts)
    return frame.assign(**casts)


def _values_pass(
    schema: PanelSchema,
    arrays: dict[str, Any],
    keys: list[str],
    calendar: str,
    check_sessions: bool,
) -> bool:
    """Whether every check but duplicate keys passes (the verdict of the generic validation)."""
    if not arrays or len(next(iter(arrays.values()))) == 0:
        return False  # the generic path names the empty panel
    for col in schema.columns:
        array = arrays.get(col.name)
        if array is None:
            continue
        if array.null_count and (not col.nullable or col.name in keys):
            return False
        if col.dtype != "float":
            continue
        values = array.to_numpy(zero_copy_only=False)  # nulls read as NaN
        finite = np.isfinite(values)
        if len(values) - int(np.count_nonzero(finite)) > array.null_count:
            return False
        if col.rule == "positive":
            bad = values <= 0
        elif col.rule == "nonnegative":
            bad = values < 0
        elif col.rule == "fraction":
            bad = (values < 0) | (values > 1)
        elif col.rule == "return":
            bad = values <= -1
            present = len(values) - array.null_count
            big = int(np.count_nonzero(values > 1))
            if present >= PERCENT_MIN_ROWS and big > PERCENT_SHARE * present:
                return False
        else:
            continue
        if bad.any():
            return False
    for group in schema.one_of:
        have = [arrays[g] for g in group if g in arrays]
        if len(have) == 1 and have[0].null_count:
            return False
        if len(have) > 1 and all(a.null_count for a in have):
            missing = bool_numpy(pc.is_null(have[0]))
            for a in have[1:]:
                missing &= bool_numpy(pc.is_null(a))
            if missing.any():
                return False
    if schema.frequency == "daily" and check_sessions:
        for name in schema.session_dates:
            if name in arrays:
                days: list[dt.date] = pc.unique(arrays[name]).drop_null().to_pylist()
                if non_sessions(days, calendar):
                    return False
    return True


def _adjacent(
    table: pa.Table, keys: list[str]
) -> tuple[bool, NDArray[np.bool_], NDArray[np.bool_]]:
    """(in key order, first key equal to the next row's, whole key equal to the next row's)."""
    n = table.num_rows
    ahead = np.zeros(max(n - 1, 0), dtype=np.bool_)
    equal = np.ones(max(n - 1, 0), dtype=np.bool_)
    first = equal
    for i, key in enumerate(keys):
        column = table.column(key).combine_chunks()
        nxt, prv = column.slice(1), column.slice(0, max(n - 1, 0))
        same = bool_numpy(pc.equal(nxt, prv))
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # text compares slowly: order only where the keys before are equal and this differs
            where = np.flatnonzero(equal & ~same)
            rising = bool_numpy(pc.greater(nxt.take(where), prv.take(where)))
            ahead[where[rising]] = True
        else:
            ahead |= equal & bool_numpy(pc.greater(nxt, prv))
        equal = equal & same
        if i == 0:
            first = equal
    return bool((ahead | equal).all()), first, equal


def array_panel(
    frame: Any,
    kind: str,
    *,
    check: bool = True,
    calendar: str = DEFAULT_CALENDAR,
    check_sessions: bool = True,
) -> ArrayPanel | None:
    """Validate an eager frame on its Arrow columns and return its panel in key order.

    Parameters
    ----------
    frame
        A pandas or polars DataFrame.
    kind
        One of :data:`flowpressure.data.KINDS`.
    check
        Run every check of :func:`~flowpressure.data.validate` (else only read the columns,
        put them in key order and say whether keys are unique).
    calendar, check_sessions
        As for :func:`~flowpressure.data.validate`.

    Returns
    -------
    ArrayPanel or None
        ``None`` when a column does not already have a type this path reads (text numbers
        or dates, timestamps with a time of day, another backend), when a key holds nulls
        and ``check`` is off, or for option chains and index events: the generic
        validation handles them.

    Raises
    ------
    SchemaError, DataError
        With ``check``, exactly the error :func:`~flowpressure.data.validate` raises for
        the frame (it is run to name the offending key).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> df = pl.DataFrame({"fund_id": ["B", "A"], "date": [dt.date(2024, 1, 31)] * 2,
    ...                    "tna": [2.0, 1.0], "ret": [0.01, 0.02]})
    >>> panel = array_panel(df, "fund")
    >>> panel.table.column("fund_id").to_pylist(), panel.order.tolist(), panel.unique
    (['A', 'B'], [1, 0], True)
    """
    schema = get_schema(kind)
    if schema.kind == "options" or any(c.rule == "option_type" for c in schema.columns):
        return None  # lower-cased option types and expiry order: the generic path checks
    if {"announce_date", "effective_date"} <= {c.name for c in schema.columns}:
        return None  # announcement before the effective date: the generic path checks
    read = _frame_columns(frame, schema)
    if read is None:
        return None
    arrays, casts, backend = read
    if any(k not in arrays for k in schema.keys) or any(c not in arrays for c in schema.required):
        return None  # the generic path names the missing column
    keys = [k for k in (*schema.keys, *schema.optional_keys) if k in arrays]
    if check and not _values_pass(schema, arrays, keys, calendar, check_sessions):
        _generic(frame, kind, calendar, check_sessions)
        return None
    if any(arrays[k].null_count for k in keys):
        return None
    table = pa.table({name: arrays[name] for name in arrays})
    in_order, same, equal = _adjacent(table, keys)
    order: NDArray[np.int64] | None = None
    if not in_order:
        indices = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
        table = table.take(indices)
        order = indices.to_numpy()
        _, same, equal = _adjacent(table, keys)
    unique = not bool(equal.any())
    if check and not unique:
        _generic(frame, kind, calendar, check_sessions)
        return None
    out = _with_casts(frame, casts, backend) if check else frame  # unchecked: as given
    return ArrayPanel(out, table, order, same, unique)


def _generic(frame: Any, kind: str, calendar: str, check_sessions: bool) -> None:
    """Run the generic validation, which raises the error the arrays found."""
    validate_generic(frame, kind, calendar=calendar, check_sessions=check_sessions)
