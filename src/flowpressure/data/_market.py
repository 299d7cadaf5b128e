"""Market primitives shared by the mechanics and pressure layers: returns, ADV, price matrices.

All functions take a long prices panel (``asset_id, date, close`` with optional ``volume``,
``split_factor``, ``dividend``; see the ``prices`` schema), in any frame narwhals accepts, and
order by date within each asset themselves: input order never matters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import narwhals as nw
import numpy as np
from narwhals.typing import IntoFrameT
from numpy.typing import NDArray

from flowpressure._errors import ConfigError, DataError
from flowpressure.data._frames import require
from flowpressure.data._frames import to_lazy as _lazy
from flowpressure.data._frames import to_native as _native

__all__ = ["adjusted_returns", "adv", "price_matrix", "rolling_adv"]


def adjusted_returns(prices: IntoFrameT) -> IntoFrameT:
    r"""Add split- and dividend-adjusted simple returns per asset.

    Returns ``ret`` (price only) and ``ret_total`` (with the dividend paid on the ex-date),
    both over the period ending at the row's date; the first row of each asset has null
    returns.

    Notes
    -----
    With split factor :math:`s_t` (2.0 for a 2-for-1 split on day t, else 1) and cash
    dividend per share :math:`d_t` paid on the ex-date t:

    .. math::

        r_t = \frac{P_t s_t}{P_{t-1}} - 1, \qquad
        r^{tot}_t = \frac{P_t s_t + d_t}{P_{t-1}} - 1

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"asset_id": ["A", "A", "A"], "date": [1, 2, 3],
    ...                    "close": [100.0, 51.0, 50.0], "split_factor": [1.0, 2.0, 1.0],
    ...                    "dividend": [0.0, 0.0, 0.5]})
    >>> [(round(a, 6), round(b, 6)) for a, b in adjusted_returns(df).drop_nulls().select(
    ...     "ret", "ret_total").rows()]
    [(0.02, 0.02), (-0.019608, -0.009804)]
    """
    lf, eager = _lazy(prices)
    present = require(lf, "prices", "asset_id", "date", "close")
    # A missing split factor or dividend (an absent column or an empty cell) is no corporate
    # action, whichever way the prices arrived (a file, or a store that keeps absent as null).
    split = nw.col("split_factor").fill_null(1.0) if "split_factor" in present else nw.lit(1.0)
    div = nw.col("dividend").fill_null(0.0) if "dividend" in present else nw.lit(0.0)
    prev = nw.col("close").shift(1).over("asset_id", order_by="date")
    out = lf.with_columns(
        ret=nw.col("close") * split / prev - 1,
        ret_total=(nw.col("close") * split + div) / prev - 1,
    )
    return cast("IntoFrameT", _native(out, eager))


def rolling_adv(prices: IntoFrameT, window: int = 20) -> IntoFrameT:
    """Add rolling average daily volume in shares and dollars, per asset.

    ``adv_shares`` on day t is the mean share volume over the ``window`` sessions ending at t
    (t included); ``adv_dollars`` the mean of ``volume·close`` over the same sessions. Rows
    with fewer than ``window`` sessions behind them get nulls (no silent short windows).

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"asset_id": ["A"] * 3, "date": [1, 2, 3],
    ...                    "close": [10.0, 10.0, 20.0], "volume": [100.0, 300.0, 200.0]})
    >>> rolling_adv(df, 2).select("adv_shares", "adv_dollars").rows()
    [(None, None), (200.0, 2000.0), (250.0, 3500.0)]
    """
    if window < 1:
        raise ConfigError(field="window", expected="a whole number of sessions >= 1", got=window)
    lf, eager = _lazy(prices)
    require(lf, "prices", "asset_id", "date", "close", "volume")
    out = lf.with_columns(
        adv_shares=nw.col("volume").rolling_mean(window).over("asset_id", order_by="date"),
        adv_dollars=(nw.col("volume") * nw.col("close"))
        .rolling_mean(window)
        .over("asset_id", order_by="date"),
    )
    return cast("IntoFrameT", _native(out, eager))


def adv(
    prices: Any, as_of: dt.date | str, window: int = 20, assets: list[str] | None = None
) -> dict[str, dict[str, float]]:
    """Average daily volume of each asset over the ``window`` sessions ending at ``as_of``.

    Parameters
    ----------
    prices
        Long prices panel with ``volume``.
    as_of
        Last session of the window (included). Index-event ADV uses the session before the
        announcement (DESIGN.md "Contract conventions").
    window
        Number of sessions.
    assets
        Assets wanted; default every asset with data.

    Returns
    -------
    dict
        ``{asset_id: {"adv_shares", "adv_dollars", "sessions", "first", "last"}}``.

    Raises
    ------
    DataError
        An asset asked for has fewer than ``window`` sessions with volume up to ``as_of``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> days = [dt.date(2024, 3, 26), dt.date(2024, 3, 27), dt.date(2024, 3, 28)]
    >>> df = pl.DataFrame({"asset_id": ["A"] * 3, "date": days,
    ...                    "close": [10.0, 10.0, 20.0], "volume": [100.0, 300.0, 200.0]})
    >>> adv(df, "2024-03-28", 2)["A"]["adv_shares"]
    250.0
    """
    if window < 1:
        raise ConfigError(field="window", expected="a whole number of sessions >= 1", got=window)
    end = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    lf, _ = _lazy(prices)
    require(lf, "prices", "asset_id", "date", "close", "volume")
    recent = (
        lf.filter((nw.col("date") <= nw.lit(end)) & ~nw.col("volume").is_null())
        .with_columns(_rank=nw.col("date").rank("ordinal", descending=True).over("asset_id"))
        .filter(nw.col("_rank") <= window)
    )
    if assets is not None:
        recent = recent.filter(nw.col("asset_id").is_in(assets))
    agg = (
        recent.group_by("asset_id")
        .agg(
            nw.col("volume").mean().alias("adv_shares"),
            (nw.col("volume") * nw.col("close")).mean().alias("adv_dollars"),
            nw.len().alias("sessions"),
            nw.col("date").min().alias("first"),
            nw.col("date").max().alias("last"),
        )
        .collect()
        .rows(named=True)
    )
    out = {r["asset_id"]: {k: v for k, v in r.items() if k != "asset_id"} for r in agg}
    wanted = assets if assets is not None else sorted(out)
    for asset in sorted(wanted):
        got = out.get(asset, {}).get("sessions", 0)
        if got < window:
            raise DataError(
                field="volume",
                key={"asset_id": asset, "date": end},
                expected=f"{window} sessions of volume up to the date for ADV",
                got=f"{got} sessions",
            )
    return out


def price_matrix(
    prices: Any, value: str = "close", assets: list[str] | None = None
) -> tuple[NDArray[np.datetime64], list[str], NDArray[np.float64]]:
    """Pivot a long panel to a (dates × assets) float matrix for array kernels.

    Returns ``(dates, asset_ids, matrix)`` with dates sorted ascending, assets in the order
    asked (default sorted) and NaN where an asset has no row on a date.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"asset_id": ["B", "A", "A"], "date": [2, 1, 2],
    ...                    "close": [5.0, 1.0, 2.0]})
    >>> dates, ids, m = price_matrix(df)
    >>> ids, m.tolist()
    (['A', 'B'], [[1.0, nan], [2.0, 5.0]])
    """
    import polars as pl

    lf, _ = _lazy(prices)
    require(lf, "prices", "asset_id", "date", value)
    table = lf.select("asset_id", "date", value).collect().to_arrow()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if frame.select(pl.struct("asset_id", "date").is_duplicated().any()).item():
        raise DataError(field="asset_id, date", expected="one row per key")
    ids = assets if assets is not None else sorted(frame["asset_id"].unique().to_list())
    missing = sorted(set(ids) - set(frame["asset_id"].unique().to_list()))
    if missing:
        raise DataError(
            field="asset_id", key={"asset_id": missing[0]}, expected="an asset in the prices panel"
        )
    wide = frame.pivot(on="asset_id", index="date", values=value).sort("date")
    dates = wide["date"].to_numpy()
    matrix = wide.select([pl.col(a).cast(pl.Float64) for a in ids]).to_numpy()
    return dates, list(ids), np.ascontiguousarray(matrix, dtype=np.float64)
