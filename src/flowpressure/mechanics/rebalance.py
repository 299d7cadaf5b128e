r"""Rebalancing simulator: calendar, threshold and cash-flow rebalancing, one portfolio or many.

:func:`simulate` runs a rebalancing policy (:class:`RebalanceRule`, :class:`RebalanceCosts`)
on real prices for one set of target weights or a matrix of many; the portfolios are
simulated together in one compiled pass, so a sweep of 10,000 target sets costs about as much
as one pass over the data.

Conventions (DESIGN.md "Contract conventions"):

- Trades happen at the close of the rebalance date, at that close. Shares are fractional.
  There is no cash unless a cash asset (a constant price of 1, say) is among the targets.
- The first date invests ``initial`` at the targets at its close, without cost; it is not a
  rebalance and not counted in ``n_rebalances``. A contribution dated on the first date is
  added to it.
- A calendar rule trades at the last session of each month, quarter or year of the exchange
  calendar (also on the data's last row if that is a period end); ``every=n`` trades on rows
  ``n, 2n, …`` of the data.
- A band is breached when :math:`|w - w^*| > h - 10^{-12}`: a weight on the edge is outside.
  A rebalance that would move no asset by more than :math:`10^{-12}` of the value is skipped.
- Prices may carry ``split_factor`` (2.0 for 2-for-1, multiplied over (t-1, t]) and
  ``dividend`` (cash per share, paid on the ex-date to the holders of the previous close):
  splits change share counts, dividends wait as cash until the next rebalance or flow
  (``dividends="cash"``) or buy more of the paying asset at once (``"reinvest"``). Without
  them ``close`` is read as a total-return price.
- Order within a date: dividends, then the dated flow (steered toward the underweight assets
  first, see :func:`~flowpressure.mechanics._rebalance_steps.steer`), then the rule is
  checked on the weights after the flow, and only what is still out of line trades.
- Costs: ``bps`` of every dollar traded (flows included) and ``fixed`` per rebalance, paid by
  selling (no cash): after a rebalance the portfolio is worth :math:`V - K` at its target
  weights, so the trade dollars of an event sum to minus its costs. Taxes are on realised
  gains at average cost with losses carried forward, reported and deducted only on request.
- ``turnover`` is :math:`\sum |\text{trade dollars}| / 2 / \bar V` per year (252 sessions),
  with :math:`\bar V` the mean daily value; rebalance and flow trades count, the initial
  investment does not.
- Rounding dust (a trade under :math:`10^{-12}` of the value) is not traded; it stays as cash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.mechanics._rebalance_data import (
    PriceArrays,
    check_rows,
    flow_array,
    unit_prices,
)
from flowpressure.mechanics._rebalance_rules import (
    RebalanceCosts,
    RebalanceRule,
    cost_rates,
    half_widths,
    parse_rule,
    parse_targets,
)

__all__ = ["PriceArrays", "RebalanceCosts", "RebalanceResult", "RebalanceRule", "simulate"]

F64 = NDArray[np.float64]
Record = Literal["auto", "summary", "values", "full"]

#: Sessions per year for ``turnover``.
SESSIONS_PER_YEAR = 252
#: Largest number of (date, portfolio, asset) weights ``record="full"`` keeps.
MAX_FULL_CELLS = 20_000_000

_KINDS = ("initial", "flow", "rebalance")


def _c(array: Any) -> F64:
    return np.require(array, dtype=np.float64, requirements=["C", "W", "A"])


def _kernel() -> Callable[..., Any]:
    """Return the compiled kernel (imported on first use: numba loads its disk cache then)."""
    from flowpressure.mechanics._rebalance_kernels import run

    return run


@dataclass(frozen=True, eq=False)
class RebalanceResult:
    """What :func:`simulate` returns. Arrays are indexed by portfolio (the rows of targets).

    Attributes
    ----------
    dates : (T,) datetime64[D]
        Simulated dates.
    assets
        Asset ids, the column order of ``targets`` and ``weights``.
    targets : (P, N) float64
        Target weights, one row per portfolio.
    final_value, traded, turnover, costs, taxes, realized_gains, dividends, flows, mean_value
        Per portfolio: value at the last close; dollars traded (initial investment
        excluded); turnover per year; proportional plus fixed costs paid; tax on realised
        gains (paid only with ``deduct_taxes``); realised gains; dividends received;
        contributions less withdrawals applied; mean daily value.
    n_rebalances : (P,) int64
        Rebalances made (the initial investment and flow-only dates are not counted).
    values : (T, P) float64 or None
        Value at each close after its trades (``record="values"`` or ``"full"``).
    weights : (T, P, N) float64 or None
        Weights at each close after its trades (``record="full"``).
    rebalanced : (T, P) bool or None
        Whether the portfolio rebalanced at that close (``record="values"`` or ``"full"``).
    diagnostics
        Counts of what was filled or skipped: ``filled_prices`` (missing closes carried
        forward on dates where nothing trades), ``events``, ``record``, ``rule``.
    """

    dates: NDArray[np.datetime64]
    assets: tuple[str, ...]
    targets: F64
    initial: float
    final_value: F64
    n_rebalances: NDArray[np.int64]
    traded: F64
    turnover: F64
    costs: F64
    taxes: F64
    realized_gains: F64
    dividends: F64
    flows: F64
    mean_value: F64
    values: F64 | None
    weights: F64 | None
    rebalanced: NDArray[np.bool_] | None
    diagnostics: dict[str, Any]
    trade_log: F64 = field(repr=False)
    split_cum: F64 = field(repr=False)

    @property
    def n_portfolios(self) -> int:
        """Number of portfolios simulated."""
        return int(self.targets.shape[0])

    def _portfolio(self, portfolio: int) -> int:
        if not 0 <= portfolio < self.n_portfolios:
            raise ConfigError(
                field="portfolio",
                expected=f"an index in [0, {self.n_portfolios - 1}]",
                got=portfolio,
            )
        return portfolio

    def rebalance_dates(self, portfolio: int = 0) -> list[dt.date]:
        """Dates on which ``portfolio`` rebalanced (needs ``record="values"`` or ``"full"``)."""
        p = self._portfolio(portfolio)
        if self.rebalanced is None:
            raise ConfigError(
                field="record",
                expected="record='values' or 'full' to keep rebalance dates",
                got=self.diagnostics.get("record"),
            )
        return [d.astype(object) for d in self.dates[self.rebalanced[:, p]]]

    def trades(self, backend: Literal["polars", "pandas"] = "polars") -> Any:
        """Every trade as a long frame (needs ``record="full"``).

        Columns: ``portfolio, date, asset_id, kind`` (``initial``, ``flow``, ``rebalance``),
        ``shares`` (signed, in shares of that date, after splits), ``price`` (the close),
        ``dollars`` (signed: + buy), ``cost`` (proportional cost plus the trade's share of
        the fixed cost, by size) and ``realized_gain``.
        """
        import polars as pl

        if self.diagnostics.get("record") != "full":
            raise ConfigError(
                field="record",
                expected="record='full' to keep the trades",
                got=self.diagnostics.get("record"),
            )
        log = self.trade_log
        t = log[:, 0].astype(np.int64)
        i = log[:, 2].astype(np.int64)
        factor = self.split_cum[t, i]
        frame = pl.DataFrame(
            {
                "portfolio": log[:, 1].astype(np.int64),
                "date": self.dates[t],
                "asset_id": np.array(self.assets, dtype=object)[i].astype(str),
                "kind": np.array(_KINDS, dtype=object)[log[:, 3].astype(np.int64)].astype(str),
                "shares": log[:, 4] * factor,
                "price": log[:, 5] / (log[:, 4] * factor),
                "dollars": log[:, 5],
                "cost": log[:, 6],
                "realized_gain": log[:, 7],
            }
        ).with_columns(pl.col("date").cast(pl.Date))
        return frame.to_pandas() if backend == "pandas" else frame

    def summary(self, portfolio: int = 0) -> dict[str, Any]:
        """Return the headline numbers of one portfolio, ready for JSON.

        Keys: ``start, end, days, initial, final_value, total_return, n_rebalances,
        turnover, traded, costs, taxes, realized_gains, dividends, flows, mean_value,
        targets`` and, when recorded, ``rebalance_dates`` and ``final_weights``.
        """
        p = self._portfolio(portfolio)
        out: dict[str, Any] = {
            "start": self.dates[0].astype(object),
            "end": self.dates[-1].astype(object),
            "days": len(self.dates),
            "rule": self.diagnostics.get("rule"),
            "initial": self.initial,
            "final_value": float(self.final_value[p]),
            "total_return": float(self.final_value[p] / (self.initial + self.flows[p]) - 1.0),
            "n_rebalances": int(self.n_rebalances[p]),
            "turnover": float(self.turnover[p]),
            "traded": float(self.traded[p]),
            "costs": float(self.costs[p]),
            "taxes": float(self.taxes[p]),
            "realized_gains": float(self.realized_gains[p]),
            "dividends": float(self.dividends[p]),
            "flows": float(self.flows[p]),
            "mean_value": float(self.mean_value[p]),
            "targets": dict(zip(self.assets, self.targets[p].tolist(), strict=True)),
        }
        if self.rebalanced is not None:
            out["rebalance_dates"] = self.rebalance_dates(p)
        if self.weights is not None:
            out["final_weights"] = dict(zip(self.assets, self.weights[-1, p].tolist(), strict=True))
        return out


def simulate(
    prices: Any,
    targets: Any,
    rule: RebalanceRule | str = "monthly",
    costs: RebalanceCosts | None = None,
    initial: float = 1_000_000.0,
    *,
    flows: Any = None,
    dividends: Literal["cash", "reinvest"] = "cash",
    allow_short: bool = False,
    record: Record = "auto",
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    calendar: str | None = "XNYS",
) -> RebalanceResult:
    r"""Simulate a rebalancing policy on prices, for one or many sets of target weights.

    Parameters
    ----------
    prices
        Long prices panel (``asset_id, date, close`` [, ``split_factor``, ``dividend``]) in
        any frame narwhals accepts, or :class:`PriceArrays` pivoted once for many calls.
    targets
        ``{asset_id: weight}`` (one portfolio), ``{asset_id: [weights]}`` or a wide frame
        (one column per asset, one row per portfolio). Each row sums to 1.
    rule
        A :class:`RebalanceRule`, or ``"monthly"``, ``"quarterly"``, ``"annual"``,
        ``"daily"``.
    costs
        :class:`RebalanceCosts`; none by default.
    initial
        Money invested at the first close, in currency units.
    flows
        Dated contributions (+) and withdrawals (-): ``{date: amount}`` or a frame with
        ``date`` and ``flow``; the same for every portfolio.
    dividends
        ``"cash"`` (held until the next rebalance or flow) or ``"reinvest"`` (at once).
    allow_short
        Accept negative target weights.
    record
        ``"summary"`` (per-portfolio numbers only), ``"values"`` (plus daily values and
        rebalance flags), ``"full"`` (plus daily weights and every trade); ``"auto"`` is
        ``"full"`` for one portfolio and ``"summary"`` for a sweep.
    start, end
        Simulate only these dates (inclusive).
    calendar
        Exchange calendar of the period ends, or ``None`` for the data's own dates.

    Returns
    -------
    RebalanceResult

    Raises
    ------
    ConfigError
        Targets that do not sum to 1, negative without ``allow_short``, or naming an asset
        without prices; a band <= 0; an unknown rule, dividend mode or record.
    DataError
        A price missing on the first date or a rebalance date (or a period end without a
        row); a flow on a date without prices; a value driven to zero or below.

    Notes
    -----
    Between events each asset's units are constant; at a rebalance with destination
    weights :math:`d` (the targets, or the nearest weights inside the bands) the holdings
    become

    .. math:: h'_i = d_i (V - K), \qquad K = F + \sum_i c_i |h'_i - h_i| \; (+\ \text{tax})

    For two assets the trade after returns :math:`r_e, r_b` from target is
    :math:`W w_e w_b (r_b - r_e)` (DESIGN.md).

    Examples
    --------
    60/40 with $1m, equities +20 %, bonds flat: the month end sells $48,000 of equities.

    >>> import polars as pl, datetime as dt
    >>> days = [dt.date(2024, 1, 30), dt.date(2024, 1, 31), dt.date(2024, 2, 1)]
    >>> prices = pl.DataFrame({"asset_id": ["EQ"] * 3 + ["BOND"] * 3, "date": days * 2,
    ...                        "close": [100.0, 120.0, 120.0, 100.0, 100.0, 100.0]})
    >>> res = simulate(prices, {"EQ": 0.6, "BOND": 0.4}, "monthly")
    >>> res.n_rebalances.tolist(), res.rebalance_dates()
    ([1], [datetime.date(2024, 1, 31)])
    >>> res.trades().filter(kind="rebalance")["dollars"].round(6).to_list()
    [-48000.0, 48000.0]
    """
    the_rule = parse_rule(rule)
    the_costs = costs if costs is not None else RebalanceCosts()
    if dividends not in ("cash", "reinvest"):
        raise ConfigError(field="dividends", expected="cash or reinvest", got=dividends)
    if record not in ("auto", "summary", "values", "full"):
        raise ConfigError(field="record", expected="auto, summary, values or full", got=record)
    if not (np.isfinite(initial) and initial > 0):
        raise ConfigError(field="initial", expected="an amount > 0", got=initial)
    if isinstance(prices, PriceArrays):
        assets, matrix = parse_targets(targets, prices.assets, allow_short)
        panel = prices
    else:
        assets, matrix = parse_targets(targets, None, allow_short)
        try:
            panel = PriceArrays.from_frame(prices, assets)
        except DataError as exc:
            if exc.field != "asset_id":
                raise
            raise ConfigError(
                field="targets",
                key=exc.key,
                expected="an asset_id with rows in the prices panel",
                others=exc.others,
            ) from None
    pa = panel.select(assets, start, end)
    half = half_widths(the_rule, assets, matrix)
    rates = cost_rates(the_costs, assets)
    check = check_rows(pa.dates, the_rule.schedule, the_rule.every, calendar)
    flow = flow_array(flows, pa.dates)
    px, div, split_cum, filled = unit_prices(pa, check | (flow != 0.0))
    n_t, n = px.shape
    n_p = matrix.shape[0]
    mode = ("full" if n_p == 1 else "summary") if record == "auto" else record
    if mode == "full" and n_t * n_p * n > MAX_FULL_CELLS:
        raise ConfigError(
            field="record",
            expected=f"'summary' or 'values' for {n_p} portfolios x {n_t} dates x {n} assets "
            "(record='full' keeps every daily weight)",
            got=record,
        )
    has_band = the_rule.band is not None
    # daily band rules test the band in a tight loop; sparse checks are events
    scan = has_band and 8 * int(check.sum()) > n_t
    busy = flow != 0.0
    if div is not None:
        busy |= (div != 0.0).any(axis=1)
    if not scan:
        busy |= check
    busy[0] = True
    events = np.flatnonzero(busy).astype(np.int64)
    # one compiled signature: writable C-ordered arrays of fixed dtypes
    summary, status, values, flags, weights, log, n_log = _kernel()(
        _c(px),
        _c(div if div is not None else np.zeros((0, n))),
        events,
        check,
        _c(flow),
        _c(matrix),
        _c(half),
        has_band,
        scan,
        the_rule.to == "edge",
        the_rule.trade == "outside",
        _c(rates),
        float(the_costs.fixed),
        float(the_costs.tax_rate),
        bool(the_costs.deduct_taxes),
        dividends == "reinvest",
        float(initial),
        {"summary": 0, "values": 1, "full": 2}[mode],
    )
    broke = np.flatnonzero(status[:, 0] >= 0)
    if broke.size:
        p = int(broke[0])
        raise DataError(
            field="value",
            key={"portfolio": p, "date": pa.dates[int(status[p, 0])].astype(object)},
            expected="a portfolio value > 0 (a withdrawal or the costs would exhaust it)",
            got=float(status[p, 1]),
            others=broke.size - 1,
        )
    mean_value = summary[:, 8] / n_t
    years = max(n_t - 1, 1) / SESSIONS_PER_YEAR
    keep = mode != "summary"
    return RebalanceResult(
        dates=pa.dates,
        assets=tuple(assets),
        targets=matrix,
        initial=float(initial),
        final_value=summary[:, 0].copy(),
        n_rebalances=summary[:, 1].astype(np.int64),
        traded=summary[:, 2].copy(),
        turnover=summary[:, 2] / 2.0 / mean_value / years,
        costs=summary[:, 3].copy(),
        taxes=summary[:, 4].copy(),
        realized_gains=summary[:, 5].copy(),
        dividends=summary[:, 6].copy(),
        flows=summary[:, 7].copy(),
        mean_value=mean_value,
        values=values.T if keep else None,
        weights=weights.transpose(1, 0, 2) if mode == "full" else None,
        rebalanced=(flags.T & 1).astype(np.bool_) if keep else None,
        diagnostics={
            "filled_prices": filled,
            "events": int(events.size),
            "scan": bool(scan),
            "record": mode,
            "rule": the_rule.describe(),
            "calendar": calendar,
        },
        trade_log=log[:n_log].copy(),
        split_cum=split_cum if split_cum is not None else np.ones_like(px),
    )
