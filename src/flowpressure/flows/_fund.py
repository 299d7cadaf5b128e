"""Fund flows from total net assets and returns (end or start of period timing, mergers)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import narwhals as nw
from narwhals.typing import IntoFrameT

from flowpressure._errors import ConfigError, DataError, SchemaError
from flowpressure.data._dates import as_date
from flowpressure.data._frames import require, to_lazy, to_native
from flowpressure.flows._common import (
    Freq,
    check_freq,
    check_one_per_period,
    dates_as_dates,
    freq_of_sorted,
    infer_freq,
    step_number,
    step_of,
)

__all__ = ["fund_flows"]


def fund_flows(
    frame: IntoFrameT,
    timing: Literal["end", "start"] = "end",
    mergers: Any = None,
    *,
    freq: Freq | None = None,
    calendar: str = "XNYS",
    validate_input: bool = True,
) -> IntoFrameT:
    r"""Fund flows: the change in TNA that returns do not explain.

    Parameters
    ----------
    frame
        Fund panel (``fund_id, date, tna`` and ``ret_total`` or ``ret``), any frame narwhals
        accepts: pandas, polars (eager or lazy), DuckDB, PySpark. Order does not matter.
        A :class:`flowpressure.data.Store` takes the fast path: its ``fund`` panel, kept in
        key order, is measured in one streaming pass and a DuckDB relation is returned.
    timing
        ``"end"``: flows arrive at the end of the period, after the period's return;
        ``"start"``: at its start, and earn the period's return.
    mergers
        Optional frame with ``target_id, acquirer_id, date``; ``date`` is the first period the
        acquirer includes the target. The target's prior TNA grown by the acquirer's return is
        removed from the acquirer's flow; the target's end is neither a gap nor an outflow.
    freq
        Period of the panel, to find gaps: ``"D"`` (sessions of ``calendar``), ``"W"`` (weeks
        from Monday), ``"M"``, ``"Q"`` or ``"A"``. ``None`` (default) infers it from the
        spacing of each fund's rows with :func:`flowpressure.flows.infer_freq`; call that
        function to see (and report) what was inferred. Two rows of one fund in one period of
        the stated or inferred frequency are an error, never a silent bridge.
    calendar
        Exchange calendar for daily panels.
    validate_input
        Validate the panel first (:func:`flowpressure.data.validate`, kind ``fund``):
        duplicate keys, NaN returns, TNA <= 0 are errors naming the key.

    Returns
    -------
    frame
        The same kind of frame with every input column and ``flow`` (currency), ``flow_pct``
        (fraction of prior TNA) and ``flow_note``: ``"birth"`` (first row), ``"gap"`` (a missing
        period before the row; never bridged), ``"merger"``, else null. Births and gaps have a
        null flow; count them with :func:`flowpressure.flows.note_counts`.

    Raises
    ------
    SchemaError
        A required column is missing.
    DataError
        From validation; two rows of one fund in one period of ``freq`` (naming the fund, both
        dates and the frequency); with ``freq=None``, mixed or too sparse spacing; a merger
        whose target has no row in the period before the merger date or whose acquirer has no
        row on it.

    Notes
    -----
    ``R`` is ``ret_total`` when present (reinvested distributions), else ``ret``; a row whose
    ``ret_total`` is null (a store keeps an absent column as nulls) takes its ``ret``. End timing:

    .. math:: F_t = TNA_t - TNA_{t-1}(1 + R_t), \qquad f_t = F_t / TNA_{t-1}

    so that :math:`TNA_{t-1}(1+R_t) + F_t = TNA_t`. Start timing:

    .. math:: F_t = TNA_t / (1 + R_t) - TNA_{t-1}

    so that :math:`(TNA_{t-1} + F_t)(1 + R_t) = TNA_t`. A merger at t removes
    :math:`TNA^{target}_{t-1}(1 + R^{acq}_t)` from the acquirer's :math:`F_t`.

    Examples
    --------
    The DESIGN example, TNA 500m to 503m with a 0.2 % return, is a 2m inflow (0.4 %):

    >>> import polars as pl, datetime as dt
    >>> days = [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]
    >>> df = pl.DataFrame({"fund_id": ["A", "A"], "date": days,
    ...                    "tna": [500e6, 503e6], "ret": [0.01, 0.002]})
    >>> out = fund_flows(df)  # month ends 29 days apart: monthly, inferred
    >>> out.select("date", "flow", "flow_pct", "flow_note").rows()  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.date(2024, 1, 31), None, None, 'birth'),
     (datetime.date(2024, 2, 29), 2000000.0, 0.004, None)]
    """
    if timing not in ("end", "start"):
        raise ConfigError(field="timing", expected="'end' or 'start'", got=timing)
    check_freq(freq, allow_none=True)
    from flowpressure.data import Store

    if isinstance(frame, Store):
        from flowpressure.flows._fast import stored_fund_flows

        if freq is None:
            freq = infer_freq(frame.table("fund"), calendar=calendar).freq
        return stored_fund_flows(
            frame, timing=timing, mergers=mergers, freq=freq, calendar=calendar
        )
    if mergers is None and type(frame).__name__ == "DuckDBPyRelation":
        out = _relation_via_arrow(
            frame, timing=timing, freq=freq, calendar=calendar, validate_input=validate_input
        )
        if out is not None:
            return out  # type: ignore[no-any-return]
    lf, eager = to_lazy(frame)
    present = require(lf, "fund", "fund_id", "date", "tna")
    checked = False  # no two rows of one fund in one period (inference checks it)
    if eager and ("ret_total" in present or "ret" in present):
        # eager polars/pandas: validated on its Arrow columns, then one pass in key order
        from flowpressure.data._arrays import array_panel
        from flowpressure.flows._eager import eager_fund_flows

        opts = {"calendar": calendar, "check_sessions": False}
        panel = array_panel(frame, "fund", check=validate_input, **opts)  # type: ignore[arg-type]
        if panel is None and validate_input:  # text, timestamps: parsed by the generic path
            from flowpressure.data._validate import validate_generic

            frame = validate_generic(frame, "fund", **opts)  # type: ignore[arg-type]
            lf, _ = to_lazy(frame)
            validate_input = False
            panel = array_panel(frame, "fund", check=False)
        if panel is not None:
            validate_input = False
            frame = panel.frame
            lf, _ = to_lazy(frame)
            found = None
            if freq is None and panel.unique:
                found = freq_of_sorted(
                    panel.table.column("fund_id"),
                    panel.days,
                    panel.same,
                    calendar=calendar,
                    check_periods=False,  # the pass refuses two rows of a fund in one period
                )
                freq = found.freq
            elif freq is None:
                freq, checked = infer_freq(lf, calendar=calendar).freq, True
            out = eager_fund_flows(  # the pass itself refuses two rows of a fund in one period
                panel,
                timing=timing,
                ret_col="ret_total" if "ret_total" in present else "ret",
                freq=freq,
                calendar=calendar,
                absorbed=absorbed_tna(lf, mergers, freq, calendar),
            )
            if out is not None:
                return out  # type: ignore[no-any-return]
            checked = checked and found is None
    lf = dates_as_dates(lf)
    if validate_input:
        from flowpressure.data import validate

        lf, _ = to_lazy(validate(lf.to_native(), "fund", calendar=calendar, check_sessions=False))
    if freq is None:
        freq = infer_freq(lf, calendar=calendar).freq
    elif not checked:
        check_one_per_period(lf, freq, calendar=calendar)
    ret_col = "ret_total" if "ret_total" in present else "ret" if "ret" in present else None
    if ret_col is None:
        raise SchemaError(
            f"fund panel: needs ret_total or ret; frame has {present}",
            field="ret_total",
            expected="ret_total or ret",
        )
    # ret_total where a row has it, else ret (a store keeps an absent column as nulls)
    R = (
        nw.coalesce(nw.col("ret_total"), nw.col("ret"))
        if {"ret", "ret_total"} <= set(present)
        else nw.col(ret_col)
    )
    lf = lf.with_columns(step_number(lf, freq, calendar).alias("_step"))
    # One window for both lags: backends sort each partition once.
    lf = lf.with_columns(
        nw.col("tna", "_step").shift(1).over("fund_id", order_by="date").name.prefix("_prev")
    )
    prev = nw.col("_prevtna")
    end = nw.col("tna") - prev * (1 + R)
    raw = end if timing == "end" else nw.col("tna") / (1 + R) - prev
    absorbed = _absorbed(lf, mergers, R, freq, calendar)
    birth = prev.is_null()
    gap = nw.col("_step") - nw.col("_prev_step") > 1
    note = nw.when(birth).then(nw.lit("birth")).when(gap).then(nw.lit("gap"))
    if absorbed is not None:
        is_merger, amount = absorbed
        note = note.when(is_merger).then(nw.lit("merger"))
        raw = raw - amount
    null = nw.lit(None, dtype=nw.Float64)
    flow = nw.when(birth | gap).then(null).otherwise(raw)
    lf = lf.with_columns(
        flow.alias("flow"),
        note.otherwise(nw.lit(None, dtype=nw.String)).alias("flow_note"),
    ).with_columns(nw.when(prev != 0).then(nw.col("flow") / prev).otherwise(null).alias("flow_pct"))
    out = lf.select(
        *[
            c
            for c in lf.collect_schema().names()
            if not c.startswith("_") and c not in ("flow", "flow_pct", "flow_note")
        ],
        "flow",
        "flow_pct",
        "flow_note",
    )
    return to_native(out, eager)  # type: ignore[no-any-return]


def _absorbed(
    lf: nw.LazyFrame[Any],
    mergers: Any,
    R: nw.Expr,
    freq: Freq,
    calendar: str,
) -> tuple[nw.Expr, nw.Expr] | None:
    """Expressions marking merger rows and the absorbed amount to remove from their flow."""
    total = absorbed_tna(lf, mergers, freq, calendar)
    if not total:
        return None
    is_merger = nw.lit(False)
    amount: nw.Expr = nw.lit(0.0)
    for (acquirer, when), tna in total.items():
        hit = (nw.col("fund_id") == acquirer) & (nw.col("date").cast(nw.Date) == nw.lit(when))
        is_merger = is_merger | hit
        amount = nw.when(hit).then(nw.lit(tna) * (1 + R)).otherwise(amount)
    return is_merger, amount


def absorbed_tna(
    lf: nw.LazyFrame[Any], mergers: Any, freq: Freq, calendar: str
) -> dict[tuple[str, dt.date], float]:
    """Map (acquirer_id, merger date) to the targets' TNA of the period before, checked."""
    if mergers is None:
        return {}
    m, _ = to_lazy(mergers)
    require(m, "mergers", "target_id", "acquirer_id", "date")
    rows = m.select("target_id", "acquirer_id", "date").collect().rows()
    if not rows:
        return {}
    targets = sorted({str(r[0]) for r in rows})
    history = (
        lf.filter(nw.col("fund_id").is_in(targets))
        .select("fund_id", "date", "tna")
        .collect()
        .rows()
    )
    by_target: dict[str, list[tuple[dt.date, float]]] = {}
    for fund, date, tna in history:
        by_target.setdefault(str(fund), []).append((as_date(date), float(tna)))
    acquirer_rows = {
        (str(f), as_date(d))
        for f, d in lf.filter(nw.col("fund_id").is_in(sorted({str(r[1]) for r in rows})))
        .select("fund_id", "date")
        .collect()
        .rows()
    }
    total: dict[tuple[str, dt.date], float] = {}
    for target, acquirer, when in sorted((str(a), str(b), as_date(c)) for a, b, c in rows):
        key = {"target_id": target, "acquirer_id": acquirer, "date": when}
        before = [(d, t) for d, t in by_target.get(target, []) if d < when]
        if not before:
            raise DataError(
                field="target_id", key=key, expected="a target row before the merger date"
            )
        last_date, last_tna = max(before)
        if step_of(last_date, freq, calendar) != step_of(when, freq, calendar) - 1:
            raise DataError(
                field="date",
                key=key,
                expected="the target's last row in the period before the merger date",
                got=last_date,
            )
        if (acquirer, when) not in acquirer_rows:
            raise DataError(
                field="acquirer_id", key=key, expected="an acquirer row on the merger date"
            )
        total[(acquirer, when)] = total.get((acquirer, when), 0.0) + last_tna
    return total


