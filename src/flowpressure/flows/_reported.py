r"""Reported fund flows (N-PORT, 24F-2NT, N-CEN) beside the flows TNA and returns imply.

A fund reports its gross flows: sales, reinvested distributions and redemptions per month
(N-PORT), per fiscal year (24F-2NT) or per year and authorized participant (N-CEN). The net
reported flow is

.. math:: F^{rep}_t = \text{sales}_t + \text{reinvestments}_t - \text{redemptions}_t

and, where a ``fund`` panel (TNA and return) covers the same fund, the flow implied by the
universal formula :math:`F_t = TNA_t - TNA_{t-1}(1 + R_t)` (:func:`fund_flows`), summed over
the fund panel's periods that fall in the reported period, is set beside it with the gap
:math:`F^{rep} - F^{impl}`.
"""

from __future__ import annotations

from typing import Any, Literal

import narwhals as nw
from narwhals.typing import IntoFrameT

from flowpressure._errors import DataError
from flowpressure.data._frames import require, to_lazy, to_native
from flowpressure.flows._fund import fund_flows

__all__ = ["REPORTED_NOTES", "reported_flows"]

_KEYS = ["fund_id", "period_start", "date"]
#: Tolerance (currency units) when a file's own net_flow is checked against its gross flows.
_NET_TOL = 0.005

#: Why a reported row has no implied flow (``implied_note``).
REPORTED_NOTES = {
    "no_fund_rows": "the fund panel has no period of this fund inside the reported period",
    "birth_or_gap": "a fund-panel period inside it has no flow (the fund's first row or a gap)",
}


def _first_key(lf: nw.LazyFrame[Any]) -> dict[str, Any]:
    row = lf.sort(_KEYS).head(1).collect().rows(named=True)[0]
    return {k: row[k] for k in _KEYS}


def _count(lf: nw.LazyFrame[Any]) -> int:
    return int(lf.select(nw.len()).collect().item())


def reported_flows(
    frame: IntoFrameT,
    fund: Any = None,
    *,
    returns: Any = None,
    timing: Literal["end", "start"] = "end",
    validate_input: bool = True,
) -> IntoFrameT:
    r"""Net and gross reported flows per fund and period, and the implied flow beside them.

    Parameters
    ----------
    frame
        A ``fund_flows_reported`` panel (``fund_id, period_start, date, sales, redemptions``
        [, ``reinvestments``, ``net_flow``, ``redemption_credits``, ``tna``, ``source``, …]),
        any frame narwhals accepts. Redemptions are positive; money in currency units.
    fund
        Optional ``fund`` panel (``fund_id, date, tna, ret_total|ret``) of the same backend
        (the same DuckDB connection for relations). Its flows (:func:`fund_flows`, ``timing``)
        whose dates fall in ``[period_start, date]`` are summed into ``implied_flow``.
    returns
        Optional ``fund_returns`` panel (``fund_id, date, ret_total`` [, ``series_id``]) of
        the same backend, e.g. N-PORT's class returns. Rows join on the reported ``fund_id``
        and ``date`` through ``series_id`` when the panel has it (the classes of a series),
        else through ``fund_id``: ``ret_total`` is the mean over the classes, with
        ``ret_classes`` (how many) and ``ret_spread`` (largest minus smallest class return)
        beside it, so a mean over unlike classes is visible. Where the row also has ``tna``
        (the period-end net assets) the start-of-period assets the end-timing identity implies
        and the flow as a fraction of them follow:

        .. math:: TNA_{t-1} = \frac{TNA_t - F^{rep}_t}{1 + R_t}, \qquad
                  f_t = F^{rep}_t / TNA_{t-1}

        (``tna_start``, ``flow_pct``).
    timing
        Fund-flow timing of the implied flow: ``"end"`` or ``"start"``.
    validate_input
        Validate ``frame`` as ``fund_flows_reported`` (and ``fund`` as ``fund``) first.

    Returns
    -------
    frame
        The same kind of frame, one row per key in key order, with every input column
        (``reinvestments`` stays null where the form reports none; the sums count it as 0),
        ``gross_flow`` (sales + reinvestments + redemptions), ``net_flow``; ``net_sales_form`` where
        ``redemption_credits`` is present (24F-2NT Item 5(v)); with ``fund``: ``implied_flow``,
        ``implied_periods``, ``flow_gap`` and ``implied_note`` (see :data:`REPORTED_NOTES`).

    Raises
    ------
    DataError
        A ``period_start`` after its ``date``, or a file's ``net_flow`` that is not sales +
        reinvestments − redemptions (key and both values named).

    Notes
    -----
    .. math:: F^{rep} = S + D - R, \qquad \text{net sales}_{24F} = \max(0, S - R - C),
              \qquad \text{gap} = F^{rep} - \sum_{t \in [p_0, p_1]} F^{impl}_t

    with :math:`S` sales, :math:`D` reinvestments, :math:`R` redemptions, :math:`C` earlier
    years' redemption credits.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> rep = pl.DataFrame({"fund_id": ["A"], "period_start": [dt.date(2024, 2, 1)],
    ...                     "date": [dt.date(2024, 2, 29)], "sales": [5e6],
    ...                     "reinvestments": [1e6], "redemptions": [4e6]})
    >>> fund = pl.DataFrame({"fund_id": ["A", "A"],
    ...                      "date": [dt.date(2024, 1, 31), dt.date(2024, 2, 29)],
    ...                      "tna": [500e6, 503e6], "ret": [0.01, 0.002]})
    >>> out = reported_flows(rep, fund)
    >>> out.select("net_flow", "implied_flow", "flow_gap").rows()
    [(2000000.0, 2000000.0, 0.0)]
    """
    if validate_input:
        from flowpressure.data import validate

        frame = validate(frame, "fund_flows_reported")
    lf, eager = to_lazy(frame)
    present = require(lf, "fund_flows_reported", *_KEYS, "sales", "redemptions")
    backwards = lf.filter(nw.col("period_start") > nw.col("date"))
    n_back = _count(backwards)
    if n_back:
        raise DataError(
            field="period_start",
            key=_first_key(backwards),
            expected="a period start on or before the period end (date)",
            others=n_back - 1,
        )
    if "reinvestments" not in present:
        lf = lf.with_columns(reinvestments=nw.lit(None, nw.Float64()))
    reinvest = nw.col("reinvestments").fill_null(0.0)
    computed = nw.col("sales") + reinvest - nw.col("redemptions")
    if "net_flow" in present:
        wrong = lf.filter(
            ~nw.col("net_flow").is_null()
            & ((nw.col("net_flow") - computed).abs() > _NET_TOL + 1e-12 * computed.abs())
        )
        n_wrong = _count(wrong)
        if n_wrong:
            row = wrong.sort(_KEYS).with_columns(_fp_net=computed).head(1).collect()
            first = row.rows(named=True)[0]
            raise DataError(
                field="net_flow",
                key={k: first[k] for k in _KEYS},
                expected=f"sales + reinvestments - redemptions = {first['_fp_net']!r}",
                got=first["net_flow"],
                others=n_wrong - 1,
            )
    lf = lf.with_columns(
        gross_flow=nw.col("sales") + reinvest + nw.col("redemptions"),
        net_flow=computed,
    )
    if "redemption_credits" in present:
        form = nw.col("sales") - nw.col("redemptions") - nw.col("redemption_credits")
        lf = lf.with_columns(
            net_sales_form=nw.when(nw.col("redemption_credits").is_null())
            .then(nw.lit(None, nw.Float64()))
            .otherwise(nw.when(form > 0).then(form).otherwise(nw.lit(0.0)))
        )
    if returns is not None:
        lf = _with_returns(lf, returns, "tna" in present, validate_input)
    if fund is not None:
        lf = _with_implied(lf, fund, timing, validate_input)
    return to_native(lf.sort(_KEYS), eager)  # type: ignore[no-any-return]


