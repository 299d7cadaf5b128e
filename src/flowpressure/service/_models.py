"""Request and response models of the HTTP service (pydantic), the source of its OpenAPI schema.

Every number a response carries that can be missing or non-finite is ``float | None``: JSON
has no NaN or infinity, so those become ``null``. Money is in currency units, rates and
weights are fractions (0.05 = 5 %), dates are ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, model_validator

#: Longest id (fund_id, asset_id, index_id) a request may carry.
MAX_ID = 128
#: Largest absolute amount of money a request may carry (keeps results inside a double).
MAX_MONEY = 1e18
#: Most assets a rebalancing request may hold.
MAX_ASSETS = 50
#: Range of an ``as_of`` date (exchange calendars are built around it).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """Accept a date as text only in ISO form (pydantic alone also reads ``0`` as 1970-01-01)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


#: A date given as ``YYYY-MM-DD`` (the OpenAPI ``format: date``), nothing else.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Num = float | None


class Model(BaseModel):
    """Base of every model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# errors -----------------------------------------------------------------------------------
class ErrorOut(Model):
    """An error: the message names the field and what was expected."""

    detail: str = Field(description="What went wrong, naming the field and what was expected.")
    field: str | None = Field(None, description="The parameter or column at fault, if known.")


# store ------------------------------------------------------------------------------------
class HealthOut(Model):
    """The service is up; the panel kinds its store holds."""

    status: Literal["ok"] = Field(description="Always 'ok' when the service answers.")
    version: str = Field(description="flowpressure version.")
    kinds: list[str] = Field(description="Panel kinds stored (fund, etf, prices, ...).")


class KindInfoOut(Model):
    """What the store holds of one panel kind."""

    rows: int = Field(description="Rows stored.")
    entities: int = Field(description="Distinct entities (funds, assets, investors).")
    first_date: dt.date | None = Field(description="Earliest date (None when empty).")
    last_date: dt.date | None = Field(description="Latest date (None when empty).")
    key: list[str] = Field(description="Columns that identify a row.")


class InfoOut(RootModel[dict[str, KindInfoOut]]):
    """Per stored kind: rows, entities, date range and key (no file paths, no sources)."""


class EntitiesOut(Model):
    """Sorted distinct ids of one stored kind."""

    kind: Literal["fund", "etf", "prices"] = Field(description="The panel kind.")
    ids: list[str] = Field(description="fund_id (fund, etf) or asset_id (prices), sorted.")


# flows ------------------------------------------------------------------------------------
class FundFlowRow(Model):
    """One period of a fund: TNA, returns and the flow they imply."""

    date: dt.date = Field(description="Period end as reported.")
    tna: float = Field(description="Total net assets at the period end (currency).")
    ret: Num = Field(description="Price-only return of the period (fraction).")
    ret_total: Num = Field(description="Total return with distributions (fraction), if stored.")
    flow: Num = Field(description="Flow (currency): TNA_t - TNA_{t-1}(1 + R_t) for end timing.")
    flow_pct: Num = Field(description="flow / TNA_{t-1} (fraction).")
    flow_note: str | None = Field(description="Why there is no flow: birth, gap, merger.")


class FundFlowsOut(Model):
    """Flows of one fund over its whole history, cut to [start, end]."""

    fund_id: str = Field(description="The fund.")
    timing: Literal["end", "start"] = Field(description="Flow timing used.")
    start: dt.date | None = Field(description="First date asked for (None: from the first).")
    end: dt.date | None = Field(description="Last date asked for (None: to the last).")
    rows: list[FundFlowRow] = Field(description="One row per period in the window, by date.")
    diagnostics: dict[str, int] = Field(description="Rows without a flow in the window, by note.")


class EtfFlowRow(Model):
    """One session of an ETF: shares, NAV and the creations or redemptions they imply."""

    date: dt.date = Field(description="Session date.")
    shares_outstanding: float = Field(description="Shares outstanding as reported.")
    nav: float = Field(description="Net asset value per share.")
    distribution: Num = Field(description="Distribution per share paid on this ex-date.")
    aum: Num = Field(description="Assets under management (currency), if stored.")
    flow: Num = Field(description="Flow (currency): (SO_t - SO_{t-1}) NAV_t.")
    flow_pct: Num = Field(description="flow / (SO_{t-1} NAV_{t-1}) (fraction).")
    creation_units: Num = Field(description="Change in shares / unit_size (with unit_size).")
    flow_aum: Num = Field(description="Flow implied by AUM and return (cross-check).")
    flow_diff: Num = Field(description="flow_aum - flow.")
    flow_note: str | None = Field(
        description="birth, gap, so_lag_tail, stale_shares or fractional_units."
    )


class EtfFlowsOut(Model):
    """Creations and redemptions of one ETF, cut to [start, end]."""

    fund_id: str = Field(description="The ETF.")
    return_kind: Literal["price", "total"] = Field(description="Return of the AUM check.")
    so_lag: int = Field(description="Sessions the shares are reported late.")
    unit_size: Num = Field(description="Shares per creation unit, if given.")
    start: dt.date | None = Field(description="First date asked for.")
    end: dt.date | None = Field(description="Last date asked for.")
    rows: list[EtfFlowRow] = Field(description="One row per session in the window, by date.")
    diagnostics: dict[str, int] = Field(description="Rows flagged in the window, by note.")


# rebalancing ------------------------------------------------------------------------------
class RuleIn(Model):
    """When the portfolio is checked and what it trades."""

    kind: Literal["calendar", "threshold", "every"] = Field(
        "calendar",
        description="calendar: every period end; threshold: whenever a weight leaves its "
        "band (checked daily); every: every N trading days.",
    )
    frequency: Literal["monthly", "quarterly", "annual"] = Field(
        "monthly", description="Period of a calendar rule."
    )
    every: int | None = Field(None, ge=1, le=10_000, description="N of an 'every' rule.")
    band: float | None = Field(
        None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Band width (0.05 = 5 points); required by threshold, optional otherwise "
        "(then only weights outside it trade).",
    )
    band_kind: Literal["absolute", "relative", "hybrid"] = Field(
        "absolute", description="|w - w*| > b, |w/w* - 1| > b, or |w - w*| > max(b w*, floor)."
    )
    floor: float = Field(
        0.0, ge=0, le=1, allow_inf_nan=False, description="Floor of a hybrid band."
    )
    to: Literal["target", "edge"] = Field(
        "target", description="Trade back to the target or to the band's edge (needs a band)."
    )
    trade: Literal["all", "outside"] = Field(
        "all", description="Trade every asset, or only those outside their band (needs a band)."
    )

    @model_validator(mode="after")
    def _combination(self) -> RuleIn:
        if self.kind == "threshold" and self.band is None:
            raise ValueError("rule.band: a threshold rule needs a band width > 0")
        if self.kind == "every" and self.every is None:
            raise ValueError("rule.every: an 'every' rule needs every >= 1 trading days")
        if self.band is None and (self.to != "target" or self.trade != "all"):
            raise ValueError("rule.band: 'to' and 'trade' only apply to a rule with a band")
        return self


class RebalanceIn(Model):
    """A rebalancing policy to simulate on the stored prices."""

    assets: list[Id] = Field(
        min_length=1, max_length=MAX_ASSETS, description="asset_id of each holding, in order."
    )
    targets: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(
        min_length=1,
        max_length=MAX_ASSETS,
        description="Target weight of each asset (same order), summing to 1.",
    )
    rule: RuleIn = Field(
        default_factory=lambda: RuleIn.model_validate({}), description="The rebalancing rule."
    )
    costs_bps: float = Field(
        0.0, ge=0, le=10_000, allow_inf_nan=False, description="Cost per dollar traded, in bps."
    )
    start: IsoDate | None = Field(None, description="First date to simulate (default: first).")
    end: IsoDate | None = Field(None, description="Last date to simulate (default: last).")
    initial: float = Field(
        1_000_000.0,
        gt=0,
        le=MAX_MONEY,
        allow_inf_nan=False,
        description="Money invested at the first close.",
    )
    max_trades: int = Field(
        1_000, ge=0, le=10_000, description="Most trades to return (the first ones, by date)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> RebalanceIn:
        if len(self.targets) != len(self.assets):
            raise ValueError("targets: give one weight per asset, in the order of assets")
        if len(set(self.assets)) != len(self.assets):
            raise ValueError("assets: each asset_id once")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end: a date on or after start")
        return self


class RebalanceSummaryOut(Model):
    """Headline numbers of the simulated portfolio."""

    start: dt.date = Field(description="First simulated date.")
    end: dt.date = Field(description="Last simulated date.")
    days: int = Field(description="Sessions simulated.")
    rule: str = Field(description="What the rule does, in words.")
    initial: float = Field(description="Money invested at the first close.")
    final_value: Num = Field(description="Value at the last close.")
    total_return: Num = Field(description="final_value / initial - 1.")
    n_rebalances: int = Field(description="Rebalances made (the initial investment excluded).")
    turnover: Num = Field(description="Sum |trade dollars| / 2 / mean value, per year.")
    traded: Num = Field(description="Dollars traded (initial investment excluded).")
    costs: Num = Field(description="Costs paid.")
    dividends: Num = Field(description="Dividends received.")
    mean_value: Num = Field(description="Mean daily value.")
    targets: dict[str, float] = Field(description="Target weight per asset.")
    final_weights: dict[str, Num] = Field(description="Weights at the last close.")


class ValuePoint(Model):
    """Portfolio value at one close, after its trades."""

    date: dt.date = Field(description="Session date.")
    value: Num = Field(description="Portfolio value (currency).")


class TradeOut(Model):
    """One trade of the simulation."""

    date: dt.date = Field(description="Session of the trade (at its close).")
    asset_id: str = Field(description="Asset traded.")
    kind: Literal["initial", "flow", "rebalance"] = Field(description="Why it traded.")
    shares: Num = Field(description="Signed shares (+ buy).")
    price: Num = Field(description="The close traded at.")
    dollars: Num = Field(description="Signed dollars (+ buy).")
    cost: Num = Field(description="Cost of the trade.")


class RebalanceOut(Model):
    """Result of a rebalancing simulation: summary, daily values and the first trades."""

    summary: RebalanceSummaryOut = Field(description="Headline numbers.")
    rebalance_dates: list[dt.date] = Field(description="Dates the portfolio rebalanced.")
    values: list[ValuePoint] = Field(description="Value at every simulated close.")
    trades: list[TradeOut] = Field(description="The first max_trades trades, by date.")
    trades_total: int = Field(description="Trades in the simulation.")
    trades_truncated: bool = Field(description="Whether trades holds fewer than trades_total.")
    max_trades: int = Field(description="The cap applied to trades.")


# pension ----------------------------------------------------------------------------------
class RangeOut(Model):
    """Low, central and high estimates of one trade (currency, + = buy)."""

    low: Num = Field(description="Low estimate.")
    central: Num = Field(description="Central estimate.")
    high: Num = Field(description="High estimate.")


class PensionWindowOut(Model):
    """The trade a mandate needs at one window's end."""

    start: dt.date = Field(description="Close of the last rebalance (previous period end).")
    end: dt.date = Field(description="The window's end (next period end).")
    as_of: dt.date = Field(description="Date of the latest returns used.")
    equity_return: Num = Field(description="Equity total return since start.")
    bond_return: Num = Field(description="Bond total return since start.")
    equity_weight_before_trade: Num = Field(description="Equity weight after the drift.")
    drift: Num = Field(description="Largest distance of a weight from its target.")
    mechanical_equity_trade: Num = Field(description="Full rebalancing trade of equities.")
    equity_trade: RangeOut = Field(description="Equity trade range (negative = sell).")
    bond_trade: RangeOut = Field(description="Bond trade range.")
    days: list[dt.date] = Field(description="Sessions the central trade is spread over.")
    equity_per_day: Num = Field(description="Central equity trade per session.")


