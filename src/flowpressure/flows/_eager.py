"""Fund flows of an eager polars or pandas frame by one pass over key-ordered arrays.

The generic path asks the backend for a window (``shift().over(...)``), which sorts every
partition. Panels usually arrive already ordered by fund and date, and then a fund's previous
row is simply the previous row: the pass of :mod:`flowpressure.flows._fast` applies directly.
Frames out of order are put in order once (one sort of two key columns) and the results are
put back in the input's row order. The input's own columns are returned untouched, with
``flow``, ``flow_pct`` and ``flow_note`` added, exactly as the generic path returns them.

Frames this path cannot take as they are (nulls in a key or a value, dates that are not
dates, duplicate keys, daily panels whose session numbering needs the calendar) return
``None``, and the caller uses the generic path, which handles and reports every such case.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from flowpressure.flows._common import Freq

__all__ = ["eager_fund_flows"]

_BATCH = 1 << 20


def _columns(frame: Any, ret_col: str) -> pa.Table | None:
    """Return the four columns the pass reads as Arrow (fund_id, date32, tna, ret), or None."""
    module = type(frame).__module__
    if module.startswith("polars") and type(frame).__name__ == "DataFrame":
        import polars as pl

        if frame.schema["date"] != pl.Date or frame.schema["fund_id"] != pl.String:
            return None
        table = frame.select("fund_id", "date", "tna", ret_col).to_arrow()
    elif module.startswith("pandas") and type(frame).__name__ == "DataFrame":
        column = frame["date"]
        dates = column.to_numpy() if not hasattr(column.array, "__arrow_array__") else None
        if dates is None:
            # Arrow-backed (validation's output): hand the Arrow data over, never row by row.
            arrow = pa.array(column.array)
            if not pa.types.is_date32(arrow.type):
                return None
            date_array = arrow
        elif np.issubdtype(dates.dtype, np.datetime64):
            date_array = pa.array(dates.astype("datetime64[D]")).cast(pa.date32())
        elif dates.dtype == object:  # datetime.date objects, as Arrow dates become in pandas
            try:
                date_array = pa.array(dates, type=pa.date32())
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return None
        else:
            return None
        ids = frame["fund_id"]
        if str(ids.dtype) not in ("str", "string"):
            return None
        table = pa.table(
            {
                "fund_id": pa.array(ids.array),
                "date": date_array,
                "tna": pa.array(frame["tna"].to_numpy(dtype=np.float64, na_value=np.nan)),
                ret_col: pa.array(frame[ret_col].to_numpy(dtype=np.float64, na_value=np.nan)),
            }
        )
    else:
        return None
    for name in table.column_names:
        column = table.column(name)
        if column.null_count or (
            pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py()
        ):
            return None
    if pa.types.is_large_string(table.schema.field("fund_id").type):
        return table
    return table.set_column(0, "fund_id", table.column("fund_id").cast(pa.large_string()))


def _pass(
    table: pa.Table, timing: str, freq: Freq, calendar: str, absorbed: Any, ret_col: str
) -> pa.Table:
    from flowpressure.flows._fast import fund_flow_batches

    batches = fund_flow_batches(
        table.to_reader(max_chunksize=_BATCH),
        timing=timing,
        freq=freq,
        calendar=calendar,
        absorbed=absorbed,
        ret_column=ret_col,
    )
    out = pa.Table.from_batches(list(batches))
    return out.select(["flow", "flow_pct", "flow_note"])


def eager_fund_flows(
    frame: Any, *, timing: str, ret_col: str, freq: Freq, calendar: str, absorbed: Any
) -> Any | None:
    """Fund flows of an eager polars/pandas frame, or ``None`` when the generic path must run.

    ``absorbed`` maps (acquirer, merger date) to the absorbed TNA, as
    :func:`flowpressure.flows._fund.absorbed_tna` gives it.
    """
    from flowpressure.flows._fast import OrderError, PeriodError

    if freq == "D":  # sessions need the calendar's numbering (non-sessions are null there)
        return None
    table = _columns(frame, ret_col)
    if table is None:
        return None
    try:
        added = _pass(table, timing, freq, calendar, absorbed, ret_col)
    except (OrderError, PeriodError):  # in key order the first clash met is the smallest key
        order = pc.sort_indices(table, sort_keys=[("fund_id", "ascending"), ("date", "ascending")])
        try:
            added = _pass(table.take(order), timing, freq, calendar, absorbed, ret_col)
        except OrderError:  # duplicate keys: the generic path reports or keeps them
            return None
        back = np.empty(len(order), dtype=np.int64)
        back[order.to_numpy()] = np.arange(len(order), dtype=np.int64)
        added = added.take(pa.array(back))
    note = added.column("flow_note").cast(pa.string())
    if type(frame).__module__.startswith("polars"):
        import polars as pl

        new = pl.from_arrow(
            pa.table({"flow": added["flow"], "flow_pct": added["flow_pct"], "flow_note": note})
        )
        assert isinstance(new, pl.DataFrame)
        return frame.drop(["flow", "flow_pct", "flow_note"], strict=False).hstack(new)

    out = frame.drop(columns=["flow", "flow_pct", "flow_note"], errors="ignore").copy()
    out["flow"] = added.column("flow").to_numpy(zero_copy_only=False)
    out["flow_pct"] = added.column("flow_pct").to_numpy(zero_copy_only=False)
    notes = note.to_pandas()
    notes.index = out.index
    out["flow_note"] = notes
    return out