#: Rows of a DuckDB relation read into memory for the eager pass; a larger one is left to
#: DuckDB (its window query spills to disk), at the cost of the rows read before knowing.
RELATION_ROWS = 50_000_000


def _relation_via_arrow(rel: Any, **options: Any) -> Any:
    """Fund flows of a DuckDB relation by the eager pass over its Arrow export.

    One export, validation on the arrays and one pass in key order cost about a third of
    DuckDB's own window query (10M rows), and the result is a relation on the same connection.
    ``None`` (the lazy path) for a relation over more than :data:`RELATION_ROWS` rows, one
    without the return columns, or a DuckDB whose relations do not name their connection.
    """
    import polars as pl
    import pyarrow as pa  # type: ignore[import-untyped]

    con = getattr(rel, "_con", None)
    if con is None or not {"fund_id", "date", "tna"} <= set(rel.columns):
        return None
    if not {"ret", "ret_total"} & set(rel.columns):
        return None
    reader = rel.to_arrow_reader(1 << 20)
    batches, rows = [], 0
    try:
        for batch in reader:
            rows += batch.num_rows
            if rows > RELATION_ROWS:
                return None
            batches.append(batch)
    finally:
        reader.close()
    frame = pl.from_arrow(pa.Table.from_batches(batches, schema=reader.schema))
    assert isinstance(frame, pl.DataFrame)
    out = fund_flows(frame, **options)
    return con.from_arrow(out.to_arrow())
