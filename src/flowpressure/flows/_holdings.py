"""Holdings flows: investor × asset trades at report dates, from share counts, splits and prices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
import numpy as np
from narwhals.typing import IntoFrameT

from flowpressure.data._dates import as_date
from flowpressure.data._frames import require, to_lazy, to_native
from flowpressure.data._units13f import PRICE_RANGE
from flowpressure.flows._common import Freq, step_number

__all__ = ["holdings_flows", "portfolio_flows"]

_NULL = nw.lit(None, dtype=nw.Float64)
#: A position priced by its own value is doubtful when its implied price is more than this
#: factor away from the median of the asset's holders, if at least _MIN_HOLDERS hold it.
_MAX_RATIO = 30.0
_MIN_HOLDERS = 3


def holdings_flows(
    holdings: IntoFrameT,
    prices: Any = None,
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
        at the last session on or before it. ``None``: the holdings' own ``value`` column
        prices them (13F values), see Notes.
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
        ``"price_doubtful"``, ``"split_inferred"`` (priced by values only), ``"not_shares"``
        (option or principal-amount lines).

    Notes
    -----
    With :math:`s` the product of split factors over :math:`(t-1, t]` and :math:`P_t` the
    close on the report date:

    .. math:: F_{i,k,t} = (n_{i,k,t} - n_{i,k,t-1}\, s)\, P_t
              = A_{i,k,t} - A_{i,k,t-1}(1 + r_{k,t})

    A position missing at a date the investor reported is a close (:math:`n_t = 0`); one
    missing at the investor's previous report is an open (:math:`n_{t-1} = 0`).

    Without ``prices``, a position is priced at its own implied price
    :math:`P_{i,k,t} = A_{i,k,t} / n_{i,k,t}` (reported value over shares), so that
    :math:`A_{i,k,t} - A_{i,k,t-1} = F_{i,k,t} + n_{i,k,t-1}(P_{i,k,t} - P_{i,k,t-1})`,
    flow plus return effect, exactly. A close is priced at the median implied price of the
    asset among the investors that hold it at :math:`t` (``no_price`` when none does).
    Splits cannot be seen without prices: :math:`s = 1`. A share line with no positive value
    or shares has no implied price (``no_price``). One whose implied price, now or at the
    previous report, is more than 30 times away from the median implied price of the asset
    among its holders (when three or more hold it; with fewer, outside $1-$5,000), or 30
    times its own price of the previous report, is a value in the wrong units (most likely
    a line reported in dollars and multiplied by 1000) or an unseen split: no flow
    (``price_doubtful``).

    Splits are inferred from the holders themselves: :math:`s = k` for an asset whose
    continuing holders (three or more) show a median share-count ratio of a whole
    :math:`k \\ge 2` (or :math:`1/k`; within 0.5 %, or 20 % for :math:`k \\ge 4`) over the
    quarter, with a split-adjusted price ratio in [0.5, 2]; those rows carry ``flow_note``
    ``"split_inferred"`` (flow kept).

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

    Priced by reported values (13F), without a prices panel: 10 shares worth 1,000, then 25
    worth 1,500 (price 60) is a flow of 15 x 60 = 900 and a return effect of 10 x (60 - 100).

    >>> h = h.with_columns(value=pl.Series([1000.0, 1500.0, 200.0]))
    >>> holdings_flows(h).sort("date", "asset_id").select("asset_id", "flow").rows()[2:]
    [('A', 900.0), ('B', None)]
    """
    h, eager = to_lazy(holdings)
    implied = prices is None
    present = require(h, "holdings", "investor_id", "asset_id", "date", "shares")
    if implied:
        require(h, "holdings priced by their own values (prices=None)", "value")
    else:
        p, p_eager = to_lazy(prices)
        p_cols = require(p, "prices", "asset_id", "date", "close")
    if validate_input:
        from flowpressure.data import validate

        # an eager frame is checked eager: on its arrays, not as a lazy query
        h, _ = to_lazy(validate(_native(h, eager), "holdings", calendar=calendar))
        if not implied:
            p, _ = to_lazy(validate(_native(p, p_eager), "prices", calendar=calendar))
    is_shares = nw.lit(True)
    if "put_call" in present:
        is_shares = is_shares & (nw.col("put_call").fill_null("") == "")
    if "sh_prn" in present:
        is_shares = is_shares & (nw.col("sh_prn").fill_null("SH") == "SH")
    h = h.with_columns(is_shares.alias("_is_shares"))

    if implied:
        # Each position's own implied price; closes take the asset's median among holders.
        own = nw.when((nw.col("shares") > 0) & (nw.col("value") > 0)).then(
            nw.col("value") / nw.col("shares")
        )
        h = h.with_columns(nw.col("date").alias("_pdate"))
        consensus = (
            h.filter(nw.col("_is_shares"))
            .with_columns(own.alias("price"))
            .filter(~nw.col("price").is_null())
            .group_by("asset_id", "_pdate")
            .agg(nw.col("price").median(), nw.len().alias("_holders"))
        )
        px = consensus.select("asset_id", "_pdate", "price", nw.lit(1.0).alias("_cum_split"))
        pdate = nw.col("date")
        held = h.join(
            consensus.select("asset_id", "_pdate", nw.col("price").alias("_consensus"), "_holders"),
            on=["asset_id", "_pdate"],
            how="left",
        ).with_columns(
            own.alias("price"),
            nw.lit(1.0).alias("_cum_split"),
            nw.when(own.is_null()).then(_NULL).otherwise(nw.col("value")).alias("_value_calc"),
        )
    else:
        # Price and cumulative split factor on the last session on or before each report
        # date. No split_factor column (or an empty cell) is no split: a constant factor.
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
        pdate = _priced_on(h, calendar)
        h = h.with_columns(pdate.alias("_pdate"))
        held = h.join(px, on=["asset_id", "_pdate"], how="left").with_columns(
            (nw.col("shares") * nw.col("price")).alias("value")
            if "value" not in present
            else nw.col("value")
        )
        if "value" in present:
            held = held.with_columns((nw.col("shares") * nw.col("price")).alias("_value_calc"))

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
    value = nw.col("_value_calc") if "value" in present else nw.col("value")
    keys = ["investor_id", "asset_id", *[k for k in ("put_call", "sh_prn") if k in present]]
    prev = held.select(
        *keys,
        nw.col("date").alias("_prev_date"),
        nw.col("shares").alias("_prev_shares"),
        value.alias("_prev_value"),
        nw.col("_cum_split").alias("_prev_cum"),
        *(
            [
                nw.col("price").alias("_prev_price"),
                nw.col("_consensus").alias("_prev_consensus"),
                nw.col("_holders").alias("_prev_holders"),
            ]
            if implied
            else []
        ),
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
        .with_columns(pdate.alias("_pdate"))
        .join(px, on=["asset_id", "_pdate"], how="left")
        .with_columns(
            nw.lit(0.0).alias("shares"),
            nw.lit(0.0).alias("value"),
            nw.lit(True).alias("_closed"),
            # a closed option or PRN line is still not shares: no share flow
            is_shares.alias("_is_shares"),
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
    if implied:
        splits = _inferred_splits(rows)
        rows = rows.join(splits, on=["asset_id", "date"], how="left").with_columns(
            nw.col("_split").fill_null(1.0)
        )
        s = nw.col("_split")
    else:
        s = nw.col("_cum_split") / nw.col("_prev_cum")
    prev_n = nw.col("_prev_shares").fill_null(0.0)
    flow = (nw.col("shares") - prev_n * s.fill_null(1.0)) * nw.col("price")
    doubtful = nw.lit(False)
    implied_lit = nw.lit(implied)
    if implied:
        # A 13F value in the wrong units (a filer's line multiplied by 1000) shows as a price
        # far from what the other holders of the asset report: no flow from it.
        # With fewer holders than that, the price itself must be plausible (PRICE_RANGE).
        def off(price: str, consensus: str, holders: str) -> nw.Expr:
            ratio = nw.col(price) / nw.col(consensus)
            many = nw.col(holders).fill_null(0) >= _MIN_HOLDERS
            return ~nw.col(price).is_null() & (
                (many & ~ratio.is_between(1 / _MAX_RATIO, _MAX_RATIO))
                | (~many & ~nw.col(price).is_between(*PRICE_RANGE))
            )

        # ... or as a price 30 times the investor's own a quarter before (a split, unseen
        # without prices, looks the same: its flow would be wrong too)
        jump = nw.col("price") * s / nw.col("_prev_price")
        doubtful = (
            off("price", "_consensus", "_holders")
            | off("_prev_price", "_prev_consensus", "_prev_holders")
            | (~jump.is_null() & ~jump.is_between(1 / _MAX_RATIO, _MAX_RATIO))
        )
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
        .when(doubtful)
        .then(nw.lit("price_doubtful"))
        .when(nw.col("_closed"))
        .then(nw.lit("close"))
        .when((s.fill_null(1.0) != 1.0) & implied_lit)
        .then(nw.lit("split_inferred"))
        .when(nw.col("_prev_shares").is_null())
        .then(nw.lit("open"))
        .otherwise(nw.lit(None, dtype=nw.String))
    )
    rows = rows.with_columns(note.alias("flow_note"))
    kept = ["open", "close", "split_inferred"]
    ok = nw.col("flow_note").is_null() | nw.col("flow_note").is_in(kept)
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


def _native(lf: nw.LazyFrame[Any], eager: bool) -> Any:
    return lf.collect().to_native() if eager else lf.to_native()


def _inferred_splits(rows: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Return the splits the holders show (``asset_id, date, _split``), from holdings alone.

    An asset splits k-for-1 over a quarter when the median ratio of share counts of the
    positions held over it (by at least three investors) is within 0.5 % of a whole k >= 2
    (or of 1/k, a reverse split; within 20 % for k >= 4, whose holders' trades blur it), and
    the median ratio of implied prices times k is between 0.5 and 2 (the split-adjusted
    price return is plausible).
    """
    q = nw.col("shares") / nw.col("_prev_shares")
    held = (
        nw.col("_is_shares")
        & ~nw.col("_closed")
        & (nw.col("_step") - nw.col("_prev_step") == 1)
        & (nw.col("_prev_shares").fill_null(0.0) > 0)
        & (nw.col("shares") > 0)
        & ~nw.col("price").is_null()
        & ~nw.col("_prev_price").is_null()
    )
    agg = (
        rows.filter(held)
        .with_columns(q.alias("_q"), (nw.col("price") / nw.col("_prev_price")).alias("_r"))
        .group_by("asset_id", "date")
        .agg(nw.col("_q").median(), nw.col("_r").median(), nw.len().alias("_n"))
    )
    ratio = nw.col("_q")
    k = nw.when(ratio >= 1).then(ratio.round(0)).otherwise(1.0 / (1.0 / ratio).round(0))
    # a large split shows through the holders' trading (NVDA 10-for-1: median ratio 9.3)
    miss = (ratio / k - 1.0).abs()
    big = (k >= 4.0) | (k <= 0.25)
    whole = ((miss < 0.005) | (big & (miss < 0.2))) & ((k >= 2.0) | (k <= 0.5))
    plausible = (nw.col("_r") * k).is_between(0.5, 2.0)
    return agg.filter((nw.col("_n") >= _MIN_HOLDERS) & whole & plausible).select(
        "asset_id", "date", k.alias("_split")
    )


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
