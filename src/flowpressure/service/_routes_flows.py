"""Flow routes: ``/v1/flows/fund`` and ``/v1/flows/etf`` for one fund and a date range.

Each reads one fund's rows with a bound ``WHERE fund_id = ?`` (rows are stored in key
order, so this is a short range scan), measures flows over the fund's whole history with
the library, and cuts the result to ``[start, end]``: the first row of the window keeps the
flow its predecessor outside the window gives it.

A fund's measured history is kept, row by row as validated JSON, until the store changes
(:class:`~flowpressure.service._common.ReaderHolder`): a request for another window of the
same fund only cuts and joins rows.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from flowpressure.service._common import (
    ERRORS,
    NotFoundError,
    Reader,
    ReaderHolder,
    check_range,
    drop_empty,
    finite,
    memo,
    query,
)
from flowpressure.service._models import (
    MAX_ID,
    EtfFlowRow,
    EtfFlowsOut,
    FundFlowRow,
    FundFlowsOut,
    IsoDate,
)

if TYPE_CHECKING:
    import polars as pl

router = APIRouter(prefix="/v1/flows", tags=["flows"], responses=ERRORS)

FUND_SQL = "SELECT fund_id, date, tna, ret, ret_total FROM fund WHERE fund_id = ? ORDER BY date"
ETF_SQL = (
    "SELECT fund_id, date, shares_outstanding, nav, distribution, aum, ret, ret_total "
    "FROM etf WHERE fund_id = ? ORDER BY date"
)

FundId = Annotated[
    str,
    Query(min_length=1, max_length=MAX_ID, description="fund_id as stored (see /v1/entities)."),
]
Start = Annotated[IsoDate | None, Query(description="First date to return (YYYY-MM-DD).")]
End = Annotated[IsoDate | None, Query(description="Last date to return (YYYY-MM-DD).")]


@dataclass(frozen=True)
class Series:
    """One fund's measured history: dates, each row as JSON, each row's note."""

    dates: list[dt.date]
    rows: list[bytes]
    notes: list[str | None]

    def cut(self, start: dt.date | None, end: dt.date | None) -> tuple[bytes, dict[str, int]]:
        """Return the rows in ``[start, end]`` as a JSON array and their notes counted."""
        lo = 0 if start is None else bisect.bisect_left(self.dates, start)
        hi = len(self.dates) if end is None else bisect.bisect_right(self.dates, end)
        counts = Counter(n for n in self.notes[lo:hi] if n is not None)
        return b"[" + b",".join(self.rows[lo:hi]) + b"]", dict(sorted(counts.items()))


def _series(frame: pl.DataFrame, row: Callable[[dict[str, Any]], BaseModel]) -> Series:
    records = list(frame.iter_rows(named=True))
    return Series(
        dates=[r["date"] for r in records],
        rows=[row(r).model_dump_json().encode() for r in records],
        notes=[r["flow_note"] for r in records],
    )


def _unknown(kind: str, fund_id: str) -> NotFoundError:
    return NotFoundError(
        f"unknown fund_id {fund_id!r}: the store has no {kind} rows for it "
        f"(GET /v1/entities?kind={kind} lists them)",
        field="fund_id",
        expected=f"a fund_id of the stored {kind} panel",
        got=fund_id,
    )


def _measured(
    holder: ReaderHolder,
    kind: str,
    sql: str,
    fund_id: str,
    options: tuple[Any, ...],
    measure: Callable[[pl.DataFrame], Series],
) -> Series:
    """Return the fund's measured history, from the cache or computed and kept."""

    def compute(panel: pl.DataFrame) -> Series:
        if panel.height == 0:
            raise _unknown(kind, fund_id)
        return measure(panel)

    return memo(
        holder, (kind, fund_id, options), lambda store: query(store, kind, sql, [fund_id]), compute
    )


def _respond(head: BaseModel, rows: bytes, diagnostics: dict[str, int]) -> Response:
    """Serialise ``head`` (the response model with no rows) and splice the rows in."""
    envelope = head.model_dump_json(exclude={"rows", "diagnostics"}).encode()
    body = (
        envelope[:-1]
        + b',"rows":'
        + rows
        + b',"diagnostics":'
        + json.dumps(diagnostics).encode()
        + b"}"
    )
    return Response(body, media_type="application/json")


