"""Mechanics routes: ``/v1/rebalance``, ``/v1/pension``, ``/v1/index-demand``.

Prices are read with bound parameters for the assets a request names; an asset the store
does not hold is a 404 naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query

from flowpressure.service._common import (
    ERRORS,
    NotFoundError,
    Reader,
    clean,
    drop_empty,
    finite,
    memo,
    query,
    reading,
)
from flowpressure.service._models import (
    MAX_DATE,
    MAX_ID,
    MAX_MONEY,
    MIN_DATE,
    AssumptionsOut,
    IndexDemandOut,
    IndexDemandRow,
    IsoDate,
    PensionOut,
    PensionWindowOut,
    PensionWindowsOut,
    RangeOut,
    RebalanceIn,
    RebalanceOut,
    RebalanceSummaryOut,
    TradeOut,
    ValuePoint,
)

if TYPE_CHECKING:
    import polars as pl

    from flowpressure.data import Store

router = APIRouter(prefix="/v1", tags=["mechanics"], responses=ERRORS)

PRICES_SQL = (
    "SELECT asset_id, date, close, volume, split_factor, dividend FROM prices "
    "WHERE list_contains(?, asset_id) ORDER BY asset_id, date"
)
EVENTS_SQL = "SELECT * EXCLUDE (_ingest_id) FROM index_events ORDER BY effective_date, asset_id"
EVENT_PRICES_SQL = (
    "SELECT asset_id, date, close, volume, split_factor, dividend FROM prices "
    "WHERE asset_id IN (SELECT asset_id FROM index_events "
    "UNION SELECT index_id FROM index_events WHERE index_id IS NOT NULL) "
    "ORDER BY asset_id, date"
)
PRICE_OPTIONAL = ("volume", "split_factor", "dividend")
_FREQ = {"monthly": "M", "quarterly": "Q", "annual": "Y"}


def _prices(store: Store, ids: Sequence[str], fields: Sequence[str]) -> pl.DataFrame:
    """Prices of ``ids``; an id without rows is a 404 naming its field."""
    frame = query(store, "prices", PRICES_SQL, [list(ids)])
    have = set(frame["asset_id"].unique().to_list())
    for asset, field in zip(ids, fields, strict=True):
        if asset not in have:
            raise NotFoundError(
                f"field {field!r}: unknown asset_id {asset!r}: the stored prices have no rows "
                "for it (GET /v1/entities?kind=prices lists them)",
                field=field,
                expected="an asset_id of the stored prices",
                got=asset,
            )
    return drop_empty(frame, PRICE_OPTIONAL)


@router.post("/rebalance", response_model=RebalanceOut, summary="Simulate a rebalancing rule")
def rebalance(reader: Reader, body: RebalanceIn) -> RebalanceOut:
    """Simulate a rebalancing policy on the stored prices.

    Trades happen at the close of each rebalance date at that close; costs are ``costs_bps``
    of every dollar traded; ``turnover`` is ``Σ|trade dollars| / 2 / mean value`` per year.
    For two assets the trade after returns is ``W w_e w_b (r_b - r_e)``.
    """
    from flowpressure.mechanics import RebalanceCosts, RebalanceRule, simulate_rebalance

    spec = body.rule
    extra: dict[str, Any] = {
        "band": spec.band,
        "band_kind": spec.band_kind,
        "floor": spec.floor,
        "to": spec.to,
        "trade": spec.trade,
    }
    if spec.kind == "threshold":
        rule = RebalanceRule("D", None, **extra)
    elif spec.kind == "every":
        rule = RebalanceRule("D", spec.every, **extra)
    else:
        rule = RebalanceRule(_FREQ[spec.frequency], None, **extra)
    fields = [f"assets[{i}]" for i in range(len(body.assets))]
    with reading(reader) as store:
        prices = _prices(store, body.assets, fields)
    result = simulate_rebalance(
        prices,
        dict(zip(body.assets, body.targets, strict=True)),
        rule,
        RebalanceCosts(bps=body.costs_bps),
        body.initial,
        record="full",
        start=body.start,
        end=body.end,
    )
    s = result.summary()
    trades = result.trades()
    shown = trades.head(body.max_trades)
    assert result.values is not None
    dates = [d.astype(object) for d in result.dates]
    return RebalanceOut(
        summary=RebalanceSummaryOut(
            start=s["start"],
            end=s["end"],
            days=s["days"],
            rule=str(s["rule"]),
            initial=s["initial"],
            final_value=finite(s["final_value"]),
            total_return=finite(s["total_return"]),
            n_rebalances=s["n_rebalances"],
            turnover=finite(s["turnover"]),
            traded=finite(s["traded"]),
            costs=finite(s["costs"]),
            dividends=finite(s["dividends"]),
            mean_value=finite(s["mean_value"]),
            targets=s["targets"],
            final_weights=clean(s.get("final_weights", {})),
        ),
        rebalance_dates=s.get("rebalance_dates", []),
        values=[
            ValuePoint(date=d, value=finite(v))
            for d, v in zip(dates, result.values[:, 0].tolist(), strict=True)
        ],
        trades=[
            TradeOut(
                date=r["date"],
                asset_id=r["asset_id"],
                kind=r["kind"],
                shares=finite(r["shares"]),
                price=finite(r["price"]),
                dollars=finite(r["dollars"]),
                cost=finite(r["cost"]),
            )
            for r in shown.iter_rows(named=True)
        ],
        trades_total=trades.height,
        trades_truncated=shown.height < trades.height,
        max_trades=body.max_trades,
    )


def _range(w: Any, asset: str) -> RangeOut:
    return RangeOut(
        low=finite(w.low[asset]), central=finite(w.central[asset]), high=finite(w.high[asset])
    )


def _window(w: Any, equity: str, bond: str) -> PensionWindowOut:
    return PensionWindowOut(
        start=w.start,
        end=w.end,
        as_of=w.as_of,
        equity_return=finite(w.returns[equity]),
        bond_return=finite(w.returns[bond]),
        equity_weight_before_trade=finite(w.drifted_weights[equity]),
        drift=finite(w.drift),
        mechanical_equity_trade=finite(w.trade[equity]),
        equity_trade=_range(w, equity),
        bond_trade=_range(w, bond),
        days=list(w.days),
        equity_per_day=finite(w.per_day[equity]),
    )


AssetId = Annotated[str, Query(min_length=1, max_length=MAX_ID)]


@router.get("/pension", response_model=PensionOut, summary="Pension rebalancing flows")
def pension(
    reader: Reader,
    aum: Annotated[
        float,
        Query(gt=0, le=MAX_MONEY, allow_inf_nan=False, description="Mandate value W (currency)."),
    ],
    equity_id: Annotated[
        str, Query(min_length=1, max_length=MAX_ID, description="asset_id of equities.")
    ] = "SPX",
    bond_id: Annotated[
        str, Query(min_length=1, max_length=MAX_ID, description="asset_id of bonds.")
    ] = "AGG_TR",
    equity_weight: Annotated[
        float, Query(gt=0, lt=1, allow_inf_nan=False, description="Target equity weight.")
    ] = 0.6,
    as_of: Annotated[
        IsoDate | None,
        Query(
            ge=MIN_DATE,
            le=MAX_DATE,
            description="Date of the latest returns (default: the data's last date).",
        ),
    ] = None,
    days: Annotated[
        int, Query(ge=1, le=21, description="Sessions the central trade is spread over.")
    ] = 5,
) -> PensionOut:
    """Estimate what a fixed-mix mandate must trade at the next month, quarter and year end.

    For a window with returns ``r_e, r_b`` since the last period end, the mechanical trade of
    equities is ``W w_e w_b (r_b - r_e)``; the stated assumptions scale it into a
    low/central/high range (negative = sell equities).
    """
    from flowpressure import ConfigError
    from flowpressure.mechanics import PensionAssumptions, estimate_pension_flows

    if equity_id == bond_id:
        raise ConfigError(field="bond_id", expected="an asset other than equity_id", got=bond_id)

    def read(store: Store) -> pl.DataFrame:
        return _prices(store, [equity_id, bond_id], ["equity_id", "bond_id"])

    def compute(prices: pl.DataFrame) -> PensionOut:
        assumptions = PensionAssumptions()
        est = estimate_pension_flows(
            prices,
            {equity_id: equity_weight, bond_id: 1.0 - equity_weight},
            aum,
            as_of=as_of,
            assumptions=assumptions,
            days=days,
        )
        windows = {name: _window(w, equity_id, bond_id) for name, w in est.windows.items()}
        return PensionOut(
            as_of=est.as_of,
            aum=aum,
            equity_weight=equity_weight,
            equity_id=equity_id,
            bond_id=bond_id,
            assumptions=AssumptionsOut(
                share_rebalancing=list(assumptions.share_rebalancing),
                band=list(assumptions.band),
                traded_early=list(assumptions.traded_early),
            ),
            windows=PensionWindowsOut(**windows),
        )

    key = ("pension", aum, equity_id, bond_id, equity_weight, as_of, days)
    return memo(reader, key, read, compute)


@router.get("/index-demand", response_model=IndexDemandOut, summary="Index-event demand")
def index_demand(
    reader: Reader,
    indexed_assets: Annotated[
        float | None,
        Query(
            gt=0,
            le=MAX_MONEY,
            allow_inf_nan=False,
            description="Dollars indexed to the benchmark, A (default: passive share x float "
            "cap of each event).",
        ),
    ] = None,
    adv_window: Annotated[
        int, Query(ge=1, le=260, description="ADV sessions, ending the day before announcement.")
    ] = 20,
    index_id: Annotated[
        str | None, Query(min_length=1, max_length=MAX_ID, description="Keep one index's events.")
    ] = None,
) -> IndexDemandOut:
    """Passive demand per stored index event, in dollars, shares and days of ADV.

    ``D_i = A (w_new - w_old (1 + r_i) / (1 + r_index))`` traded at the close before the
    effective date; ``shares = D_i / P_i``; ``days_of_adv = |shares| / ADV``.
    """
    from flowpressure.mechanics import index_demand as compute

    def read(store: Store) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        events = query(store, "index_events", EVENTS_SQL)
        prices = query(store, "prices", EVENT_PRICES_SQL) if store.has_kind("prices") else None
        return events, prices

    def demand(data: tuple[pl.DataFrame, pl.DataFrame | None]) -> IndexDemandOut:
        events, prices = data
        if index_id is not None and (
            "index_id" not in events.columns or index_id not in set(events["index_id"].to_list())
        ):
            raise NotFoundError(
                f"unknown index_id {index_id!r}: no stored index event has it",
                field="index_id",
                expected="an index_id of the stored index_events",
                got=index_id,
            )
        events = events.drop(
            [c for c in ("float_mcap", "passive_share") if events[c].null_count() == events.height]
        )
        if "index_id" in events.columns and (events["index_id"] == "").all():
            events = events.drop("index_id")
        if prices is not None:
            prices = drop_empty(prices, PRICE_OPTIONAL)
        out = compute(
            events, prices, indexed_assets=indexed_assets, index_id=index_id, adv_window=adv_window
        )
        rows = [
            IndexDemandRow(
                index_id=r.get("index_id") or None,
                asset_id=r["asset_id"],
                kind=r["kind"],
                announce_date=r["announce_date"],
                effective_date=r["effective_date"],
                trade_date=r["trade_date"],
                w_old=r["w_old"],
                w_new=r["w_new"],
                indexed_assets=finite(r["indexed_assets"]),
                r_asset=finite(r["r_asset"]),
                r_index=finite(r["r_index"]),
                dollars=finite(r["demand"]),
                price=finite(r["price"]),
                shares=finite(r["demand_shares"]),
                adv_shares=finite(r["adv_shares"]),
                days_of_adv=finite(r["days_of_adv"]),
                notes=r["notes"],
            )
            for r in out.iter_rows(named=True)
        ]
        net = sum(r.dollars for r in rows if r.dollars is not None)
        return IndexDemandOut(
            indexed_assets=indexed_assets,
            adv_window=adv_window,
            index_id=index_id,
            rows=rows,
            net_dollars=finite(net),
        )

    return memo(reader, ("index-demand", indexed_assets, adv_window, index_id), read, demand)
