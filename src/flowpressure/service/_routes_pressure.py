"""Pressure routes: ``/v1/multiplier``, ``/v1/price-change``, ``/v1/impact``, ``/v1/calendar``.

The first three compute from their parameters alone; the calendar reads the stored prices,
buybacks, index events and options known on ``as_of`` (no look-ahead).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query

from flowpressure.service._common import (
    CALC_ERRORS,
    ERRORS,
    NotFoundError,
    Reader,
    clean,
    drop_empty,
    finite,
    memo,
    query,
)
from flowpressure.service._models import (
    MAX_DATE,
    MAX_ID,
    MAX_MONEY,
    MIN_DATE,
    CalendarEvent,
    CalendarOut,
    ImpactOut,
    IsoDate,
    MultiplierOut,
    PriceChangeOut,
    PriceChangePoint,
)

if TYPE_CHECKING:
    import polars as pl

    from flowpressure.data import Store

router = APIRouter(prefix="/v1", tags=["pressure"])

#: Largest share count or volume a request may carry.
MAX_COUNT = 1e15

# What the calendar reads: everything known on as_of (bound as a parameter).
CAL_SQL = {
    "prices": "SELECT asset_id, date, close, volume, split_factor, dividend FROM prices "
    "WHERE date <= ? ORDER BY asset_id, date",
    "buybacks": "SELECT * EXCLUDE (_ingest_id) FROM buybacks WHERE date <= ? "
    "ORDER BY asset_id, date",
    "index_events": "SELECT * EXCLUDE (_ingest_id) FROM index_events WHERE announce_date <= ? "
    "ORDER BY effective_date, asset_id",
    "options": "SELECT * EXCLUDE (_ingest_id) FROM options "
    "WHERE date = (SELECT max(date) FROM options WHERE date <= ?)",
}
#: Columns of each kind the calendar may read that can be null on every row.
CAL_OPTIONAL = {
    "prices": ("volume", "split_factor", "dividend"),
    "buybacks": ("issuance", "shares_outstanding", "market_cap", "earnings_date"),
    "index_events": ("float_mcap", "passive_share"),
    "options": ("multiplier", "underlying_price", "rate"),
}
LAST_DATE_SQL = {
    "prices": "SELECT max(date) FROM prices",
    "fund": "SELECT max(date) FROM fund",
    "etf": "SELECT max(date) FROM etf",
    "buybacks": "SELECT max(date) FROM buybacks",
    "options": "SELECT max(date) FROM options",
    "index_events": "SELECT max(announce_date) FROM index_events",
}


def _overflow(field: str) -> Any:
    from flowpressure import ConfigError

    return ConfigError(
        field=field, expected="inputs whose result fits a double (smaller magnitudes)"
    )


@router.get(
    "/multiplier",
    response_model=MultiplierOut,
    responses=CALC_ERRORS,
    summary="Inelastic-markets multiplier",
)
def multiplier(
    inflow: Annotated[
        float,
        Query(
            ge=-MAX_MONEY,
            le=MAX_MONEY,
            allow_inf_nan=False,
            description="Dollars moved into the mixed fund (negative: out).",
        ),
    ],
    theta: Annotated[
        float, Query(gt=0, lt=1, allow_inf_nan=False, description="Equity mandate in (0, 1).")
    ],
    shares: Annotated[
        float,
        Query(gt=0, le=MAX_COUNT, allow_inf_nan=False, description="Shares outstanding."),
    ],
    price: Annotated[
        float, Query(gt=0, le=1e9, allow_inf_nan=False, description="Share price before.")
    ],
    bonds: Annotated[
        float | None,
        Query(
            ge=-MAX_MONEY,
            le=MAX_MONEY,
            allow_inf_nan=False,
            description="Fund's bonds before (default: shares x price x (1 - theta) / theta).",
        ),
    ] = None,
    rounds: Annotated[
        int, Query(ge=1, le=200, description="Feedback rounds of the cascade to report.")
    ] = 10,
) -> MultiplierOut:
    """Gabaix-Koijen mixed fund: ``P' = θ(B + f) / ((1 - θ) N)``, multiplier ``M = 1/ζ``.

    ``ζ = 1 - θ``; the equity inflow ``θ f`` raises the market cap by ``θ f / ζ``.
    """
    from flowpressure.pressure import mixed_fund_multiplier

    try:
        res = mixed_fund_multiplier(inflow, theta, shares, price, bonds, max_rounds=rounds)
    except (OverflowError, ZeroDivisionError):
        raise _overflow("theta") from None
    return MultiplierOut.model_validate(clean(res.to_dict()))


@router.get(
    "/price-change",
    response_model=PriceChangeOut,
    responses=CALC_ERRORS,
    summary="Price change of a flow, p = f / zeta",
)
def price_change(
    zeta: Annotated[
        float,
        Query(gt=0, le=1e6, allow_inf_nan=False, description="Demand elasticity (about 0.2)."),
    ],
    elastic_zeta: Annotated[
        float, Query(gt=0, le=1e6, allow_inf_nan=False, description="Elastic comparison.")
    ] = 2.0,
    flow_min: Annotated[
        float,
        Query(ge=-1, le=1, allow_inf_nan=False, description="Smallest flow (fraction of value)."),
    ] = -0.05,
    flow_max: Annotated[
        float,
        Query(ge=-1, le=1, allow_inf_nan=False, description="Largest flow (fraction of value)."),
    ] = 0.05,
    points: Annotated[int, Query(ge=2, le=1001, description="Flows on the grid.")] = 41,
) -> PriceChangeOut:
    """``p = f / ζ`` on an even grid of flows, for an inelastic and an elastic market."""
    from flowpressure import ConfigError
    from flowpressure.pressure import inelastic_price_change

    if flow_max <= flow_min:
        raise ConfigError(
            field="flow_max", expected=f"a flow above flow_min {flow_min}", got=flow_max
        )
    step = (flow_max - flow_min) / (points - 1)
    grid = [flow_min + i * step for i in range(points - 1)] + [flow_max]
    try:
        out = [
            PriceChangePoint(
                flow=f,
                price_change=finite(inelastic_price_change(f, zeta)),
                price_change_elastic=finite(inelastic_price_change(f, elastic_zeta)),
            )
            for f in grid
        ]
    except (OverflowError, ZeroDivisionError):
        raise _overflow("zeta") from None
    return PriceChangeOut(zeta=zeta, elastic_zeta=elastic_zeta, points=out)


@router.get(
    "/impact", response_model=ImpactOut, responses=CALC_ERRORS, summary="Square-root impact"
)
def impact(
    quantity: Annotated[
        float,
        Query(
            ge=-MAX_MONEY,
            le=MAX_MONEY,
            allow_inf_nan=False,
            description="Signed flow (+ buy), shares or dollars.",
        ),
    ],
    adv: Annotated[
        float,
        Query(gt=0, le=MAX_MONEY, allow_inf_nan=False, description="ADV in the unit of quantity."),
    ],
    sigma: Annotated[
        float, Query(gt=0, le=10, allow_inf_nan=False, description="Daily volatility (0.02).")
    ],
    y: Annotated[
        float, Query(gt=0, le=100, allow_inf_nan=False, description="Prefactor Y (about 1).")
    ] = 1.0,
    days: Annotated[
        float, Query(gt=0, le=10_000, allow_inf_nan=False, description="Sessions executed over.")
    ] = 1.0,
) -> ImpactOut:
    """Square-root law: ``Δp/p = sign(Q) Y σ sqrt(|Q| / ADV)``, σ a daily volatility."""
    from flowpressure.pressure import sqrt_impact

    est = sqrt_impact(quantity, adv, sigma, y, days)
    return ImpactOut.model_validate(clean(est.to_dict()))


def _last_date(store: Store) -> dt.date:
    for kind, sql in LAST_DATE_SQL.items():
        if store.has_kind(kind):
            value = store.con.sql(sql).fetchall()[0][0]
            if isinstance(value, dt.date):
                return value
    raise NotFoundError(
        "the store holds no dated panel to take as_of from; give as_of or ingest prices",
        field="as_of",
        expected="a stored panel with dates, or as_of",
    )


@router.get("/calendar", response_model=CalendarOut, responses=ERRORS, summary="Flow calendar")
def calendar(
    reader: Reader,
    horizon: Annotated[
        int, Query(ge=1, le=731, description="Calendar days after as_of to list.")
    ] = 30,
    as_of: Annotated[
        IsoDate | None,
        Query(
            ge=MIN_DATE,
            le=MAX_DATE,
            description="Use data known on this date (default: the data's last date).",
        ),
    ] = None,
    rebalance_aum: Annotated[
        float | None,
        Query(
            gt=0,
            le=MAX_MONEY,
            allow_inf_nan=False,
            description="Dollars in a fixed equity/bond mix: sizes the month-end windows.",
        ),
    ] = None,
    equity_id: Annotated[
        str, Query(min_length=1, max_length=MAX_ID, description="Equity leg of the mix.")
    ] = "SPX",
    bond_id: Annotated[
        str, Query(min_length=1, max_length=MAX_ID, description="Bond leg of the mix.")
    ] = "AGG_TR",
) -> CalendarOut:
    """Known-date mechanical flows after ``as_of``: rebalancing windows, expiries, index
    events, buyback blackouts and open windows, sized where the stored data allow.

    Month-end rebalancing of ``W`` in a mix ``(w_e, w_b)``: ``W w_e w_b (r_b - r_e)``.
    """
    from flowpressure.pressure import flow_calendar

    def read(store: Store) -> tuple[dt.date, dict[str, pl.DataFrame]]:
        day = as_of if as_of is not None else _last_date(store)
        frames: dict[str, pl.DataFrame] = {}
        for kind, sql in CAL_SQL.items():
            if store.has_kind(kind):
                frame = query(store, kind, sql, [day])
                if frame.height:
                    frames[kind] = drop_empty(frame, CAL_OPTIONAL[kind])
        return day, frames

    def compute(data: tuple[dt.date, dict[str, pl.DataFrame]]) -> CalendarOut:
        day, frames = data
        if "index_events" in frames and (frames["index_events"]["index_id"] == "").all():
            frames["index_events"] = frames["index_events"].drop("index_id")
        start = day + dt.timedelta(days=1)
        end = day + dt.timedelta(days=horizon)
        result = flow_calendar(
            start,
            end,
            prices=frames.get("prices"),
            buybacks=frames.get("buybacks"),
            index_events=frames.get("index_events"),
            options=frames.get("options"),
            rebalance_aum=rebalance_aum,
            equity=equity_id,
            bond=bond_id,
        )
        events = [CalendarEvent.model_validate(clean(r)) for r in result.iter_rows(named=True)]
        return CalendarOut(as_of=day, horizon=horizon, start=start, end=end, events=events)

    key = ("calendar", as_of, horizon, rebalance_aum, equity_id, bond_id)
    return memo(reader, key, read, compute)