def _fund_row(r: dict[str, Any]) -> FundFlowRow:
    return FundFlowRow(
        date=r["date"],
        tna=r["tna"],
        ret=finite(r.get("ret")),
        ret_total=finite(r.get("ret_total")),
        flow=finite(r["flow"]),
        flow_pct=finite(r["flow_pct"]),
        flow_note=r["flow_note"],
    )


@router.get("/fund", response_model=FundFlowsOut, summary="Flows of one mutual fund")
def fund(
    reader: Reader,
    fund_id: FundId,
    start: Start = None,
    end: End = None,
    timing: Annotated[
        Literal["end", "start"],
        Query(
            description="end: F = TNA_t - TNA_{t-1}(1+R_t); start: F = TNA_t/(1+R_t) - TNA_{t-1}."
        ),
    ] = "end",
    freq: Annotated[
        Literal["D", "W", "M", "Q", "A"] | None,
        Query(description="Period of the panel; left out, inferred from the fund's dates."),
    ] = None,
) -> Response:
    """Fund flows: the change in TNA that returns do not explain.

    ``R`` is ``ret_total`` when stored for every row of the fund, else ``ret``. End timing:
    ``F_t = TNA_t - TNA_{t-1}(1 + R_t)``, ``flow_pct = F_t / TNA_{t-1}``.
    """
    from flowpressure.flows import fund_flows

    check_range(start, end)

    def measure(panel: pl.DataFrame) -> Series:
        panel = drop_empty(panel, ("ret", "ret_total"))
        flows = fund_flows(panel, timing=timing, freq=freq, validate_input=False)
        return _series(flows, _fund_row)

    series = _measured(reader, "fund", FUND_SQL, fund_id, (timing, freq), measure)
    rows, counts = series.cut(start, end)
    head = FundFlowsOut(
        fund_id=fund_id, timing=timing, start=start, end=end, rows=[], diagnostics={}
    )
    return _respond(head, rows, counts)


def _etf_row(r: dict[str, Any]) -> EtfFlowRow:
    return EtfFlowRow(
        date=r["date"],
        shares_outstanding=r["shares_outstanding"],
        nav=r["nav"],
        distribution=finite(r.get("distribution")),
        aum=finite(r.get("aum")),
        flow=finite(r["flow"]),
        flow_pct=finite(r["flow_pct"]),
        creation_units=finite(r.get("creation_units")),
        flow_aum=finite(r.get("flow_aum")),
        flow_diff=finite(r.get("flow_diff")),
        flow_note=r["flow_note"],
    )


@router.get("/etf", response_model=EtfFlowsOut, summary="Creations and redemptions of one ETF")
def etf(
    reader: Reader,
    fund_id: FundId,
    start: Start = None,
    end: End = None,
    return_kind: Annotated[
        Literal["price", "total"],
        Query(description="Return of the AUM cross-check: NAV change, or with distributions."),
    ] = "price",
    so_lag: Annotated[
        int, Query(ge=0, le=250, description="Shares are reported this many sessions late.")
    ] = 0,
    unit_size: Annotated[
        float | None,
        Query(gt=0, le=1e12, allow_inf_nan=False, description="Shares per creation unit."),
    ] = None,
    bridge_gaps: Annotated[
        bool,
        Query(description="The flow after a missing session covers the whole gap (flagged)."),
    ] = False,
) -> Response:
    """ETF flows from shares outstanding: ``F_t = (SO_t - SO_{t-1}) NAV_t``.

    ``flow_pct = F_t / (SO_{t-1} NAV_{t-1})``; ``flow_aum`` recomputes the flow from AUM and
    the return as a cross-check, ``creation_units = ΔSO / unit_size``.
    """
    from flowpressure.flows import etf_flows

    check_range(start, end)

    def measure(panel: pl.DataFrame) -> Series:
        panel = drop_empty(panel, ("distribution", "aum", "ret", "ret_total"))
        flows = etf_flows(
            panel,
            unit_size=unit_size,
            so_lag=so_lag,
            return_kind=return_kind,
            bridge_gaps=bridge_gaps,
            check_sessions=False,
            validate_input=False,
        )
        return _series(flows, _etf_row)

    options = (return_kind, so_lag, unit_size, bridge_gaps)
    series = _measured(reader, "etf", ETF_SQL, fund_id, options, measure)
    rows, counts = series.cut(start, end)
    head = EtfFlowsOut(
        fund_id=fund_id,
        return_kind=return_kind,
        so_lag=so_lag,
        unit_size=unit_size,
        start=start,
        end=end,
        rows=[],
        diagnostics={},
    )
    return _respond(head, rows, counts)
