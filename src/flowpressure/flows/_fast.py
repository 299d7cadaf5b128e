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
from numba import njit
from numpy.typing import NDArray

from flowpressure._errors import DataError
from flowpressure.data._arrays import bool_numpy
from flowpressure.flows._common import Freq, period_error

__all__ = ["NOTE_VALUES", "OrderError", "PeriodError", "fund_flow_batches"]

#: Dictionary of the ``flow_note`` column written by the fast path.
NOTE_VALUES = pa.array(["birth", "gap", "merger"], type=pa.string())


#: The return column the pass reads when ret_total is filled on some rows only.
_RET = "__fp_ret"


class OrderError(DataError):
    """The stored rows are not in (fund_id, date) order; the caller reads them sorted."""


class PeriodError(DataError):
    """Two rows of one fund fall in one period of the stated frequency."""


def _step_table(lo: int, hi: int, freq: Freq, calendar: str) -> NDArray[np.int64]:
    """Period ordinal of every day from ``lo`` to ``hi`` (days since 1970), for a gather."""
    days = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
    if freq == "M":
        return days.astype("datetime64[M]").astype(np.int64)
    if freq == "Q":
        return days.astype("datetime64[M]").astype(np.int64) // 3
    if freq == "A":
        return days.astype("datetime64[Y]").astype(np.int64)
    if freq == "W":  # weeks from Monday (1970-01-05 is a Monday)
        return (np.arange(lo, hi + 1, dtype=np.int64) + 3) // 7
    from flowpressure.data import sessions as get_sessions

    first = dt.date(1970, 1, 1) + dt.timedelta(days=lo)
    last = dt.date(1970, 1, 1) + dt.timedelta(days=hi)
    found = get_sessions(first, last, calendar).astype("datetime64[D]").astype(np.int64)
    return np.searchsorted(found, days.astype(np.int64)).astype(np.int64)


@njit(cache=True)
def _pass(
    same: NDArray[np.bool_],
    steps: NDArray[np.int64],
    tna: NDArray[np.float64],
    ret: NDArray[np.float64],
    prev_tna0: float,
    prev_step0: int,
    start: bool,
    flow: NDArray[np.float64],
    pct: NDArray[np.float64],
    note: NDArray[np.int8],
) -> None:
    """One pass: flow, flow_pct and note codes (0 birth, 1 gap, -1 none) of a sorted batch."""
    prev_tna = prev_tna0
    prev_step = prev_step0
    for i in range(tna.shape[0]):
        if not same[i]:
            note[i] = 0
        elif steps[i] - prev_step > 1:
            note[i] = 1
        else:
            note[i] = -1
            g = 1.0 + ret[i]
            f = tna[i] / g - prev_tna if start else tna[i] - prev_tna * g
            flow[i] = f
            pct[i] = f / prev_tna if prev_tna != 0.0 else np.nan
        prev_tna = tna[i]
        prev_step = steps[i]