def _with_implied(
    lf: nw.LazyFrame[Any], fund: Any, timing: Literal["end", "start"], validate_input: bool
) -> nw.LazyFrame[Any]:
    measured = fund_flows(fund, timing=timing, freq=None, validate_input=validate_input)
    flows, _ = to_lazy(measured)
    flows = flows.select(
        "fund_id", nw.col("date").alias("_fp_fund_date"), nw.col("flow").alias("_fp_flow")
    )
    spans = lf.select(_KEYS).join(flows, on="fund_id", how="inner")
    spans = spans.filter(
        (nw.col("_fp_fund_date") >= nw.col("period_start"))
        & (nw.col("_fp_fund_date") <= nw.col("date"))
    )
    spans = spans.with_columns(_fp_null=nw.col("_fp_flow").is_null().cast(nw.Int64()))
    summed = spans.group_by(_KEYS).agg(
        nw.col("_fp_flow").sum().alias("_fp_sum"),
        nw.len().alias("implied_periods"),
        nw.col("_fp_null").sum().alias("_fp_missing"),
    )
    out = lf.join(summed, on=_KEYS, how="left")
    missing = nw.col("_fp_missing") > 0
    none = nw.col("implied_periods").is_null()
    implied = nw.when(none | missing).then(nw.lit(None, nw.Float64())).otherwise(nw.col("_fp_sum"))
    return (
        out.with_columns(
            implied_flow=implied,
            implied_periods=nw.col("implied_periods").fill_null(0).cast(nw.Int64()),
            implied_note=nw.when(none)
            .then(nw.lit("no_fund_rows"))
            .otherwise(nw.when(missing).then(nw.lit("birth_or_gap")).otherwise(nw.lit(None))),
        )
        .with_columns(flow_gap=nw.col("net_flow") - nw.col("implied_flow"))
        .drop("_fp_sum", "_fp_missing")
    )


def _with_returns(
    lf: nw.LazyFrame[Any], returns: Any, has_tna: bool, validate_input: bool
) -> nw.LazyFrame[Any]:
    if validate_input:
        from flowpressure.data import validate

        returns = validate(returns, "fund_returns")
    rets, _ = to_lazy(returns)
    names = require(rets, "fund_returns", "fund_id", "date", "ret_total")
    by = "series_id" if "series_id" in names else "fund_id"
    rets = rets.filter(~nw.col(by).is_null())
    per = (
        rets.group_by(by, "date")
        .agg(
            nw.col("ret_total").mean().alias("ret_total"),
            nw.len().alias("ret_classes"),
            nw.col("ret_total").max().alias("_fp_hi"),
            nw.col("ret_total").min().alias("_fp_lo"),
        )
        .with_columns(ret_spread=nw.col("_fp_hi") - nw.col("_fp_lo"))
        .drop("_fp_hi", "_fp_lo")
    )
    if by != "fund_id":
        per = per.rename({by: "fund_id"})
    out = lf.join(per, on=["fund_id", "date"], how="left").with_columns(
        ret_classes=nw.col("ret_classes").fill_null(0).cast(nw.Int64())
    )
    if has_tna:
        start = (nw.col("tna") - nw.col("net_flow")) / (1 + nw.col("ret_total"))
        out = out.with_columns(tna_start=start).with_columns(
            flow_pct=nw.col("net_flow") / nw.col("tna_start")
        )
    return out