class PensionWindowsOut(Model):
    """The month, quarter and year-end windows."""

    month: PensionWindowOut = Field(description="Next month end.")
    quarter: PensionWindowOut = Field(description="Next quarter end.")
    year: PensionWindowOut = Field(description="Next year end.")


class AssumptionsOut(Model):
    """Stated assumptions behind the ranges, each (low, central, high)."""

    share_rebalancing: list[float] = Field(description="Share of assets that rebalances.")
    band: list[float] = Field(description="No trade while every weight is within this.")
    traded_early: list[float] = Field(description="Share of the trade done before the window.")


class PensionOut(Model):
    """Estimated pension rebalancing flows at the next month, quarter and year end."""

    as_of: dt.date = Field(description="Date of the latest returns (the data's last date).")
    aum: float = Field(description="Mandate value W at its last rebalance.")
    equity_weight: float = Field(description="Target equity weight.")
    equity_id: str = Field(description="asset_id of the equity leg.")
    bond_id: str = Field(description="asset_id of the bond leg.")
    assumptions: AssumptionsOut = Field(description="Assumptions behind the ranges.")
    windows: PensionWindowsOut = Field(description="Estimates per window.")


# index demand -----------------------------------------------------------------------------
class IndexDemandRow(Model):
    """Passive demand of one index event."""

    index_id: str | None = Field(description="Index, when stored.")
    asset_id: str = Field(description="Asset added, deleted or reweighted.")
    kind: str = Field(description="addition, deletion or reweight.")
    announce_date: dt.date = Field(description="Announcement date.")
    effective_date: dt.date = Field(description="Effective date.")
    trade_date: dt.date = Field(description="Close index funds trade at (before effective).")
    w_old: float = Field(description="Weight before.")
    w_new: float = Field(description="Weight after.")
    indexed_assets: Num = Field(description="Dollars indexed to the benchmark, A.")
    r_asset: Num = Field(description="Asset return from announcement to trade close.")
    r_index: Num = Field(description="Index return over the same dates.")
    dollars: Num = Field(description="Demand A(w_new - w_old(1+r_i)/(1+r_index)), + = buy.")
    price: Num = Field(description="Close at the trade date.")
    shares: Num = Field(description="Demand in shares (dollars / price).")
    adv_shares: Num = Field(description="Average daily share volume before the announcement.")
    days_of_adv: Num = Field(description="|shares| / ADV.")
    notes: str = Field(description="How the row was computed.")


