r"""Flow-driven trading from fund flows and holdings: Coval-Stafford fire sales and Lou FIT.

Funds with extreme outflows must sell what they hold; funds with extreme inflows buy. The
stocks they trade carry price pressure that should revert once the forced trading stops
(Coval and Stafford, 2007). Lou (2012) predicts the same trades from flows alone: each fund
scales its existing positions by its flow.

Inputs are the flows layer's panels: a monthly ``fund`` panel (``fund_id, date, tna,
ret/ret_total``), a quarterly ``holdings`` panel whose ``investor_id`` is the ``fund_id``, and
the daily ``prices`` panel (with ``volume``) of the stocks and of the market.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from flowpressure._errors import ConfigError, DataError
from flowpressure.pressure._common import require, to_polars
from flowpressure.pressure._event_study import EventStudyResult, event_study

__all__ = ["FireSaleResult", "fire_sale_pressure", "fire_sale_study", "quarterly_fund_flows"]


def _quarter(col: str = "date") -> pl.Expr:
    return pl.col(col).dt.year() * 4 + (pl.col(col).dt.month() - 1) // 3


def quarterly_fund_flows(fund: Any, mergers: Any = None) -> pl.DataFrame:
    r"""Each fund's flow over each calendar quarter, as a fraction of its TNA at the start.

    Parameters
    ----------
    fund
        Monthly fund panel (``fund_id, date, tna`` and ``ret_total`` or ``ret``), any frame.
    mergers
        Optional mergers frame, passed to :func:`flowpressure.flows.fund_flows`.

    Returns
    -------
    polars.DataFrame
        ``fund_id, quarter_end`` (the last calendar day of the quarter), ``flow`` (sum of the
        monthly dollar flows), ``tna_start`` (TNA at the end of the previous quarter),
        ``flow_pct`` (``flow / tna_start``; null when the quarter has fewer than three
        monthly flows or no previous quarter-end TNA), ``months``.

    Notes
    -----
    .. math:: f_{i,q} = \frac{\sum_{t \in q} F_{i,t}}{TNA_{i,q-1}}

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> q = quarterly_fund_flows(sample.load("fund"))
    >>> q.columns
    ['fund_id', 'quarter_end', 'flow', 'tna_start', 'flow_pct', 'months']
    """
    from flowpressure.flows import fund_flows

    frame = to_polars(fund)
    require(frame, "fund panel", "fund_id", "date", "tna")
    flows = to_polars(fund_flows(frame, mergers=mergers))
    per_q = (
        flows.with_columns(_q=_quarter())
        .sort("fund_id", "date")
        .group_by("fund_id", "_q", maintain_order=True)
        .agg(
            pl.col("flow").sum().alias("flow"),
            pl.col("flow").is_not_null().sum().alias("months"),
            pl.col("tna").last().alias("_tna_end"),
            pl.col("date").last().alias("_last"),
        )
        .with_columns(
            _prev_q=pl.col("_q").shift(1).over("fund_id"),
            _prev_tna=pl.col("_tna_end").shift(1).over("fund_id"),
        )
    )
    year = pl.col("_q") // 4
    month = (pl.col("_q") % 4) * 3 + 3
    quarter_end = pl.date(year, month, 1).dt.month_end()
    ok = (pl.col("_prev_q") == pl.col("_q") - 1) & (pl.col("months") == 3)
    return per_q.select(
        "fund_id",
        quarter_end.alias("quarter_end"),
        "flow",
        pl.when(ok).then(pl.col("_prev_tna")).otherwise(None).alias("tna_start"),
        pl.when(ok & (pl.col("_prev_tna") > 0))
        .then(pl.col("flow") / pl.col("_prev_tna"))
        .otherwise(None)
        .alias("flow_pct"),
        pl.col("months").cast(pl.Int64),
    )


def fire_sale_pressure(
    fund: Any,
    holdings: Any,
    prices: Any,
    *,
    outflow_quantile: float = 0.1,
    inflow_quantile: float = 0.9,
    adv_window: int = 63,
    psf_inflow: float = 1.0,
    psf_outflow: float = 1.0,
    mergers: Any = None,
) -> pl.DataFrame:
    r"""Per-stock, per-quarter forced trading (Coval-Stafford) and flow-induced trading (Lou).

    Parameters
    ----------
    fund, holdings, prices
        Monthly fund panel, quarterly holdings panel (``investor_id`` = ``fund_id``) and daily
        prices panel with ``volume``.
    outflow_quantile, inflow_quantile
        A fund is in extreme outflow in a quarter when its quarterly ``flow_pct`` is at or
        below this cross-sectional quantile of the quarter (and negative); in extreme inflow
        at or above ``inflow_quantile`` (and positive).
    adv_window
        Sessions of the dollar ADV that scales the pressure (63 ≈ a quarter), ending at the
        last session on or before the quarter end.
    psf_inflow, psf_outflow
        Lou's partial scaling factors: the share of a flow a fund is assumed to trade
        pro rata in its existing positions (1 = all of it).
    mergers
        Optional mergers frame for :func:`flowpressure.flows.fund_flows`.

    Returns
    -------
    polars.DataFrame
        One row per (``asset_id``, ``date`` = quarter end) held: ``forced_sales`` (dollars sold
        by extreme-outflow funds, >= 0), ``forced_buys`` (dollars bought by extreme-inflow
        funds), ``net_forced`` (buys − sales), ``n_sellers``, ``n_buyers``, ``adv_dollars``,
        ``pressure`` (``net_forced`` in days of dollar ADV), ``fit`` (Lou's flow-induced
        trading, a fraction of the funds' holdings), ``fit_dollars``, ``fit_days``.

    Raises
    ------
    ConfigError
        Quantiles not in (0, 1) or out of order, ``adv_window`` < 1, a PSF < 0.
    DataError
        No fund-quarter with a flow matches a holdings report.

    Notes
    -----
    With :math:`\Delta H_{i,j,q}` the dollar trade of fund :math:`i` in stock :math:`j`
    (holdings flow) and :math:`f_{i,q}` its quarterly flow:

    .. math::

        Pressure_{j,q} = \frac{\sum_{i: f_{i,q} \ge f^{hi}_q} \max(0, \Delta H_{i,j,q})
          - \sum_{i: f_{i,q} \le f^{lo}_q} \max(0, -\Delta H_{i,j,q})}{ADV^{\$}_{j,q}},
        \qquad
        FIT_{j,q} = \frac{\sum_i A_{i,j,q-1}\, f_{i,q}\, PSF_i}{\sum_i A_{i,j,q-1}}

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> p = fire_sale_pressure(sample.load("fund"), sample.load("holdings"),
    ...                        sample.load("prices"))
    >>> bool((p["forced_sales"] >= 0).all()), "pressure" in p.columns
    (True, True)
    """
    from flowpressure.data import rolling_adv
    from flowpressure.flows import holdings_flows

    for name, q in (("outflow_quantile", outflow_quantile), ("inflow_quantile", inflow_quantile)):
        if not 0.0 < q < 1.0:
            raise ConfigError(field=name, expected="a quantile in (0, 1)", got=q)
    if outflow_quantile >= inflow_quantile:
        raise ConfigError(
            field="inflow_quantile",
            expected=f"a quantile above outflow_quantile {outflow_quantile}",
            got=inflow_quantile,
        )
    if adv_window < 1:
        raise ConfigError(field="adv_window", expected="sessions >= 1", got=adv_window)
    for name, v in (("psf_inflow", psf_inflow), ("psf_outflow", psf_outflow)):
        if v < 0:
            raise ConfigError(field=name, expected="a scaling factor >= 0", got=v)

    px = to_polars(prices)
    require(px, "prices panel", "asset_id", "date", "close", "volume")
    hold = to_polars(holdings)
    require(hold, "holdings panel", "investor_id", "asset_id", "date", "shares")

    fq = quarterly_fund_flows(fund, mergers).filter(pl.col("flow_pct").is_not_null())
    cut = fq.group_by("quarter_end").agg(
        pl.col("flow_pct").quantile(outflow_quantile, "linear").alias("_lo"),
        pl.col("flow_pct").quantile(inflow_quantile, "linear").alias("_hi"),
    )
    fq = fq.join(cut, on="quarter_end").with_columns(
        _out=(pl.col("flow_pct") <= pl.col("_lo")) & (pl.col("flow_pct") < 0),
        _in=(pl.col("flow_pct") >= pl.col("_hi")) & (pl.col("flow_pct") > 0),
        _q=_quarter("quarter_end"),
    )
    held = set(hold["asset_id"].unique().to_list())
    hf = to_polars(holdings_flows(hold, px.filter(pl.col("asset_id").is_in(sorted(held)))))
    trades = hf.with_columns(_q=_quarter()).join(
        fq.select(pl.col("fund_id").alias("investor_id"), "_q", "flow_pct", "_out", "_in").rename(
            {"flow_pct": "fund_flow_pct"}
        ),
        on=["investor_id", "_q"],
        how="inner",
    )
    if trades.height == 0:
        raise DataError(
            field="investor_id",
            expected="holdings of funds in the fund panel (investor_id = fund_id) in quarters "
            "with a quarterly flow",
        )
    flow = pl.col("flow").fill_null(0.0)
    prev = pl.col("value_prev").fill_null(0.0)
    psf = pl.when(pl.col("fund_flow_pct") >= 0).then(psf_inflow).otherwise(psf_outflow)
    per_stock = (
        trades.group_by("asset_id", "date")
        .agg(
            pl.when(pl.col("_out"))
            .then((-flow).clip(lower_bound=0.0))
            .otherwise(0.0)
            .sum()
            .alias("forced_sales"),
            pl.when(pl.col("_in"))
            .then(flow.clip(lower_bound=0.0))
            .otherwise(0.0)
            .sum()
            .alias("forced_buys"),
            (pl.col("_out") & (flow < 0)).sum().cast(pl.Int64).alias("n_sellers"),
            (pl.col("_in") & (flow > 0)).sum().cast(pl.Int64).alias("n_buyers"),
            (prev * pl.col("fund_flow_pct") * psf).sum().alias("fit_dollars"),
            prev.sum().alias("_held_prev"),
        )
        .with_columns(
            net_forced=pl.col("forced_buys") - pl.col("forced_sales"),
            fit=pl.when(pl.col("_held_prev") > 0)
            .then(pl.col("fit_dollars") / pl.col("_held_prev"))
            .otherwise(None),
        )
        .sort("date", "asset_id")
    )
    adv = (
        rolling_adv(px.filter(pl.col("asset_id").is_in(sorted(held))), adv_window)
        .select("asset_id", pl.col("date").alias("_session"), "adv_dollars")
        .filter(pl.col("adv_dollars").is_not_null())
        .sort("_session")
    )
    out = per_stock.sort("date").join_asof(
        adv,
        left_on="date",
        right_on="_session",
        by="asset_id",
        strategy="backward",
        check_sortedness=False,  # both sides are sorted by date just above
    )
    days = pl.when(pl.col("adv_dollars") > 0)
    return out.select(
        "asset_id",
        "date",
        "forced_sales",
        "forced_buys",
        "net_forced",
        "n_sellers",
        "n_buyers",
        "adv_dollars",
        days.then(pl.col("net_forced") / pl.col("adv_dollars")).otherwise(None).alias("pressure"),
        "fit",
        "fit_dollars",
        days.then(pl.col("fit_dollars") / pl.col("adv_dollars")).otherwise(None).alias("fit_days"),
    ).sort("date", "asset_id")


@dataclass(frozen=True)
class FireSaleResult:
    """The fire-sale pipeline's output.

    Attributes
    ----------
    pressure
        :func:`fire_sale_pressure` for every stock-quarter.
    events
        The high-pressure stock-quarters studied: ``asset_id, quarter_end, date`` (day 0:
        the last session on or before the quarter end), ``pressure``, ``fit``,
        ``forced_sales``.
    study
        The event study of their abnormal returns (day 0 = the quarter's last session).
    summary
        ``events``, ``car_pressure`` (CAR from the window start through day 0: the price
        pressure) and ``car_reversal`` (CAR from day 1 to the window end), each a dict
        from :meth:`EventStudyResult.car`, and ``skipped``.
    """

    pressure: pl.DataFrame
    events: pl.DataFrame
    study: EventStudyResult
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the summary, the CAR path and the events as JSON-ready objects."""
        return {
            "summary": self.summary,
            "path": self.study.path.to_dicts(),
            "events": self.events.to_dicts(),
        }


def fire_sale_study(
    fund: Any,
    holdings: Any,
    prices: Any,
    *,
    market: str = "SPX",
    pressure_quantile: float = 0.1,
    window: tuple[int, int] = (-63, 126),
    estimation: tuple[int, int] = (-315, -64),
    model: Literal["market", "adjusted"] = "market",
    measure: Literal["pressure", "fit"] = "pressure",
    start: dt.date | None = None,
    end: dt.date | None = None,
    **pressure_kwargs: Any,
) -> FireSaleResult:
    r"""Coval-Stafford pipeline: forced sales → high-pressure stocks → their CAR path.

    Stock-quarters whose ``pressure`` (net forced trading in days of ADV) is negative and at
    or below the ``pressure_quantile`` of the quarter's pressures are the fire-sale events;
    day 0 is the last session on or before the quarter end. Price pressure shows as a
    negative CAR up to day 0, the reversal as a positive CAR after it.

    Parameters
    ----------
    fund, holdings, prices
        As for :func:`fire_sale_pressure`; ``prices`` must also hold ``market``.
    market
        ``asset_id`` of the market index in ``prices``.
    pressure_quantile
        Cross-sectional quantile (per quarter) below which a stock is under fire-sale pressure.
    window, estimation
        Event and estimation windows in sessions (default: one quarter before, two after;
        estimation the year before the event window).
    model
        ``"market"`` or ``"adjusted"`` (see :func:`event_study`).
    measure
        Rank stocks by ``"pressure"`` (Coval-Stafford: realised trades of extreme-flow
        funds, in days of ADV) or ``"fit"`` (Lou: trades predicted from flows and
        last quarter's holdings, as a fraction of the funds' holdings).
    start, end
        Only quarters ending in ``[start, end]``.
    **pressure_kwargs
        Passed to :func:`fire_sale_pressure` (quantiles of fund flows, ``adv_window``, PSFs).

    Returns
    -------
    FireSaleResult

    Raises
    ------
    DataError
        No stock-quarter qualifies as a fire sale, or none has full windows in the prices.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> res = fire_sale_study(sample.load("fund"), sample.load("holdings"),
    ...                       sample.load("prices"))
    >>> res.summary["events"] > 0, res.study.path["day"].to_list()[:2]
    (True, [-63, -62])
    """
    if not 0.0 < pressure_quantile < 1.0:
        raise ConfigError(
            field="pressure_quantile", expected="a quantile in (0, 1)", got=pressure_quantile
        )
    if measure not in ("pressure", "fit"):
        raise ConfigError(field="measure", expected="'pressure' or 'fit'", got=measure)
    pressure = fire_sale_pressure(fund, holdings, prices, **pressure_kwargs)
    px = to_polars(prices)
    candidates = pressure.filter(pl.col(measure).is_not_null())
    if start is not None:
        candidates = candidates.filter(pl.col("date") >= start)
    if end is not None:
        candidates = candidates.filter(pl.col("date") <= end)
    cut = candidates.group_by("date").agg(
        pl.col(measure).quantile(pressure_quantile, "linear").alias("_cut")
    )
    chosen = (
        candidates.join(cut, on="date")
        .filter((pl.col(measure) < 0) & (pl.col(measure) <= pl.col("_cut")))
        .select("asset_id", pl.col("date").alias("quarter_end"), "pressure", "fit", "forced_sales")
        .sort("quarter_end", "asset_id")
    )
    if chosen.height == 0:
        raise DataError(
            field=measure,
            expected=f"at least one stock-quarter with negative {measure}",
        )
    sessions = (
        px.filter(pl.col("asset_id") == market).select(pl.col("date").alias("day0")).sort("day0")
    )
    if sessions.height == 0:
        raise DataError(field="market", expected="an asset_id of the prices panel", got=market)
    events = chosen.join_asof(
        sessions, left_on="quarter_end", right_on="day0", strategy="backward"
    ).filter(pl.col("day0").is_not_null())
    events = events.select(
        "asset_id", "quarter_end", pl.col("day0").alias("date"), "pressure", "fit", "forced_sales"
    )
    study = event_study(
        px,
        events.select("asset_id", "date"),
        market=market,
        model=model,
        estimation=estimation,
        window=window,
    )
    w0, w1 = window
    summary: dict[str, Any] = {
        "events": study.events.height,
        "candidates": chosen.height,
        "skipped": dict(study.skipped),
        "car_pressure": study.car(w0, min(0, w1)) if w0 <= 0 else None,
        "car_reversal": study.car(max(1, w0), w1) if w1 >= 1 else None,
        "model": model,
        "measure": measure,
        "window": (w0, w1),
        "pressure_quantile": pressure_quantile,
    }
    return FireSaleResult(pressure=pressure, events=events, study=study, summary=summary)
