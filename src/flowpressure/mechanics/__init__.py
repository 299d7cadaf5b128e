"""Mechanics layer: rebalancing, index events, buybacks, vol targeting, CTA, dealer gamma."""

from __future__ import annotations

from flowpressure.mechanics._calendar_events import (
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    concat_events,
    make_events,
)
from flowpressure.mechanics.buybacks import (
    BuybackDemand,
    buyback_demand,
    buyback_events,
    buyback_yield,
    rule_10b18_adtv,
)
from flowpressure.mechanics.cta import (
    CtaResult,
    cta_events,
    cta_model,
    trend_exposure,
    trend_signals,
)
from flowpressure.mechanics.gex import (
    GexResult,
    bs_gamma,
    gamma_exposure,
    gex_events,
    gex_profile,
    opex_dates,
)
from flowpressure.mechanics.index_events import (
    demand_from_weights,
    index_demand,
    index_demand_events,
    index_event_window,
    index_rebalance_schedule,
    russell_reconstitution_dates,
    sp500_rebalance_dates,
)
from flowpressure.mechanics.pension import (
    PensionAssumptions,
    PensionEstimate,
    PensionWindow,
    estimate_pension_flows,
    pension_flows,
    two_asset_trade,
)
from flowpressure.mechanics.rebalance import (
    PriceArrays,
    RebalanceCosts,
    RebalanceResult,
    RebalanceRule,
)
from flowpressure.mechanics.rebalance import simulate as simulate_rebalance
from flowpressure.mechanics.vol_target import (
    VolShock,
    exposure_trades,
    realized_vol,
    risk_parity_weights,
    target_exposure,
    vol_shock,
    vol_target_events,
    vol_targeting,
)

__all__ = [
    "BuybackDemand",
    "CtaResult",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "GexResult",
    "PensionAssumptions",
    "PensionEstimate",
    "PensionWindow",
    "PriceArrays",
    "RebalanceCosts",
    "RebalanceResult",
    "RebalanceRule",
    "VolShock",
    "bs_gamma",
    "buyback_demand",
    "buyback_events",
    "buyback_yield",
    "concat_events",
    "cta_events",
    "cta_model",
    "demand_from_weights",
    "estimate_pension_flows",
    "exposure_trades",
    "gamma_exposure",
    "gex_events",
    "gex_profile",
    "index_demand",
    "index_demand_events",
    "index_event_window",
    "index_rebalance_schedule",
    "make_events",
    "opex_dates",
    "pension_flows",
    "realized_vol",
    "risk_parity_weights",
    "rule_10b18_adtv",
    "russell_reconstitution_dates",
    "simulate_rebalance",
    "sp500_rebalance_dates",
    "target_exposure",
    "trend_exposure",
    "trend_signals",
    "two_asset_trade",
    "vol_shock",
    "vol_target_events",
    "vol_targeting",
]
