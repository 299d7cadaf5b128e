"""Parity with bt and vectorbt on the embedded sample (subsamples, to stay fast).

Alignment of conventions (what makes the final values agree to ~1e-15):

- bt: ``integer_positions=False`` (bt holds whole shares otherwise), no commissions, the same
  initial capital. Calendar rules use ``RunMonthly(run_on_end_of_period=True,
  run_on_last_date=True)``: bt fires on the first day of a month unless told to run at the
  end, and never on the data's last row unless told to; the sample has every XNYS session, so
  bt's "last row of the month in the data" is the exchange calendar's period end.
- bt's ``RunIfOutOfBounds(tol)`` is relative per asset, ``|w / w* - 1| > tol``, and only sees
  weights after ``WeighSpecified``; the stack is ``SelectAll, WeighSpecified, Or([RunOnce,
  RunIfOutOfBounds]), Rebalance``, which matches ``RebalanceRule.threshold(tol,
  kind="relative")`` checked daily (bt's strict ``>`` and our 1e-12 edge tolerance differ only
  on exact ties).
- bt reads ``close`` as is: splits and dividends are fed to it as a total-return series, and
  flowpressure gets the raw close with ``split_factor``/``dividend`` and
  ``dividends="reinvest"`` (a dividend buys the paying asset at that close).
- vectorbt: ``Portfolio.from_orders`` with ``size_type="targetpercent"`` on the rebalance
  dates, ``cash_sharing=True, group_by=True, call_seq="auto"`` (or buys run before sells and
  fills are silently partial), fractional sizes, no fees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from flowpressure.data import sample
from flowpressure.mechanics import PriceArrays, RebalanceRule
from flowpressure.mechanics.rebalance import simulate

bt = pytest.importorskip("bt")

STOCKS = [f"S{i:02d}" for i in range(1, 51)]


@pytest.fixture(scope="module")
def prices() -> pl.DataFrame:
    return sample.load("prices")


def total_return(prices: pl.DataFrame) -> pl.DataFrame:
    gross = (pl.col("close") * pl.col("split_factor") + pl.col("dividend")) / pl.col("close").shift(
        1
    ).over("asset_id", order_by="date")
    return prices.with_columns(
        close=pl.col("close").first().over("asset_id", order_by="date")
        * gross.fill_null(1.0).cum_prod().over("asset_id", order_by="date")
    ).select("asset_id", "date", "close")


def wide(prices: pl.DataFrame, ids: list[str], start: str, end: str) -> pd.DataFrame:
    part = prices.filter(
        pl.col("asset_id").is_in(ids)
        & pl.col("date").is_between(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    )
    frame = part.pivot(on="asset_id", index="date", values="close").sort("date").to_pandas()
    frame.index = pd.to_datetime(frame.pop("date"))
    return frame[ids]


def run_bt(data: pd.DataFrame, algos: list[Any]) -> Any:
    strategy = bt.Strategy("s", algos)
    test = bt.Backtest(
        strategy, data, initial_capital=1e6, integer_positions=False, progress_bar=False
    )
    bt.run(test)
    return test.strategy


def bt_trade_dates(strategy: Any) -> list[dt.date]:
    moved = strategy.positions.diff().abs().sum(axis=1)
    return [d.date() for d in moved.index[2:][moved.iloc[2:].to_numpy() > 0]]


def test_60_40_monthly_matches_bt(prices: pl.DataFrame) -> None:
    data = wide(prices, ["SPX", "AGG_TR"], "2014-01-02", "2018-12-31")
    weights = {"SPX": 0.6, "AGG_TR": 0.4}
    theirs = run_bt(
        data,
        [
            bt.algos.RunMonthly(run_on_end_of_period=True, run_on_last_date=True),
            bt.algos.SelectAll(),
            bt.algos.WeighSpecified(**weights),
            bt.algos.Rebalance(),
        ],
    )
    ours = simulate(prices, weights, "monthly", start="2014-01-02", end="2018-12-31")
    assert ours.final_value[0] == pytest.approx(theirs.value, rel=1e-9)
    assert ours.rebalance_dates() == bt_trade_dates(theirs)
    assert ours.values is not None
    np.testing.assert_allclose(ours.values[:, 0], theirs.values.iloc[1:], rtol=1e-9)


def test_60_40_threshold_matches_bt(prices: pl.DataFrame) -> None:
    data = wide(prices, ["SPX", "AGG_TR"], "2007-01-03", "2012-12-31")
    weights = {"SPX": 0.6, "AGG_TR": 0.4}
    theirs = run_bt(
        data,
        [
            bt.algos.SelectAll(),
            bt.algos.WeighSpecified(**weights),
            bt.algos.Or([bt.algos.RunOnce(), bt.algos.RunIfOutOfBounds(0.05)]),
            bt.algos.Rebalance(),
        ],
    )
    rule = RebalanceRule.threshold(0.05, kind="relative")
    ours = simulate(prices, weights, rule, start="2007-01-03", end="2012-12-31")
    assert ours.n_rebalances[0] > 5
    assert ours.rebalance_dates() == bt_trade_dates(theirs)
    assert ours.final_value[0] == pytest.approx(theirs.value, rel=1e-9)


def test_50_stocks_equal_weight_monthly_matches_bt_on_total_returns(prices: pl.DataFrame) -> None:
    start, end = "2009-06-01", "2011-06-30"  # S03 pays dividends, S07 splits in 2010
    weights = {a: 1 / 50 for a in STOCKS}
    theirs = run_bt(
        wide(total_return(prices), STOCKS, start, end),
        [
            bt.algos.RunMonthly(run_on_end_of_period=True, run_on_last_date=True),
            bt.algos.SelectAll(),
            bt.algos.WeighSpecified(**weights),
            bt.algos.Rebalance(),
        ],
    )
    ours = simulate(prices, weights, "monthly", dividends="reinvest", start=start, end=end)
    assert ours.dividends[0] > 0
    assert ours.final_value[0] == pytest.approx(theirs.value, rel=1e-9)
    raw = simulate(prices, weights, "monthly", start=start, end=end)  # dividends as cash
    assert raw.final_value[0] != pytest.approx(theirs.value, rel=1e-6)


@pytest.mark.slow
def test_60_40_monthly_matches_vectorbt(prices: pl.DataFrame) -> None:
    vbt = pytest.importorskip("vectorbt")
    data = wide(prices, ["SPX", "AGG_TR"], "2014-01-02", "2018-12-31")
    panel = PriceArrays.from_frame(prices)
    ours = simulate(panel, {"SPX": 0.6, "AGG_TR": 0.4}, "monthly", start="2014-01-02")
    assert ours.rebalanced is not None
    when = ours.rebalanced[:, 0].copy()
    when[0] = True
    size = pd.DataFrame(np.nan, index=data.index, columns=data.columns)
    size.loc[when, :] = [0.6, 0.4]
    pf = vbt.Portfolio.from_orders(
        data,
        size,
        size_type="targetpercent",
        group_by=True,
        cash_sharing=True,
        call_seq="auto",
        init_cash=1e6,
        freq="D",
    )
    value = pf.value().to_numpy()
    assert ours.values is not None
    np.testing.assert_allclose(ours.values[:, 0], value, rtol=1e-9)
