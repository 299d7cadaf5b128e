r"""Timing signals of mechanical flows: month-end volume, the rebalancing spread, divergence.

- Month-end volume spikes: volume in the last N sessions of a month against the rest of it.
- Year-to-date equity-bond return spread and the rebalancing trade it implies for a fixed mix.
- Divergence between a broad and a narrow index over a rolling window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from flowpressure._errors import ConfigError, DataError
from flowpressure.pressure._common import as_date, require, to_polars

__all__ = ["index_divergence", "month_end_volume", "rebalance_signal"]


def _asset(prices: Any, asset_id: str, *columns: str) -> pl.DataFrame:
    frame = to_polars(prices)
    require(frame, "prices panel", "asset_id", "date", *columns)
    out = frame.filter(pl.col("asset_id") == asset_id).sort("date")
    if out.height == 0:
        raise DataError(field="asset_id", expected="an asset of the prices panel", got=asset_id)
    return out


def _total_returns(prices: Any, asset_id: str) -> pl.DataFrame:
    from flowpressure.data import adjusted_returns

    one = _asset(prices, asset_id, "close")
    return adjusted_returns(one).select("date", pl.col("ret_total").alias("r"))


def month_end_volume(prices: Any, asset_id: str, last_n: int = 3) -> pl.DataFrame:
    r"""Volume in the last ``last_n`` sessions of each month against the month's other sessions.

    Parameters
    ----------
    prices
        Long prices panel with ``volume``.
    asset_id
        The asset (an index future, an ETF, a stock).
    last_n
        Sessions at the end of the month (the rebalancing window).

    Returns
    -------
    polars.DataFrame
        One row per month with at least ``last_n + 2`` sessions of volume: ``month_end`` (its
        last session), ``volume_end``, ``volume_rest`` (means), ``ratio``
        (``volume_end / volume_rest``) and ``z``.

    Notes
    -----
    With :math:`\bar V_{end}` the mean over the last :math:`n` sessions and
    :math:`\bar V_{rest}, s_{rest}` the mean and standard deviation over the others:

    .. math:: z = \frac{\bar V_{end} - \bar V_{rest}}{s_{rest}/\sqrt{n}}

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> out = month_end_volume(sample.load("prices"), "S01")
    >>> 1.1 < out["ratio"].median() < 1.3  # the sample adds 20 % in the last three sessions
    True
    """
    if last_n < 1:
        raise ConfigError(field="last_n", expected="sessions >= 1", got=last_n)
    one = _asset(prices, asset_id, "volume").filter(pl.col("volume").is_not_null())
    ranked = one.with_columns(
        _m=pl.col("date").dt.year() * 12 + pl.col("date").dt.month(),
    ).with_columns(
        _k=pl.col("date").rank("ordinal", descending=True).over("_m"),
        _n=pl.len().over("_m"),
    )
    end = pl.col("_k") <= last_n
    out = (
        ranked.filter(pl.col("_n") >= last_n + 2)
        .group_by("_m", maintain_order=True)
        .agg(
            pl.col("date").max().alias("month_end"),
            pl.col("volume").filter(end).mean().alias("volume_end"),
            pl.col("volume").filter(~end).mean().alias("volume_rest"),
            pl.col("volume").filter(~end).std().alias("_sd"),
        )
        .with_columns(
            ratio=pl.col("volume_end") / pl.col("volume_rest"),
            z=pl.when(pl.col("_sd") > 0)
            .then((pl.col("volume_end") - pl.col("volume_rest")) / (pl.col("_sd") / last_n**0.5))
            .otherwise(None),
        )
    )
    return out.select("month_end", "volume_end", "volume_rest", "ratio", "z").sort("month_end")


def rebalance_signal(
    prices: Any,
    equity: str = "SPX",
    bond: str = "AGG_TR",
    w_equity: float = 0.6,
    as_of: dt.date | str | None = None,
) -> pl.DataFrame:
    r"""Year-to-date equity and bond returns and the trade that restores a fixed mix.

    Parameters
    ----------
    prices
        Long prices panel holding both assets (total returns are used).
    equity, bond
        ``asset_id`` of the equity and the bond index.
    w_equity
        Target equity weight of the mix (0.6 for 60/40); the bond weight is the rest.
    as_of
        Last date (default: the data's last common date); the rows cover its calendar year.

    Returns
    -------
    polars.DataFrame
        One row per session of the year through ``as_of``: ``date, ytd_equity, ytd_bond,
        spread`` (equity minus bond), ``trade_pct`` (equity trade as a fraction of the
        portfolio's value at the start of the year, + = buy equities) and ``direction``.

    Notes
    -----
    For value :math:`W` at the start of the year, weights :math:`w_e, w_b` and year-to-date
    returns :math:`r_e, r_b` (DESIGN.md):

    .. math:: \text{trade}_e = W\, w_e\, w_b\, (r_b - r_e)

    60/40, equities +20 %, bonds 0 % → sell 4.8 % of W in equities.

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> last = rebalance_signal(sample.load("prices"), as_of="2018-12-31").row(-1, named=True)
    >>> last["direction"], round(last["trade_pct"], 4) == round(
    ...     0.6 * 0.4 * (last["ytd_bond"] - last["ytd_equity"]), 4)
    ('buy equities', True)
    """
    if not 0.0 < w_equity < 1.0:
        raise ConfigError(field="w_equity", expected="a weight in (0, 1)", got=w_equity)
    e = _total_returns(prices, equity).rename({"r": "re"})
    b = _total_returns(prices, bond).rename({"r": "rb"})
    both = e.join(b, on="date", how="inner").sort("date")
    end = as_date(as_of, "as_of") or both["date"].max()
    if not isinstance(end, dt.date):
        raise DataError(field="date", expected=f"common dates of {equity} and {bond}")
    year = both.filter(
        (pl.col("date").dt.year() == end.year) & (pl.col("date") <= end)
    ).drop_nulls()
    if year.height == 0:
        raise DataError(
            field="as_of",
            expected=f"sessions of {equity} and {bond} in {end.year} up to the date",
            got=end,
        )
    wb = 1.0 - w_equity
    out = year.with_columns(
        ytd_equity=(1 + pl.col("re")).cum_prod() - 1,
        ytd_bond=(1 + pl.col("rb")).cum_prod() - 1,
    ).with_columns(
        spread=pl.col("ytd_equity") - pl.col("ytd_bond"),
        trade_pct=w_equity * wb * (pl.col("ytd_bond") - pl.col("ytd_equity")),
    )
    return out.select(
        "date",
        "ytd_equity",
        "ytd_bond",
        "spread",
        "trade_pct",
        pl.when(pl.col("trade_pct") > 0)
        .then(pl.lit("buy equities"))
        .when(pl.col("trade_pct") < 0)
        .then(pl.lit("sell equities"))
        .otherwise(pl.lit("none"))
        .alias("direction"),
    )


def index_divergence(
    prices: Any, broad: str, narrow: str, window: int = 20, z_window: int = 252
) -> pl.DataFrame:
    r"""Return the rolling return gap between a broad and a narrow index (e.g. SPX vs NDX).

    Parameters
    ----------
    prices
        Long prices panel with both indices.
    broad, narrow
        ``asset_id`` of each.
    window
        Sessions of each rolling return.
    z_window
        Sessions of spread history for the z-score.

    Returns
    -------
    polars.DataFrame
        ``date, ret_broad, ret_narrow, spread`` (broad − narrow over ``window``) and ``z`` (the
        spread over its rolling standard deviation; null until ``z_window`` spreads exist).

    Notes
    -----
    .. math:: s_t = \prod_{k<W}(1+r^{B}_{t-k}) - \prod_{k<W}(1+r^{N}_{t-k}),\qquad
              z_t = s_t / \mathrm{sd}(s_{t-Z+1..t})

    Examples
    --------
    >>> from flowpressure.data import sample
    >>> out = index_divergence(sample.load("prices"), "SPX", "S01", window=20)
    >>> out.columns
    ['date', 'ret_broad', 'ret_narrow', 'spread', 'z']
    """
    if window < 1 or z_window < 2:
        raise ConfigError(field="window", expected="window >= 1 and z_window >= 2", got=window)
    a = _total_returns(prices, broad).rename({"r": "ra"})
    b = _total_returns(prices, narrow).rename({"r": "rb"})
    both = a.join(b, on="date", how="inner").sort("date").drop_nulls()
    if both.height < window:
        raise DataError(
            field="date",
            expected=f"{window} common sessions of {broad} and {narrow}",
            got=f"{both.height}",
        )
    la = np.log1p(both["ra"].to_numpy())
    lb = np.log1p(both["rb"].to_numpy())
    out = both.with_columns(
        ret_broad=pl.Series(la).rolling_sum(window).exp() - 1,
        ret_narrow=pl.Series(lb).rolling_sum(window).exp() - 1,
    ).with_columns(spread=pl.col("ret_broad") - pl.col("ret_narrow"))
    out = out.with_columns(
        z=pl.col("spread") / pl.col("spread").rolling_std(z_window),
    )
    return out.select("date", "ret_broad", "ret_narrow", "spread", "z")