def flows_in_order(
    ids: Any,
    same: NDArray[np.bool_],
    days: NDArray[Any],
    steps: NDArray[np.int64],
    tna: NDArray[np.float64],
    ret: NDArray[np.float64],
    *,
    timing: str,
    merger_rows: dict[tuple[str, Any], float],
    prev_tna: float = np.nan,
    prev_step: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8]]:
    """Flow, flow_pct and note codes (0 birth, 1 gap, 2 merger, -1 none) of rows in key order.

    ``same[i]``: row ``i`` belongs to the fund of the row before it (for row 0, of the row
    carried from the previous batch, whose TNA and period are ``prev_tna``, ``prev_step``);
    ``steps`` are period ordinals; ``merger_rows`` maps (acquirer, day since 1970) to the
    absorbed TNA.
    """
    n = len(tna)
    flow = np.full(n, np.nan)
    pct = np.full(n, np.nan)
    note = np.empty(n, dtype=np.int8)
    _pass(same, steps, tna, ret, prev_tna, prev_step, timing == "start", flow, pct, note)
    for (acquirer, day), target_tna in merger_rows.items():
        for k in np.flatnonzero((days == day) & same).tolist():
            if ids[k].as_py() == acquirer and note[k] < 0:
                flow[k] -= target_tna * (1 + ret[k])
                base = tna[k - 1] if k else prev_tna
                pct[k] = flow[k] / base
                note[k] = 2
    return flow, pct, note


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
    PeriodError
        Two rows of one fund in one period of ``freq`` (W, M, Q, A): the first such pair met.
    """
    table: NDArray[np.int64] | None = None
    table_lo = 0
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
        lo, hi = int(days.min()), int(days.max())
        if table is None or lo < table_lo or hi >= table_lo + len(table):
            # period ordinals for a span of days around this batch, looked up by gather
            first = min(lo, table_lo) if table is not None else lo
            last = max(hi, table_lo + len(table) - 1) if table is not None else hi
            table_lo = first - 400
            table = _step_table(table_lo, last + 4000, freq, calendar)
        steps = table[days - table_lo]

        same = np.empty(n, dtype=np.bool_)
        same[0] = carry is not None and ids[0].as_py() == carry["id"]
        if n > 1:  # zero-copy slices: compare each id with the one before it
            same[1:] = bool_numpy(pc.equal(ids.slice(1), ids.slice(0, n - 1)))
        prev_day = np.empty(n, dtype=np.int64)
        prev_day[0] = carry["day"] if carry else np.iinfo(np.int64).min
        prev_day[1:] = days[:-1]
        # order check: within a fund dates rise; at each change of fund the id rises
        if np.any(same & (days <= prev_day)):
            i = int(np.flatnonzero(same & (days <= prev_day))[0])
            raise OrderError(
                field="date", key={"fund_id": ids[i].as_py()}, expected="rows in date order"
            )
        if carry is not None and not same[0] and not carry["id"] < ids[0].as_py():
            raise OrderError(
                field="fund_id", key={"fund_id": ids[0].as_py()}, expected="rows in fund_id order"
            )
        starts = np.flatnonzero(~same[1:]) + 1  # a new fund begins: its id must rise
        if len(starts):
            rising = bool_numpy(pc.greater(ids.take(starts), ids.take(starts - 1)))
            if not rising.all():
                first = ids[int(starts[np.flatnonzero(~rising)[0]])].as_py()
                raise OrderError(
                    field="fund_id", key={"fund_id": first}, expected="rows in fund_id order"
                )
        if freq != "D":
            prev_step = np.empty(n, dtype=np.int64)
            prev_step[0] = carry["step"] if carry else np.iinfo(np.int64).min
            prev_step[1:] = steps[:-1]
            clash = same & (steps == prev_step)
            if clash.any():
                i = int(np.flatnonzero(clash)[0])
                epoch = dt.date(1970, 1, 1)
                err = period_error(
                    "fund_id",
                    ids[i].as_py(),
                    epoch + dt.timedelta(days=int(prev_day[i])),
                    epoch + dt.timedelta(days=int(days[i])),
                    freq,
                )
                raise PeriodError(str(err), field=err.field, key=err.key, expected=err.expected)
        flow, pct, note = flows_in_order(
            ids,
            same,
            days,
            steps,
            tna,
            ret,
            timing=timing,
            merger_rows=merger_rows,
            prev_tna=carry["tna"] if carry else np.nan,
            prev_step=carry["step"] if carry else 0,
        )
        missing = (note == 0) | (note == 1)
        notes = pa.DictionaryArray.from_arrays(pa.array(note, mask=note < 0), NOTE_VALUES)
        yield pa.RecordBatch.from_arrays(
            [
                *batch.columns,
                pa.array(flow, mask=missing),
                pa.array(pct, mask=missing | np.isnan(pct)),
                notes,
            ],
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
    from flowpressure.data._frames import to_lazy
    from flowpressure.flows._fund import absorbed_tna

    con = store.con
    table = store.table("fund")
    names = table.columns
    counts = con.sql(
        "SELECT count(*), " + ", ".join(f'count("{c}")' for c in names) + " FROM fund"
    ).fetchall()[0]
    total, filled = counts[0], dict(zip(names, counts[1:], strict=True))
    # ret_total where a row has it, else ret, as the generic path reads them
    ret = (
        "ret_total" if filled["ret_total"] == total else "ret" if not filled["ret_total"] else None
    )
    if ret is None or filled[ret] != total:
        ret = _RET
        full = con.sql('SELECT count(coalesce("ret_total", "ret")) FROM fund').fetchall()[0][0]
        if full != total:
            raise DataError(field="ret_total", expected="ret_total or ret on every stored row")
    lf, _ = to_lazy(table)
    absorbed = absorbed_tna(lf, mergers, freq, calendar)
    # A column the store keeps for the schema but that holds no value at all is not read:
    # exporting it costs about as much as real data, while an Arrow null array is nearly free.
    empty = [c for c in names if total and not filled[c]]
    arrow_types = (
        con.sql("SELECT " + ", ".join(f'"{c}"' for c in names) + " FROM fund LIMIT 0")
        .to_arrow_table()
        .schema
    )
    cols = ", ".join(f'"{c}"' for c in names if c not in empty)
    if ret == _RET:
        cols += f', coalesce("ret_total", "ret") AS "{_RET}"'
    query = f"SELECT {cols} FROM fund"

    def refill(reader: Any) -> Iterator[pa.RecordBatch]:
        """Put the unread empty columns back, as typed nulls, in the table's column order."""
        order = [*names, _RET] if ret == _RET else names
        shared: dict[str, Any] = {}  # one null array per column, sliced: buffers are shared
        for batch in reader:
            n = batch.num_rows
            for c in empty:
                if c not in shared or len(shared[c]) < n:
                    shared[c] = pa.nulls(max(n, batch_rows), arrow_types.field(c).type)
            yield pa.RecordBatch.from_arrays(
                [shared[c].slice(0, n) if c in empty else batch.column(c) for c in order],
                names=order,
            )

    def run(sql: str) -> Any:
        reader = con.sql(sql).to_arrow_reader(batch_rows)
        try:
            return consume(reader)
        finally:
            reader.close()  # an unread result would block the connection

    def consume(reader: Any) -> Any:
        batches = fund_flow_batches(
            refill(reader) if empty else reader,
            timing=timing,
            freq=freq,
            calendar=calendar,
            absorbed=absorbed,
            ret_column=ret,
        )
        if ret == _RET:  # the helper column is not part of the result
            batches = (b.drop_columns([_RET]) for b in batches)
        if sink is None:
            return pa.Table.from_batches(list(batches))
        rows = 0
        for batch in batches:
            sink(batch)
            rows += batch.num_rows
        return rows

    try:
        result = run(query)
    except (OrderError, PeriodError):  # in key order, the clash reported is the smallest key
        if sink is not None:
            raise
        result = run(query + " ORDER BY fund_id, date")
    if sink is not None:
        return result
    return con.from_arrow(result)
