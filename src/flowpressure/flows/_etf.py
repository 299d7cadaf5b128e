"""ETF flows from shares outstanding and NAV, cross-checked against AUM and returns."""

from __future__ import annotations

from typing import Any, Literal

import narwhals as nw
from narwhals.typing import IntoFrameT

from flowpressure._errors import ConfigError
from flowpressure.data._frames import require, to_lazy, to_native
from flowpressure.flows._common import dates_as_dates, step_number

__all__ = ["etf_flows"]


def etf_flows(
    frame: IntoFrameT,
    unit_size: float | None = None,
    so_lag: int = 0,
    return_kind: Literal["price", "total"] = "price",
    *,
    calendar: str = "XNYS",
    stale_after: int = 10,
    bridge_gaps: bool = False,
    check_sessions: bool = True,
    validate_input: bool = True,
) -> IntoFrameT:
    r"""ETF creations and redemptions in currency, from shares outstanding and NAV.

    Parameters
    ----------
    frame
        ETF panel (``fund_id, date, shares_outstanding, nav``, optional ``distribution`` per
        share on its ex-date, ``aum``, ``ret``, ``ret_total``), any frame narwhals accepts.
    unit_size
        Shares per creation unit; adds ``creation_units`` and notes rows whose change in
        shares is not a whole number of units (``"fractional_units"``).
    so_lag
        K: the shares reported on session t are those of session t-K (issuers often report a
        day late). Shares are shifted back by K sessions of ``calendar``, not by K rows: a row
        whose session K on is past the fund's last row has no flow (``"so_lag_tail"``); one
        whose session K on is missing from the data, and the row after it, have no flow
        (``"so_lag_gap"``): a lag never reaches across a gap.
    return_kind
        Which return the AUM cross-check uses: ``"price"`` (NAV change) or ``"total"`` (with the
        distribution, added back on the ex-date so it shows no phantom outflow).
    calendar
        Exchange calendar: a missing session between two rows is a gap (no flow unless
        ``bridge_gaps``).
    stale_after
        A share count unchanged for more than this many sessions is flagged
        ``"stale_shares"`` (the flow, zero, is kept; compare ``flow_aum``).
    bridge_gaps
        False (default): the row after a gap has no flow (``"gap"``) and ``flow_dropped``
        holds the flow bridging would have given, so the amount left out can be stated. True:
        that row's flow covers the whole gap, :math:`(SO_t - SO_{prev})\,NAV_t` with
        :math:`SO_{prev}` the last share count known before the gap, flagged
        ``"gap_bridged"``; its AUM cross-check uses the NAV return over the gap.
    check_sessions, validate_input
        Validate the panel first (kind ``etf``), with or without the session check.

    Returns
    -------
    frame
        Every input column plus ``flow``, ``flow_pct``, ``creation_units`` (with
        ``unit_size``), ``flow_aum`` and ``flow_diff = flow_aum - flow``, ``flow_dropped`` (on
        ``"gap"`` rows: the flow over the gap that was not counted) and ``flow_note``
        (``"birth"``, ``"gap"``, ``"gap_bridged"``, ``"so_lag_tail"``, ``"so_lag_gap"``,
        ``"stale_shares"``, ``"fractional_units"``).

    Notes
    -----
    From shares: :math:`F_t = (SO_t - SO_{t-1})\,NAV_t`,
    :math:`f_t = F_t / (SO_{t-1} NAV_{t-1})`, units :math:`\Delta SO_t / u`.
    From AUM (``aum`` column, else :math:`SO \cdot NAV`) and return :math:`R_t` (``ret`` or
    ``ret_total``, else the NAV return; a null in any of them falls back on that row alone):

    .. math:: F^{AUM}_t = AUM_t - AUM_{t-1}(1 + R_t) + [\text{total}]\,AUM_{t-1} D_t / NAV_{t-1}

    With the NAV price return the two are the same number exactly; a difference means the
    reported AUM and share count disagree (a stale share count, or rounding).

    Examples
    --------
    The seed example: AUM 500m to 503m with a 0.2 % return is a 2m creation.

    >>> import polars as pl, datetime as dt
    >>> df = pl.DataFrame({"fund_id": ["X", "X"],
    ...                    "date": [dt.date(2024, 3, 27), dt.date(2024, 3, 28)],
    ...                    "shares_outstanding": [5e6, 503e6 / 100.2], "nav": [100.0, 100.2],
    ...                    "aum": [500e6, 503e6], "ret": [0.0, 0.002]})
    >>> out = etf_flows(df)
    >>> [round(v) for v in out.select("flow", "flow_aum").row(1)]
    [2000000, 2000000]

    A missing session (2024-03-28) drops the next flow unless gaps are bridged:

    >>> days = [dt.date(2024, 3, 26), dt.date(2024, 3, 27), dt.date(2024, 4, 1)]
    >>> gap = pl.DataFrame({"fund_id": ["X"] * 3, "date": days,
    ...                     "shares_outstanding": [1e6, 1.1e6, 1.2e6], "nav": [10.0, 10.0, 10.0]})
    >>> etf_flows(gap).select("flow", "flow_dropped", "flow_note").rows()[2]
    (None, 1000000.0, 'gap')
    >>> etf_flows(gap, bridge_gaps=True).select("flow", "flow_dropped", "flow_note").rows()[2]
    (1000000.0, None, 'gap_bridged')
    """
    if so_lag < 0:
        raise ConfigError(field="so_lag", expected="a whole number of sessions >= 0", got=so_lag)
    if unit_size is not None and not unit_size > 0:
        raise ConfigError(field="unit_size", expected="shares per creation unit > 0", got=unit_size)
    if return_kind not in ("price", "total"):
        raise ConfigError(field="return_kind", expected="'price' or 'total'", got=return_kind)
    if stale_after < 1:
        raise ConfigError(field="stale_after", expected="sessions >= 1", got=stale_after)
    lf, eager = to_lazy(frame)
    require(lf, "etf", "fund_id", "date", "shares_outstanding", "nav")
    lf = dates_as_dates(lf)
    if eager and nw.get_native_namespace(lf).__name__ == "pandas":
        # pandas windows through narwhals cost ~6x a round trip through polars (1M rows:
        # 5.9 s against 1.0 s); the result is the pandas frame the pandas path gives
        import polars as pl

        native = lf.collect().to_native()
        out = etf_flows(
            pl.from_pandas(native),
            unit_size,
            so_lag,
            return_kind,
            calendar=calendar,
            stale_after=stale_after,
            bridge_gaps=bridge_gaps,
            check_sessions=check_sessions,
            validate_input=validate_input,
        )
        return _as_pandas(out, native)  # type: ignore[no-any-return]
    if validate_input:
        from flowpressure.data import validate

        # an eager frame is checked eager: on its arrays, not as a lazy query
        native = lf.collect().to_native() if eager else lf.to_native()
        lf, _ = to_lazy(validate(native, "etf", calendar=calendar, check_sessions=check_sessions))
    present = list(lf.collect_schema().names())
    key = {"order_by": "date"}

    def lag(expr: nw.Expr, n: int = 1) -> nw.Expr:
        return expr.shift(n).over("fund_id", **key)

    lf = lf.with_columns(step_number(lf, "D", calendar).alias("_step"))
    step = nw.col("_step")
    so = nw.col("shares_outstanding")
    if so_lag:
        # The shares of session t are those reported on session t + K. Rows are distinct
        # sessions, so that row is at most K rows on, and only if it is in the data: a lag
        # never crosses a missing session.
        ahead = [
            nw.when(lag(step, -j) == step + so_lag).then(lag(so, -j)) for j in range(1, so_lag + 1)
        ]
        so = nw.coalesce(*ahead) if len(ahead) > 1 else ahead[0]
    lf = lf.with_columns(so.alias("_so"), step.max().over("fund_id").alias("_last_step"))
    if so_lag:  # across a gap, the last share count known before it (a lagged one may be null)
        lf = lf.with_columns(
            nw.col("_so").fill_null(strategy="forward").over("fund_id", **key).alias("_so_ff")
        )
    else:
        lf = lf.with_columns(nw.col("_so").alias("_so_ff"))
    lf = lf.with_columns(
        lag(nw.col("_so")).alias("_prev_so"),
        lag(nw.col("_so_ff")).alias("_prev_so_ff"),
        lag(nw.col("nav")).alias("_prev_nav"),
        lag(step).alias("_prev_step"),
        lag(nw.col("shares_outstanding")).alias("_prev_reported"),
    )
    dist = nw.col("distribution").fill_null(0.0) if "distribution" in present else nw.lit(0.0)
    # A null in an optional column (a store keeps absent columns as nulls) falls back, row by
    # row, to what the column's absence would give: SO x NAV, the NAV return.
    so_nav = nw.col("_so") * nw.col("nav")
    aum = nw.coalesce(nw.col("aum"), so_nav) if "aum" in present else so_nav
    lf = lf.with_columns(aum.alias("_aum")).with_columns(lag(nw.col("_aum")).alias("_prev_aum"))
    prev_nav, prev_aum = nw.col("_prev_nav"), nw.col("_prev_aum")
    gap = nw.col("_step") - nw.col("_prev_step") > 1
    if return_kind == "price":
        nav_ret = nw.col("nav") / prev_nav - 1
        ret = nw.coalesce(nw.col("ret"), nav_ret) if "ret" in present else nav_ret
        add_back: nw.Expr = nw.lit(0.0)
    else:
        nav_ret = (nw.col("nav") + dist) / prev_nav - 1
        ret = nw.coalesce(nw.col("ret_total"), nav_ret) if "ret_total" in present else nav_ret
        add_back = prev_aum * dist / prev_nav
    if bridge_gaps:  # a given one-session return does not cover a gap: the NAV return does
        ret = nw.when(gap).then(nav_ret).otherwise(ret)
    # over a gap, from the last share count known before it (the row before may have none)
    d_so = nw.col("_so") - nw.when(gap).then(nw.col("_prev_so_ff")).otherwise(nw.col("_prev_so"))
    # Runs of an unchanged reported share count, numbered within each fund.
    changed = (
        (nw.col("shares_outstanding") != nw.col("_prev_reported")).fill_null(True).cast(nw.Int64)
    )
    # A row's place in its run is its place in the fund less that of the run's first row,
    # carried forward: one window per fund, not one per (fund, run) (which costs 10x more).
    pos = nw.col("date").cum_count().over("fund_id", **key)
    lf = lf.with_columns(
        pos.alias("_pos"), nw.when(changed == 1).then(pos).otherwise(None).alias("_run_start")
    ).with_columns(
        (
            nw.col("_pos")
            - nw.col("_run_start").fill_null(strategy="forward").over("fund_id", **key)
            + 1
        ).alias("_run_pos")
    )
    note = nw.when(nw.col("_prev_nav").is_null()).then(nw.lit("birth"))
    if not bridge_gaps:
        note = note.when(gap).then(nw.lit("gap"))
    note = (
        note.when(nw.col("_so").is_null() & (nw.col("_step") + so_lag > nw.col("_last_step")))
        .then(nw.lit("so_lag_tail"))
        .when(nw.col("_so").is_null() | d_so.is_null())
        .then(nw.lit("so_lag_gap"))
    )
    if bridge_gaps:
        note = note.when(gap).then(nw.lit("gap_bridged"))
    note = note.when(nw.col("_run_pos") > stale_after).then(nw.lit("stale_shares"))
    if unit_size is not None:
        units = d_so / unit_size
        note = note.when((units - units.round(0)).abs() > 1e-9).then(nw.lit("fractional_units"))
    lf = lf.with_columns(note.otherwise(nw.lit(None, dtype=nw.String)).alias("flow_note"))
    ok = nw.col("flow_note").is_null() | nw.col("flow_note").is_in(
        ["stale_shares", "fractional_units", "gap_bridged"]
    )
    null = nw.lit(None, dtype=nw.Float64)
    added = {
        "flow": nw.when(ok).then(d_so * nw.col("nav")).otherwise(null),
        "flow_dropped": nw.when(nw.col("flow_note") == "gap")
        .then(d_so * nw.col("nav"))
        .otherwise(null),
        "flow_aum": nw.when(ok)
        .then(nw.col("_aum") - prev_aum * (1 + ret) + add_back)
        .otherwise(null),
    }
    if unit_size is not None:
        added["creation_units"] = nw.when(ok).then(d_so / unit_size).otherwise(null)
    lf = lf.with_columns(**added).with_columns(
        flow_pct=nw.col("flow") / ((nw.col("_so") - d_so) * prev_nav),
        flow_diff=nw.col("flow_aum") - nw.col("flow"),
    )
    order = [
        "flow",
        "flow_pct",
        *(["creation_units"] if unit_size else []),
        "flow_aum",
        "flow_diff",
        "flow_dropped",
        "flow_note",
    ]
    out = lf.select(*[c for c in present if c not in order], *order)
    return to_native(out, eager)  # type: ignore[no-any-return]


def _as_pandas(out: Any, native: Any) -> Any:
    """Add the columns ``out`` (polars) has beyond ``native`` (pandas) to it, on its index."""
    import pandas as pd

    added = out.select([c for c in out.columns if c not in native.columns]).to_pandas()
    added.index = native.index
    return pd.concat([native, added], axis=1)[out.columns]
