"""Fund flows of an eager polars or pandas frame by one pass over key-ordered arrays.

The generic path asks the backend for a window (``shift().over(...)``), which sorts every
partition. On the key-ordered arrays of :func:`~flowpressure.data._arrays.array_panel` (which
also validated them), a fund's previous row is simply the previous row: the pass of
:mod:`flowpressure.flows._fast` applies directly, and the results are put back in the input's
row order. The input's own columns are returned untouched, with
``flow``, ``flow_pct`` and ``flow_note`` added, exactly as the generic path returns them.

Panels this path cannot take as they are (nulls in a value, duplicate keys, daily panels
whose session numbering needs the calendar) return ``None``, and the caller uses the generic
path, which handles and reports every such case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from flowpressure.data._arrays import ArrayPanel
from flowpressure.flows._common import Freq, period_error, period_ordinals
from flowpressure.flows._fast import NOTE_VALUES, flows_in_order

__all__ = ["eager_fund_flows"]


def eager_fund_flows(
    panel: ArrayPanel, *, timing: str, ret_col: str, freq: Freq, calendar: str, absorbed: Any
) -> Any | None:
    """Fund flows of an eager polars/pandas frame, or ``None`` when the generic path must run.

    ``panel`` is the frame's :func:`~flowpressure.data._arrays.array_panel`; ``absorbed``
    maps (acquirer, merger date) to the absorbed TNA, as
    :func:`flowpressure.flows._fund.absorbed_tna` gives it.
    """
    if freq == "D":  # sessions need the calendar's numbering (non-sessions are null there)
        return None
    if not panel.unique or ret_col not in panel.table.column_names:
        return None  # duplicate keys: the generic path reports or keeps them
    table = panel.table.select(["fund_id", "date", "tna", ret_col])
    for name in ("tna", ret_col):
        column = table.column(name)
        if column.null_count or pc.any(pc.is_nan(column)).as_py():
            return None
    ids = table.column("fund_id")
    days = panel.days
    steps = period_ordinals(days, freq, calendar)
    same = np.r_[False, panel.same]
    clash = panel.same & (steps[1:] == steps[:-1])
    if clash.any():  # two rows of a fund in one period: the smallest key is named
        i = int(np.flatnonzero(clash)[0])
        epoch = dt.date(1970, 1, 1)
        first, second = (epoch + dt.timedelta(days=int(d)) for d in days[i : i + 2])
        raise period_error("fund_id", ids[i].as_py(), first, second, freq)
    merger_rows = {(a, (d - dt.date(1970, 1, 1)).days): t for (a, d), t in absorbed.items()}
    flow, pct, code = flows_in_order(
        ids,
        same,
        days,
        steps,
        table.column("tna").to_numpy(),
        table.column(ret_col).to_numpy(),
        timing=timing,
        merger_rows=merger_rows,
    )
    if panel.order is not None:  # back to the caller's row order
        for values in (flow, pct, code):
            values[panel.order] = values.copy()
    missing = (code == 0) | (code == 1)
    frame = panel.frame
    if type(frame).__module__.startswith("polars"):
        import polars as pl

        # built as polars columns: NaN marks no flow (inputs are finite, so no NaN is real),
        # notes are gathered from the few distinct values (a null one for "no note")
        flow[missing] = np.nan
        pct[missing] = np.nan
        notes = pl.Series([*NOTE_VALUES.to_pylist(), None], dtype=pl.String)
        new = pl.DataFrame(
            [
                pl.Series("flow", flow, nan_to_null=True),
                pl.Series("flow_pct", pct, nan_to_null=True),
                notes.gather(np.where(code < 0, len(NOTE_VALUES), code)).alias("flow_note"),
            ]
        )
        return frame.drop(["flow", "flow_pct", "flow_note"], strict=False).hstack(new)
    note = pa.DictionaryArray.from_arrays(pa.array(code, mask=code < 0), NOTE_VALUES)
    added = pa.table(
        {
            "flow": pa.array(flow, mask=missing),
            "flow_pct": pa.array(pct, mask=missing | np.isnan(pct)),
            "flow_note": note.cast(pa.string()),
        }
    )
    note = added.column("flow_note")
    out = frame.drop(columns=["flow", "flow_pct", "flow_note"], errors="ignore").copy()
    out["flow"] = added.column("flow").to_numpy(zero_copy_only=False)
    out["flow_pct"] = added.column("flow_pct").to_numpy(zero_copy_only=False)
    notes = note.to_pandas()
    notes.index = out.index
    out["flow_note"] = notes
    return out
