"""Reading flows in context: z-scores, streaks, cumulative and category totals, lead/lag."""

from __future__ import annotations

from typing import Any

import narwhals as nw
from narwhals.typing import IntoFrameT

from flowpressure._errors import ConfigError
from flowpressure.data._frames import require, to_lazy, to_native

__all__ = ["cumulative_flows", "flow_lead_lag", "flow_streaks", "flow_totals", "flow_zscores"]


def flow_zscores(
    frame: IntoFrameT, window: int = 12, *, value: str = "flow_pct", by: str = "fund_id"
) -> IntoFrameT:
    r"""Add ``flow_z``: today's flow against the ``window`` periods before it.

    Notes
    -----
    .. math:: z_t = \frac{x_t - \bar{x}_{t-w..t-1}}{s_{t-w..t-1}}

    The mean and standard deviation use only earlier periods (no look-ahead); rows with
    fewer than ``window`` earlier values, or a zero deviation, get a null.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"fund_id": ["A"] * 4, "date": [1, 2, 3, 4],
    ...                    "flow_pct": [0.01, 0.03, 0.02, 0.05]})
    >>> flow_zscores(df, 3)["flow_z"].to_list()
    [None, None, None, 3.0]
    """
    if window < 2:
        raise ConfigError(field="window", expected="at least 2 periods", got=window)
    lf, eager = to_lazy(frame)
    require(lf, "flows", by, "date", value)
    past = nw.col("_past")
    mean = past.rolling_mean(window).over(by, order_by="date")
    std = past.rolling_std(window).over(by, order_by="date")
    lf = lf.with_columns(_past=nw.col(value).shift(1).over(by, order_by="date"))
    out = lf.with_columns(_m=mean, _s=std).with_columns(
        nw.when(nw.col("_s") > 0)
        .then((nw.col(value) - nw.col("_m")) / nw.col("_s"))
        .otherwise(nw.lit(None, dtype=nw.Float64))
        .alias("flow_z")
    )
    return to_native(out.drop("_m", "_s", "_past"), eager)  # type: ignore[no-any-return]


def flow_streaks(frame: IntoFrameT, *, value: str = "flow", by: str = "fund_id") -> IntoFrameT:
    """Add ``streak``: +n for the n-th inflow in a row, -n for the n-th outflow, 0 otherwise.

    A zero or missing flow ends a streak.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"fund_id": ["A"] * 6, "date": list(range(6)),
    ...                    "flow": [1.0, 2.0, -1.0, -3.0, -2.0, None]})
    >>> flow_streaks(df)["streak"].to_list()
    [1, 2, -1, -2, -3, 0]
    """
    lf, eager = to_lazy(frame)
    require(lf, "flows", by, "date", value)
    x = nw.col(value)
    sign = (nw.when(x > 0).then(nw.lit(1)).when(x < 0).then(nw.lit(-1)).otherwise(nw.lit(0))).cast(
        nw.Int64
    )
    out = (
        lf.with_columns(_sign=sign)
        .with_columns(
            _new=(nw.col("_sign") != nw.col("_sign").shift(1).over(by, order_by="date"))
            .fill_null(True)
            .cast(nw.Int64)
        )
        .with_columns(_run=nw.col("_new").cum_sum().over(by, order_by="date"))
        .with_columns(_n=nw.col("_sign").cum_count().over(by, "_run", order_by="date"))
        .with_columns(streak=(nw.col("_sign") * nw.col("_n")).cast(nw.Int64))
        .drop("_sign", "_new", "_run", "_n")
    )
    return to_native(out, eager)  # type: ignore[no-any-return]


def cumulative_flows(frame: IntoFrameT, *, value: str = "flow", by: str = "fund_id") -> IntoFrameT:
    """Add ``cum_flow``, the running sum of flows per entity (missing flows add nothing).

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"fund_id": ["A"] * 3, "date": [3, 1, 2], "flow": [5.0, None, 2.0]})
    >>> cumulative_flows(df).sort("date")["cum_flow"].to_list()
    [0.0, 2.0, 7.0]
    """
    lf, eager = to_lazy(frame)
    require(lf, "flows", by, "date", value)
    out = lf.with_columns(cum_flow=nw.col(value).fill_null(0.0).cum_sum().over(by, order_by="date"))
    return to_native(out, eager)  # type: ignore[no-any-return]


