"""Holdings flows: investor × asset trades at report dates, from share counts, splits and prices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
import numpy as np
from narwhals.typing import IntoFrameT

from flowpressure.data._dates import as_date
from flowpressure.data._frames import require, to_lazy, to_native
from flowpressure.flows._common import Freq, step_number

__all__ = ["holdings_flows", "portfolio_flows"]

_NULL = nw.lit(None, dtype=nw.Float64)


def holdings_flows(
    holdings: IntoFrameT,
    prices: Any,
    *,
    freq: Freq = "Q",
    calendar: str = "XNYS",
    validate_input: bool = True,
) -> IntoFrameT:
    r"""Flows of each investor into each asset between consecutive reports.

    Parameters
    ----------
    holdings
        Holdings panel (``investor_id, asset_id, date, shares``; 13F columns ``put_call`` and
        ``sh_prn`` allowed), any frame narwhals accepts.
    prices
        Prices panel (``asset_id, date, close``, optional ``split_factor``), same backend as
        ``holdings``. A report date that is not a session (a quarter end on a Sunday) is priced
        at the last session on or before it.
    freq
        Reporting period, to find gaps: ``"Q"`` (13F, default), ``"M"``, ``"A"`` or ``"D"``.
    calendar
        Exchange calendar that prices are on.
    validate_input
        Validate both panels first (duplicate keys, negative shares, split factor <= 0, ...).

    Returns
    -------
    frame
        One row per (investor_id, asset_id, date) held, plus a row for each position closed
        (``shares`` 0), with the input columns, ``price``, ``value`` (:math:`A_t`),
        ``value_prev`` (:math:`A_{t-1}`, 0 for an open), ``flow``, ``flow_pct`` and
        ``flow_note``: ``"birth"`` (the investor's first report), ``"gap"`` (the investor
        skipped a period: not bridged), ``"open"``, ``"close"``, ``"no_price"``,
        ``"not_shares"`` (option or principal-amount lines).

    Notes
    -----
    With :math:`s` the product of split factors over :math:`(t-1, t]` and :math:`P_t` the
    close on the report date:

    .. math:: F_{i,k,t} = (n_{i,k,t} - n_{i,k,t-1}\, s)\, P_t
              = A_{i,k,t} - A_{i,k,t-1}(1 + r_{k,t})

    A position missing at a date the investor reported is a close (:math:`n_t = 0`); one
    missing at the investor's previous report is an open (:math:`n_{t-1} = 0`).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> q1, q2 = dt.date(2024, 3, 28), dt.date(2024, 6, 28)
    >>> h = pl.DataFrame({"investor_id": ["I", "I", "I"], "asset_id": ["A", "A", "B"],
    ...                   "date": [q1, q2, q1], "shares": [10.0, 25.0, 4.0]})
    >>> p = pl.DataFrame({"asset_id": ["A", "A", "B", "B", "A"],
    ...                   "date": [q1, q2, q1, q2, dt.date(2024, 5, 1)],
    ...                   "close": [100.0, 60.0, 50.0, 55.0, 55.0],
    ...                   "split_factor": [1.0, 1.0, 1.0, 1.0, 2.0]})
    >>> out = holdings_flows(h, p).sort("date", "asset_id")
    >>> out.select("asset_id", "shares", "flow", "flow_note").rows()[2:]
    [('A', 25.0, 300.0, None), ('B', 0.0, -220.0, 'close')]
    """
    h, eager = to_lazy(holdings)
    p, _ = to_lazy(prices)
    present = require(h, "holdings", "investor_id", "asset_id", "date", "shares")
    p_cols = require(p, "prices", "asset_id", "date", "close")
    if validate_input:
        from flowpressure.data import validate

        h, _ = to_lazy(validate(h.to_native(), "holdings", calendar=calendar))
        p, _ = to_lazy(validate(p.to_native(), "prices", calendar=calendar))
    is_shares = nw.lit(True)
    if "put_call" in present:
        is_shares = is_shares & (nw.col("put_call").fill_null("") == "")
    if "sh_prn" in present:
        is_shares = is_shares & (nw.col("sh_prn").fill_null("SH") == "SH")
    h = h.with_columns(is_shares.alias("_is_shares"))

    # Price and cumulative split factor on the last session on or before each report date.
    # No split_factor column (or an empty cell) is no split: a constant cumulative factor.
    cum_split = (
        nw.col("split_factor").fill_null(1.0).cum_prod().over("asset_id", order_by="date")
        if "split_factor" in p_cols
        else nw.lit(1.0)
    )
    px = p.select(
        "asset_id",
        nw.col("date").alias("_pdate"),
        nw.col("close").alias("price"),
        cum_split.alias("_cum_split"),
    )
    h = h.with_columns(_priced_on(h, calendar).alias("_pdate"))

    reports = (
        h.select("investor_id", "date")
        .unique()
        .with_columns(step_number(h, freq, calendar).alias("_step"))
        .with_columns(
            nw.col("date").shift(1).over("investor_id", order_by="date").alias("_prev_date"),
            nw.col("date").shift(-1).over("investor_id", order_by="date").alias("_next_date"),
            nw.col("_step").shift(1).over("investor_id", order_by="date").alias("_prev_step"),
        )
    )
    held = h.join(px, on=["asset_id", "_pdate"], how="left").with_columns(
        (nw.col("shares") * nw.col("price")).alias("value")
        if "value" not in present
        else nw.col("value")
    )
    if "value" in present:
        held = held.with_columns((nw.col("shares") * nw.col("price")).alias("_value_calc"))
    value = nw.col("_value_calc") if "value" in present else nw.col("value")
    keys = ["investor_id", "asset_id", *[k for k in ("put_call", "sh_prn") if k in present]]
    prev = held.select(
        *keys,
        nw.col("date").alias("_prev_date"),
        nw.col("shares").alias("_prev_shares"),
        value.alias("_prev_value"),
        nw.col("_cum_split").alias("_prev_cum"),
    )
    current = held.join(reports, on=["investor_id", "date"], how="left").with_columns(
        nw.lit(False).alias("_closed")
    )
    # Closes: a position held at the previous report and absent at the next one.
    closed = (
        prev.join(
            reports.select("investor_id", nw.col("date").alias("_prev_date"), "_next_date"),
            on=["investor_id", "_prev_date"],
            how="left",
        )
        .filter(~nw.col("_next_date").is_null())
        .join(
            held.select(*keys, nw.col("date").alias("_next_date")),
            on=[*keys, "_next_date"],
            how="anti",
        )
        .select(*keys, nw.col("_next_date").alias("date"))
        .join(reports, on=["investor_id", "date"], how="left")
        .with_columns(_priced_on(h, calendar).alias("_pdate"))
        .join(px, on=["asset_id", "_pdate"], how="left")
        .with_columns(
            nw.lit(0.0).alias("shares"),
            nw.lit(0.0).alias("value"),
            nw.lit(True).alias("_closed"),
            nw.lit(True).alias("_is_shares"),
        )
    )
    cols = list(current.collect_schema().names())
    if "_value_calc" in cols:
        closed = closed.with_columns(nw.lit(0.0).alias("_value_calc"))
    schema = current.collect_schema()
    closed = closed.select(
        *[
            nw.col(c)
            if c in closed.collect_schema().names()
            else nw.lit(None).cast(schema[c]).alias(c)
            for c in cols
        ]
    )
    rows = nw.concat([current, closed.select(cols)], how="vertical").join(
        prev, on=[*keys, "_prev_date"], how="left"
    )
    s = nw.col("_cum_split") / nw.col("_prev_cum")
    prev_n = nw.col("_prev_shares").fill_null(0.0)
    flow = (nw.col("shares") - prev_n * s.fill_null(1.0)) * nw.col("price")
    note = (
        nw.when(~nw.col("_is_shares"))
        .then(nw.lit("not_shares"))
        .when(nw.col("_prev_date").is_null())
        .then(nw.lit("birth"))
        .when(nw.col("_step") - nw.col("_prev_step") > 1)
        .then(nw.lit("gap"))
        .when(
            nw.col("price").is_null()
            | (nw.col("_prev_cum").is_null() & ~nw.col("_prev_shares").is_null())
        )
        .then(nw.lit("no_price"))
        .when(nw.col("_closed"))
        .then(nw.lit("close"))
        .when(nw.col("_prev_shares").is_null())
        .then(nw.lit("open"))
        .otherwise(nw.lit(None, dtype=nw.String))
    )
    rows = rows.with_columns(note.alias("flow_note"))
    ok = nw.col("flow_note").is_null() | nw.col("flow_note").is_in(["open", "close"])
    prev_value = nw.col("_prev_value")
    rows = rows.with_columns(
        nw.when(ok).then(flow).otherwise(_NULL).alias("flow"),
        nw.when(ok).then(prev_value.fill_null(0.0)).otherwise(_NULL).alias("value_prev"),
    ).with_columns(
        nw.when(ok & (prev_value.fill_null(0.0) != 0))
        .then(nw.col("flow") / prev_value)
        .otherwise(_NULL)
        .alias("flow_pct"),
    )
    first = [c for c in present if c not in ("value",)]
    out = rows.select(*first, "price", "value", "value_prev", "flow", "flow_pct", "flow_note")
    return to_native(out, eager)  # type: ignore[no-any-return]


def _priced_on(h: nw.LazyFrame[Any], calendar: str) -> nw.Expr:
    """Map each report date to the last session on or before it (report dates are few)."""
    from flowpressure.data import sessions

    values = h.select(nw.col("date")).unique().collect()["date"].to_list()
    dates = sorted({as_date(v) for v in values if v is not None})
    if not dates:
        return nw.col("date")
    days = sessions(dates[0] - dt.timedelta(days=10), dates[-1], calendar)
    idx = np.searchsorted(days, np.array(dates, dtype="datetime64[D]"), side="right") - 1
    mapping = {d: days[i].astype(object) for d, i in zip(dates, idx, strict=True) if i >= 0}
    return nw.col("date").cast(nw.Date).replace_strict(mapping, default=None, return_dtype=nw.Date)


def portfolio_flows(flows: IntoFrameT, groups: Any, *, group: str = "group") -> IntoFrameT:
    r"""Sum holdings flows into portfolio dimensions: an investor's flow into a set of assets.

    Parameters
    ----------
    flows
        Output of :func:`holdings_flows`.
    groups
        Frame mapping ``asset_id`` to ``group`` (a sector, an ESG list, ...); same backend.
        Assets without a group are summed under a null group, not dropped.
    group
        Name of the group column.

    Returns
    -------
    frame
        ``investor_id, group, date, value, value_prev, flow, flow_pct, positions``.

    Notes
    -----
    .. math:: F_{i,G,t} = \sum_{k \in G} F_{i,k,t}, \qquad
              f_{i,G,t} = F_{i,G,t} / \sum_{k \in G} A_{i,k,t-1}

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> d = dt.date(2024, 6, 28)
    >>> f = pl.DataFrame({"investor_id": ["I", "I", "I"], "asset_id": ["A", "B", "C"],
    ...                   "date": [d, d, d], "value": [10.0, 20.0, 5.0],
    ...                   "value_prev": [9.0, 18.0, 6.0], "flow": [1.0, 2.0, -1.0]})
    >>> g = pl.DataFrame({"asset_id": ["A", "B"], "group": ["tech", "tech"]})
    >>> portfolio_flows(f, g).sort("group", nulls_last=True).select("group", "flow").rows()
    [('tech', 3.0), (None, -1.0)]
    """
    f, eager = to_lazy(flows)
    g, _ = to_lazy(groups)
    require(f, "holdings flows", "investor_id", "asset_id", "date", "value", "value_prev", "flow")
    require(g, "groups", "asset_id", group)
    out = (
        f.join(g.select("asset_id", group), on="asset_id", how="left")
        .group_by("investor_id", group, "date")
        .agg(
            nw.col("value").sum(),
            nw.col("value_prev").sum(),
            nw.col("flow").sum(),
            nw.len().alias("positions"),
        )
        .with_columns(
            nw.when(nw.col("value_prev") != 0)
            .then(nw.col("flow") / nw.col("value_prev"))
            .otherwise(_NULL)
            .alias("flow_pct")
        )
        .select(
            "investor_id", group, "date", "value", "value_prev", "flow", "flow_pct", "positions"
        )
    )
    return to_native(out, eager)  # type: ignore[no-any-return]
