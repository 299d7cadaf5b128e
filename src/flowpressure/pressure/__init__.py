"""Pressure layer: absorption, impact, the inelastic multiplier, event studies, flow calendar.

A flow matters when it is large against what the market can absorb. This layer answers how
big a flow is against liquidity (:func:`liquidity`, :func:`days_of_volume`), what price move
it implies (:func:`sqrt_impact`, :func:`mixed_fund_multiplier`), when it hits
(:func:`flow_calendar`) and whether past flows of its kind moved prices
(:func:`event_study`, :func:`fire_sale_study`).
"""

from __future__ import annotations

from flowpressure.pressure._calendar import CALENDAR_COLUMNS, flow_calendar
from flowpressure.pressure._event_study import EventStudyResult, event_study
from flowpressure.pressure._fire_sales import (
    FireSaleResult,
    fire_sale_pressure,
    fire_sale_study,
    quarterly_fund_flows,
)
from flowpressure.pressure._impact import (
    DEFAULT_Y,
    ImpactEstimate,
    KyleLambda,
    kyle_lambda,
    linear_impact,
    sqrt_impact,
)
from flowpressure.pressure._liquidity import (
    amihud_illiquidity,
    days_of_volume,
    execution_days,
    liquidity,
    participation_rate,
)
from flowpressure.pressure._multiplier import (
    CascadeRound,
    CascadeStep,
    MultiplierResult,
    inelastic_price_change,
    mandate_zeta,
    mixed_fund_multiplier,
    multiplier_from_zeta,
)
from flowpressure.pressure._signals import index_divergence, month_end_volume, rebalance_signal

__all__ = [
    "CALENDAR_COLUMNS",
    "CascadeRound",
    "CascadeStep",
    "DEFAULT_Y",
    "EventStudyResult",
    "FireSaleResult",
    "ImpactEstimate",
    "KyleLambda",
    "MultiplierResult",
    "amihud_illiquidity",
    "days_of_volume",
    "event_study",
    "execution_days",
    "fire_sale_pressure",
    "fire_sale_study",
    "flow_calendar",
    "index_divergence",
    "inelastic_price_change",
    "kyle_lambda",
    "linear_impact",
    "liquidity",
    "mandate_zeta",
    "mixed_fund_multiplier",
    "month_end_volume",
    "multiplier_from_zeta",
    "participation_rate",
    "quarterly_fund_flows",
    "rebalance_signal",
    "sqrt_impact",
]