def flow_totals(
    frame: IntoFrameT, by: str | list[str] = "category", *, value: str = "flow"
) -> IntoFrameT:
    """Total, inflows and outflows by category (and date, unless ``by`` says otherwise).

    Parameters
    ----------
    frame
        A flow result with a category column (strategy, asset class, ...).
    by
        Column(s) to total over; ``"date"`` is added when the frame has it and ``by`` lacks it.

    Returns
    -------
    frame
        ``by`` columns, ``flow``, ``inflow``, ``outflow``, ``entities`` and ``missing``
        (rows without a flow, counted, not dropped silently).

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"category": ["eq", "eq", "bond"], "flow": [3.0, -1.0, None]})
    >>> flow_totals(df).sort("category").rows()
    [('bond', 0.0, 0.0, 0.0, 1, 1), ('eq', 2.0, 3.0, -1.0, 2, 0)]
    """
    lf, eager = to_lazy(frame)
    keys = [by] if isinstance(by, str) else list(by)
    present = require(lf, "flows", *keys, value)
    if "date" in present and "date" not in keys:
        keys.append("date")
    x = nw.col(value)
    out = (
        lf.group_by(*keys)
        .agg(
            x.fill_null(0.0).sum().alias("flow"),
            nw.when(x > 0).then(x).otherwise(0.0).sum().alias("inflow"),
            nw.when(x < 0).then(x).otherwise(0.0).sum().alias("outflow"),
            nw.len().alias("entities"),
            x.is_null().cast(nw.Int64).sum().alias("missing"),
        )
        .sort(*keys)
    )
    return to_native(out, eager)  # type: ignore[no-any-return]


def flow_lead_lag(
    frame: Any,
    max_lag: int = 6,
    *,
    flow: str = "flow_pct",
    ret: str = "ret",
    by: str = "fund_id",
) -> list[dict[str, Any]]:
    r"""Cross-correlation of flows and returns at lags ``-max_lag .. max_lag``.

    Sign convention: at lag :math:`k`, :math:`\rho_k = corr(f_t, r_{t+k})` pooled over
    entities (pairs never cross entities). :math:`k > 0`: flows lead returns (price pressure
    or reversal); :math:`k < 0`: returns lead flows (performance chasing); :math:`k = 0`:
    same period.

    Returns
    -------
    list of dict
        ``{"lag", "corr", "n"}`` per lag, ``corr`` null when fewer than 3 pairs.

    Examples
    --------
    Flows that chase last period's return show up at lag -1:

    >>> import polars as pl
    >>> r = [0.01, -0.02, 0.03, 0.00, -0.01, 0.02, 0.01, -0.03]
    >>> f = [0.0] + [x * 2 for x in r[:-1]]
    >>> df = pl.DataFrame({"fund_id": ["A"] * 8, "date": list(range(8)), "ret": r, "flow_pct": f})
    >>> [round(row["corr"], 6) for row in flow_lead_lag(df, 1)]
    [1.0, -0.50443, -0.314309]
    """
    if max_lag < 0:
        raise ConfigError(field="max_lag", expected="a whole number >= 0", got=max_lag)
    lf, _ = to_lazy(frame)
    require(lf, "flows", by, "date", flow, ret)
    lags = list(range(-max_lag, max_lag + 1))
    shifted = lf.with_columns(
        *[
            nw.col(ret).shift(-k).over(by, order_by="date").alias(f"_r{i}")
            for i, k in enumerate(lags)
        ]
    )
    aggs = []
    for i in range(len(lags)):
        x, y = nw.col(flow), nw.col(f"_r{i}")
        both = ~x.is_null() & ~y.is_null() & x.is_finite() & y.is_finite()
        xv = nw.when(both).then(x).otherwise(0.0)
        yv = nw.when(both).then(y).otherwise(0.0)
        aggs += [
            both.cast(nw.Int64).sum().alias(f"n{i}"),
            xv.sum().alias(f"sx{i}"),
            yv.sum().alias(f"sy{i}"),
            (xv * yv).sum().alias(f"sxy{i}"),
            (xv * xv).sum().alias(f"sxx{i}"),
            (yv * yv).sum().alias(f"syy{i}"),
        ]
    sums = shifted.select(*aggs).collect().rows(named=True)[0]
    out = []
    for i, k in enumerate(lags):
        n = int(sums[f"n{i}"] or 0)
        corr = None
        if n >= 3:
            sx, sy = sums[f"sx{i}"], sums[f"sy{i}"]
            cov = sums[f"sxy{i}"] - sx * sy / n
            vx = sums[f"sxx{i}"] - sx * sx / n
            vy = sums[f"syy{i}"] - sy * sy / n
            if vx > 0 and vy > 0:
                corr = cov / (vx * vy) ** 0.5
        out.append({"lag": k, "corr": corr, "n": n})
    return out
