"""The stored-panel fast path of fund flows: one streaming pass over rows kept in key order.

The store inserts every file ordered by (fund_id, date). Reading the table back in that
order, a fund's previous row is simply the previous row: no sort, no window, no hash join.
Record batches are processed one at a time with the last row carried across batches, so
memory stays flat however long the panel is; the pass checks the order as it goes and
falls back to an ``ORDER BY`` read when the table is not in key order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from numpy.typing import NDArray

from flowpressure._errors import DataError
from flowpressure.flows._common import Freq

__all__ = ["NOTE_VALUES", "OrderError", "fund_flow_batches"]

#: Dictionary of the ``flow_note`` column written by the fast path.
NOTE_VALUES = pa.array(["birth", "gap", "merger"], type=pa.string())


class OrderError(DataError):
    """The stored rows are not in (fund_id, date) order; the caller reads them sorted."""


def _steps(days: NDArray[np.int32], freq: Freq, sessions: NDArray[np.int64] | None) -> Any:
    d = days.astype("datetime64[D]")
    if freq == "M":
        return d.astype("datetime64[M]").astype(np.int64)
    if freq == "Q":
        return d.astype("datetime64[M]").astype(np.int64) // 3
    if freq == "A":
        return d.astype("datetime64[Y]").astype(np.int64)
    assert sessions is not None
    return np.searchsorted(sessions, days.astype(np.int64))


def fund_flow_batches(
    reader: Any,
    *,
    timing: str = "end",
    freq: Freq = "M",
    calendar: str = "XNYS",
    absorbed: dict[tuple[str, dt.date], float] | None = None,
    ret_column: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield the input batches with ``flow``, ``flow_pct`` and ``flow_note`` appended.

    ``reader`` yields record batches of a fund panel in (fund_id, date) order with columns
    ``fund_id``, ``date`` (date32), ``tna`` and ``ret_total`` or ``ret``. The numbers equal
    :func:`flowpressure.flows.fund_flows` (same formulas, births, gaps and mergers).

    Raises
    ------
    OrderError
        Two rows are out of (fund_id, date) order.
    """
    sessions: NDArray[np.int64] | None = None
    carry: dict[str, Any] | None = None
    merger_rows = {
        (a, np.datetime64(d, "D").astype(np.int64)): t for (a, d), t in (absorbed or {}).items()
    }
    for batch in reader:
        n = batch.num_rows
        if n == 0:
            continue
        names = batch.schema.names
        ret_name = ret_column or ("ret_total" if "ret_total" in names else "ret")
        ids = batch.column("fund_id")
        days = batch.column("date").cast(pa.int32()).to_numpy(zero_copy_only=False)
        tna = batch.column("tna").to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        ret = batch.column(ret_name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        if freq == "D" and sessions is None:
            from flowpressure.data import sessions as get_sessions

            lo = dt.date(1970, 1, 1) + dt.timedelta(days=int(days.min()))
            found = get_sessions(lo - dt.timedelta(days=10), dt.date(2100, 12, 31), calendar)
            sessions = found.astype("datetime64[D]").astype(np.int64)
        steps = _steps(days, freq, sessions)

        prev_ids = pa.concat_arrays(
            [pa.array([carry["id"] if carry else None], type=ids.type), ids.slice(0, n - 1)]
        )
        same = pc.fill_null(pc.equal(ids, prev_ids), False).to_numpy(zero_copy_only=False)
        prev_tna = np.empty(n)
        prev_tna[0] = carry["tna"] if carry else np.nan
        prev_tna[1:] = tna[:-1]
        prev_day = np.empty(n, dtype=np.int64)
        prev_day[0] = carry["day"] if carry else np.iinfo(np.int64).min
        prev_day[1:] = days[:-1]
        prev_step = np.empty(n, dtype=np.int64)
        prev_step[0] = carry["step"] if carry else 0
        prev_step[1:] = steps[:-1]

        # order check: same fund, later date; else a larger fund_id
        if np.any(same & (days <= prev_day)):
            i = int(np.flatnonzero(same & (days <= prev_day))[0])
            raise OrderError(
                field="date", key={"fund_id": ids[i].as_py()}, expected="rows in date order"
            )
        later = pc.fill_null(pc.greater(ids, prev_ids), True).to_numpy(zero_copy_only=False)
        if np.any(~same & ~later):
            raise OrderError(field="fund_id", expected="rows in fund_id order")

        birth = ~same
        gap = same & (steps - prev_step > 1)
        growth = 1 + ret
        flow = tna - prev_tna * growth if timing == "end" else tna / growth - prev_tna
        note = np.full(n, -1, dtype=np.int8)
        note[birth] = 0
        note[gap] = 1
        if merger_rows:
            for (acquirer, day), target_tna in merger_rows.items():
                for k in np.flatnonzero((days == day) & same).tolist():
                    if ids[k].as_py() == acquirer:
                        flow[k] -= target_tna * (1 + ret[k])
                        note[k] = 2
        missing = (note == 0) | (note == 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = flow / prev_tna
        notes = pa.DictionaryArray.from_arrays(pa.array(note, mask=note < 0), NOTE_VALUES)
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, pa.array(flow, mask=missing), pa.array(pct, mask=missing), notes],
            names=[*names, "flow", "flow_pct", "flow_note"],
        )
        carry = {"id": ids[n - 1].as_py(), "tna": tna[-1], "day": days[-1], "step": steps[-1]}


def stored_fund_flows(
    store: Any,
    *,
    timing: str = "end",
    mergers: Any = None,
    freq: Freq = "M",
    calendar: str = "XNYS",
    sink: Any = None,
    batch_rows: int = 1 << 20,
) -> Any:
    """Fund flows of the store's ``fund`` panel by one streaming pass (see module docstring).

    Returns a DuckDB relation on the store's connection over the result, or, with ``sink``
    (a callable taking each record batch), streams the batches to it and returns the row
    count, keeping memory flat for panels larger than RAM.
    """
    from flowpressure.flows._common import to_lazy
    from flowpressure.flows._fund import absorbed_tna

    con = store.con
    table = store.table("fund")
    nulls = con.sql("SELECT count(ret_total), count(ret), count(*) FROM fund").fetchall()[0]
    ret = "ret_total" if nulls[0] == nulls[2] else "ret"
    if nulls[0] != nulls[2] and nulls[1] != nulls[2]:
        raise DataError(field="ret_total", expected="ret_total or ret on every stored row")
    lf, _ = to_lazy(table)
    absorbed = absorbed_tna(lf, mergers, freq, calendar)
    cols = ", ".join(f'"{c}"' for c in table.columns)
    query = f"SELECT {cols} FROM fund"

    def run(sql: str) -> Any:
        reader = con.sql(sql).to_arrow_reader(batch_rows)
        try:
            return consume(reader)
        finally:
            reader.close()  # an unread result would block the connection

    def consume(reader: Any) -> Any:
        batches = fund_flow_batches(
            reader,
            timing=timing,
            freq=freq,
            calendar=calendar,
            absorbed=absorbed,
            ret_column=ret,
        )
        if sink is None:
            return pa.Table.from_batches(list(batches))
        rows = 0
        for batch in batches:
            sink(batch)
            rows += batch.num_rows
        return rows

    try:
        result = run(query)
    except OrderError:
        if sink is not None:
            raise
        result = run(query + " ORDER BY fund_id, date")
    if sink is not None:
        return result
    return con.from_arrow(result)
