"""Aggregate flow into equities across sectors (Gabaix–Koijen), with the closed-panel check."""

from __future__ import annotations

import narwhals as nw
from narwhals.typing import IntoFrameT

from flowpressure._errors import SchemaError
from flowpressure.data._frames import require, to_lazy, to_native

__all__ = ["aggregate_flow"]


def aggregate_flow(
    frame: IntoFrameT, *, sector: str = "investor_id", tolerance: float = 1e-6
) -> IntoFrameT:
    r"""Gabaix–Koijen aggregate flow into equities, per date.

    Parameters
    ----------
    frame
        One row per (sector, date) with ``flow`` (the sector's dollar flow into equities,
        :math:`\Delta F_i`), ``wealth`` (:math:`W_i`) and either ``equity_share``
        (:math:`S_i`, the sector's share of all equity holdings) or ``equity`` (its equity
        holdings, from which :math:`S_i = E_i / \sum_j E_j` is computed per date).
    sector
        Column naming the sector or investor.
    tolerance
        The panel counts as closed on a date when
        :math:`|\sum_i \Delta F_i| \le tolerance \cdot \sum_i |\Delta F_i|`.

    Returns
    -------
    frame
        Per date: ``f_S``, ``net_dollar_flow`` (:math:`\sum_i \Delta F_i`),
        ``gross_dollar_flow`` (:math:`\sum_i |\Delta F_i|`), ``closed`` (the check, reported
        and never forced) and ``sectors``.

    Notes
    -----
    .. math:: f_S = \sum_i S_i \frac{\Delta F_i}{W_i}

    Dollar flows between sectors net to zero when the panel holds every investor; the
    share-weighted flow :math:`f_S` does not, and it is what moves prices in the inelastic
    markets view.

    Examples
    --------
    Households sell $10 of equities to a pension fund: dollars net to zero, f_S does not.

    >>> import polars as pl, datetime as dt
    >>> d = dt.date(2024, 3, 31)
    >>> df = pl.DataFrame({"investor_id": ["households", "pensions"], "date": [d, d],
    ...                    "flow": [-10.0, 10.0], "wealth": [1000.0, 200.0],
    ...                    "equity_share": [0.5, 0.5]})
    >>> aggregate_flow(df).select("f_S", "net_dollar_flow", "closed").row(0)
    (0.02, 0.0, True)
    """
    lf, eager = to_lazy(frame)
    present = require(lf, "aggregate", sector, "date", "flow", "wealth")
    if "equity_share" in present:
        share = nw.col("equity_share")
    elif "equity" in present:
        share = nw.col("equity") / nw.col("equity").sum().over("date")
    else:
        raise SchemaError(
            f"aggregate panel: needs equity_share or equity; frame has {present}",
            field="equity_share",
            expected="equity_share or equity",
        )
    out = (
        lf.with_columns(_term=share * nw.col("flow") / nw.col("wealth"))
        .group_by("date")
        .agg(
            nw.col("_term").sum().alias("f_S"),
            nw.col("flow").sum().alias("net_dollar_flow"),
            nw.col("flow").abs().sum().alias("gross_dollar_flow"),
            nw.len().alias("sectors"),
        )
        .with_columns(
            closed=nw.col("net_dollar_flow").abs() <= tolerance * nw.col("gross_dollar_flow")
        )
        .select("date", "f_S", "net_dollar_flow", "gross_dollar_flow", "closed", "sectors")
        .sort("date")
    )
    return to_native(out, eager)  # type: ignore[no-any-return]
