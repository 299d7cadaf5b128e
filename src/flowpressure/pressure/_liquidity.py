r"""Liquidity and absorption: ADV, days of volume, participation and Amihud illiquidity.

A flow matters when it is large against what the market can absorb. These measures say how
large: ``days_of_adv`` (the flow in days of average daily volume), the participation rate of
executing it over N sessions, and Amihud's price move per dollar traded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from flowpressure._errors import ConfigError, DataError
from flowpressure.pressure._common import as_date, check_finite, check_positive, require, to_polars

__all__ = [
    "amihud_illiquidity",
    "days_of_volume",
    "execution_days",
    "liquidity",
    "participation_rate",
]


def days_of_volume(quantity: float, adv: float) -> float:
    r"""Size of a flow in days of average daily volume.

    Parameters
    ----------
    quantity
        Flow, signed (+ buying, − selling); shares or dollars.
    adv
        Average daily volume in the same unit as ``quantity``, > 0.

    Returns
    -------
    float
        :math:`|Q| / ADV` (unsigned: a size, not a direction).

    Raises
    ------
    ConfigError
        ``adv`` is not a finite number > 0, or ``quantity`` is not finite.

    Notes
    -----
    .. math:: D = \frac{|Q|}{ADV}

    Examples
    --------
    >>> days_of_volume(-2_500_000.0, 1_000_000.0)
    2.5
    """
    q = check_finite(quantity, "quantity")
    return abs(q) / check_positive(adv, "adv", "an average daily volume > 0")


def participation_rate(quantity: float, adv: float, days: float = 1.0) -> float:
    r"""Share of each day's volume taken when a flow is executed evenly over ``days`` sessions.

    Notes
    -----
    .. math:: \rho = \frac{|Q|}{ADV \cdot N}

    A rate above about 0.2 is hard to execute without moving the price much.

    Raises
    ------
    ConfigError
        ``adv`` or ``days`` is not > 0.

    Examples
    --------
    >>> participation_rate(3_000_000.0, 1_000_000.0, days=10)
    0.3
    """
    n = check_positive(days, "days", "a number of sessions > 0")
    return days_of_volume(quantity, adv) / n


def execution_days(quantity: float, adv: float, participation: float = 0.1) -> float:
    r"""Sessions needed to execute a flow without exceeding a participation rate.

    Notes
    -----
    .. math:: N = \frac{|Q|}{\rho_{max} \cdot ADV}

    Raises
    ------
    ConfigError
        ``adv`` is not > 0 or ``participation`` is not in (0, 1].

    Examples
    --------
    >>> execution_days(3_000_000.0, 1_000_000.0, participation=0.25)
    12.0
    """
    rate = check_finite(participation, "participation")
    if not 0.0 < rate <= 1.0:
        raise ConfigError(field="participation", expected="a fraction in (0, 1]", got=rate)
    return days_of_volume(quantity, adv) / rate


def amihud_illiquidity(returns: ArrayLike, dollar_volume: ArrayLike) -> float:
    r"""Amihud (2002) illiquidity: the mean absolute return per dollar traded.

    Days with no volume or a missing return are left out (as in the paper).

    Parameters
    ----------
    returns
        Daily simple returns, shape (T,).
    dollar_volume
        Daily dollar volume, shape (T,), >= 0.

    Returns
    -------
    float
        Fraction of price moved per dollar (multiply by 1e6 for the usual "per $1m").

    Raises
    ------
    ConfigError
        Shapes differ, a volume is negative, or no day has both a return and volume.

    Notes
    -----
    .. math:: ILLIQ = \frac{1}{|D|} \sum_{d \in D} \frac{|r_d|}{P_d V_d}

    Examples
    --------
    >>> amihud_illiquidity([0.01, -0.02, 0.0], [1e6, 2e6, 0.0])
    1e-08
    """
    r = np.asarray(returns, dtype=np.float64)
    v = np.asarray(dollar_volume, dtype=np.float64)
    if r.shape != v.shape or r.ndim != 1:
        raise ConfigError(
            field="dollar_volume", expected=f"a 1-d array like returns {r.shape}", got=v.shape
        )
    if np.any(v[np.isfinite(v)] < 0):
        raise ConfigError(field="dollar_volume", expected="volumes >= 0", got=float(np.nanmin(v)))
    ok = np.isfinite(r) & np.isfinite(v) & (v > 0)
    if not ok.any():
        raise ConfigError(field="dollar_volume", expected="at least one day with volume > 0")
    return float(np.mean(np.abs(r[ok]) / v[ok]))


def liquidity(
    prices: Any,
    as_of: dt.date | str | None = None,
    window: int = 20,
    assets: list[str] | None = None,
) -> pl.DataFrame:
    r"""ADV, daily volatility and Amihud illiquidity of each asset over one stated window.

    Parameters
    ----------
    prices
        Long prices panel (``asset_id, date, close, volume``; optional ``split_factor``,
        ``dividend``), any frame narwhals accepts.
    as_of
        Last session of the window (included); default the panel's last date.
    window
        Sessions in the window (20 ≈ one month).
    assets
        Assets wanted; default all.

    Returns
    -------
    polars.DataFrame
        One row per asset: ``asset_id, as_of, window, first, last, adv_shares, adv_dollars,
        sigma_daily`` (sample standard deviation of daily total returns), ``amihud``
        (mean |r| per dollar traded), ``close`` (the last close).

    Raises
    ------
    DataError
        An asset has fewer than ``window`` sessions with volume and a return up to ``as_of``,
        or a negative volume.

    Notes
    -----
    Over the sessions :math:`d = t-W+1 \dots t`:

    .. math::

        ADV^{sh} = \frac{1}{W}\sum_d V_d,\quad ADV^{\$} = \frac{1}{W}\sum_d P_d V_d,\quad
        \sigma = \mathrm{sd}(r_d),\quad ILLIQ = \frac{1}{W}\sum_d \frac{|r_d|}{P_d V_d}

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> row = liquidity(sample.load("prices"), "2018-12-31", 20, ["S01"]).row(0, named=True)
    >>> row["window"], row["adv_dollars"] > 0, 0 < row["sigma_daily"] < 0.1
    (20, True, True)
    """
    from flowpressure.data import adjusted_returns

    if window < 2:
        raise ConfigError(field="window", expected="a whole number of sessions >= 2", got=window)
    frame = to_polars(prices)
    require(frame, "prices panel", "asset_id", "date", "close", "volume")
    if assets is not None:
        frame = frame.filter(pl.col("asset_id").is_in(assets))
    neg = frame.filter(pl.col("volume") < 0)
    if neg.height:
        first = neg.sort("asset_id", "date").row(0, named=True)
        raise DataError(
            field="volume",
            key={"asset_id": first["asset_id"], "date": first["date"]},
            expected="a volume >= 0 (a negative volume gives a negative ADV)",
            got=first["volume"],
            others=neg.height - 1,
        )
    end = as_date(as_of, "as_of") or frame["date"].max()
    if not isinstance(end, dt.date):
        raise DataError(field="date", expected="a prices panel with rows")
    ret = adjusted_returns(frame)
    col = "ret_total" if "ret_total" in ret.columns else "ret"
    recent = (
        ret.filter(
            (pl.col("date") <= end) & pl.col("volume").is_not_null() & pl.col(col).is_not_null()
        )
        .sort("asset_id", "date")
        .group_by("asset_id", maintain_order=True)
        .tail(window)
    )
    agg = (
        recent.group_by("asset_id", maintain_order=True)
        .agg(
            pl.len().alias("sessions"),
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
            pl.col("volume").mean().alias("adv_shares"),
            (pl.col("volume") * pl.col("close")).mean().alias("adv_dollars"),
            pl.col(col).std().alias("sigma_daily"),
            (
                pl.when(pl.col("volume") > 0)
                .then(pl.col(col).abs() / (pl.col("volume") * pl.col("close")))
                .otherwise(None)
            )
            .mean()
            .alias("amihud"),
            pl.col("close").last().alias("close"),
        )
        .sort("asset_id")
    )
    wanted = sorted(assets) if assets is not None else agg["asset_id"].to_list()
    got = dict(zip(agg["asset_id"].to_list(), agg["sessions"].to_list(), strict=True))
    for asset in wanted:
        if got.get(asset, 0) < window:
            raise DataError(
                field="volume",
                key={"asset_id": asset, "date": end},
                expected=f"{window} sessions with volume and a return up to the date",
                got=f"{got.get(asset, 0)} sessions",
            )
    return agg.select(
        "asset_id",
        pl.lit(end).alias("as_of"),
        pl.lit(window).alias("window"),
        "first",
        "last",
        "adv_shares",
        "adv_dollars",
        "sigma_daily",
        "amihud",
        "close",
    )