class IndexDemandOut(Model):
    """Demand of the stored index events against liquidity."""

    indexed_assets: Num = Field(description="A as asked (None: passive share x float cap).")
    adv_window: int = Field(description="Sessions of the ADV window.")
    index_id: str | None = Field(description="Index kept, if asked.")
    rows: list[IndexDemandRow] = Field(description="One row per event, by trade date.")
    net_dollars: Num = Field(description="Sum of dollars.")


# pressure ---------------------------------------------------------------------------------
class CascadeStepOut(Model):
    """One stage of tracing the dollar: inflow, split, demand, price, market cap."""

    step: int = Field(description="Stage number.")
    stage: str = Field(description="Stage name.")
    amount: Num = Field(description="Amount at this stage.")
    text: str = Field(description="The stage in words.")


class CascadeRoundOut(Model):
    """One round of the feedback loop."""

    round: int = Field(description="Round number.")
    demand: Num = Field(description="New equity demand this round.")
    price: Num = Field(description="Price after the round.")
    market_cap: Num = Field(description="Market cap after the round.")
    cumulative_gain: Num = Field(description="Market cap gained so far.")


class MultiplierOut(Model):
    """The Gabaix-Koijen mixed-fund example solved exactly (MultiplierResult.to_dict())."""

    inflow: Num = Field(description="Dollars moved into the mixed fund.")
    theta: Num = Field(description="Equity mandate.")
    shares: Num = Field(description="Shares outstanding.")
    price: Num = Field(description="Price before.")
    bonds: Num = Field(description="Fund's bonds before.")
    zeta: Num = Field(description="Demand elasticity 1 - theta.")
    multiplier: Num = Field(description="1 / zeta.")
    equity_inflow: Num = Field(description="theta x inflow.")
    bond_inflow: Num = Field(description="(1 - theta) x inflow.")
    flow_fraction: Num = Field(description="Equity inflow / market value before.")
    price_after: Num = Field(description="Price after.")
    price_change: Num = Field(description="Price change (fraction).")
    market_cap_before: Num = Field(description="Market cap before.")
    market_cap_after: Num = Field(description="Market cap after.")
    market_cap_change: Num = Field(description="Market cap change.")
    fund_value_before: Num = Field(description="Mixed fund value before.")
    fund_value_after: Num = Field(description="Mixed fund value after.")
    bonds_after: Num = Field(description="Fund's bonds after.")
    steps: list[CascadeStepOut] = Field(description="The five-stage trace.")
    rounds: list[CascadeRoundOut] = Field(description="Feedback rounds.")


class PriceChangePoint(Model):
    """Price change of one flow at the two elasticities."""

    flow: float = Field(description="Flow as a fraction of market value.")
    price_change: Num = Field(description="f / zeta.")
    price_change_elastic: Num = Field(description="f / elastic_zeta.")


class PriceChangeOut(Model):
    """p = f / zeta over a grid of flows, inelastic against elastic."""

    zeta: float = Field(description="Inelastic demand elasticity.")
    elastic_zeta: float = Field(description="Elastic comparison.")
    points: list[PriceChangePoint] = Field(description="One point per flow, ascending.")


class ImpactOut(Model):
    """Square-root-law impact of a flow and the inputs behind it."""

    model: str = Field(description="'sqrt'.")
    quantity: float = Field(description="Signed flow (+ buy), in the unit of adv.")
    adv: Num = Field(description="Average daily volume.")
    sigma: Num = Field(description="Daily volatility.")
    y: Num = Field(description="Prefactor Y.")
    lam: Num = Field(description="Linear impact (None for the square-root law).")
    days: float = Field(description="Sessions executed over.")
    days_of_adv: Num = Field(description="|Q| / ADV.")
    participation: Num = Field(description="|Q| / (ADV x days).")
    impact: Num = Field(description="sign(Q) Y sigma sqrt(|Q|/ADV), a fraction.")
    impact_bps: Num = Field(description="impact in basis points.")
    side: str = Field(description="buy, sell or none.")


class CalendarEvent(Model):
    """One known-date mechanical flow."""

    date: dt.date = Field(description="Date of the event (trade close or window end).")
    family: str = Field(description="month_end, quarter_end, opex, index_event, buyback, ...")
    asset_id: str | None = Field(description="Asset concerned.")
    dollars: Num = Field(description="Size in currency (+ = buying), when sized.")
    shares: Num = Field(description="Size in shares, when known.")
    days_of_adv: Num = Field(description="Size in days of ADV, when known.")
    notes: str | None = Field(description="How it was sized, or why not.")
    window_start: dt.date | None = Field(description="First session of the window.")
    window_end: dt.date | None = Field(description="Last session of the window.")
    status: Literal["sized", "unsized"] = Field(description="Whether dollars is known.")


class CalendarOut(Model):
    """Mechanical flows from the day after as_of to as_of + horizon days."""

    as_of: dt.date = Field(description="Data used up to this date (default: the last date).")
    horizon: int = Field(description="Calendar days after as_of.")
    start: dt.date = Field(description="First date listed (as_of + 1 day).")
    end: dt.date = Field(description="Last date listed.")
    events: list[CalendarEvent] = Field(description="Events by date, family and asset.")
