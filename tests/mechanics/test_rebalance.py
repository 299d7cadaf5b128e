"""Rebalancing simulator: worked examples, conventions, band variants, costs, flows, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from flowpressure import ConfigError, DataError, SchemaError
from flowpressure.data import period_end_sessions, sessions
from flowpressure.mechanics import (
    PriceArrays,
    RebalanceCosts,
    RebalanceRule,
    simulate_rebalance,
)
from flowpressure.mechanics.rebalance import simulate

DAYS_2024 = [d.astype(object) for d in sessions(dt.date(2024, 1, 2), dt.date(2024, 12, 31))]


def long_prices(days: list[dt.date], **series: Any) -> pl.DataFrame:
    """A long prices frame from one close series per asset (or (close, split, dividend))."""
    frames = []
    for asset, values in series.items():
        close, split, div = values if isinstance(values, tuple) else (values, None, None)
        data: dict[str, Any] = {
            "asset_id": [asset] * len(days),
            "date": days,
            "close": np.asarray(close, dtype=float),
        }
        if split is not None:
            data["split_factor"] = np.asarray(split, dtype=float)
        if div is not None:
            data["dividend"] = np.asarray(div, dtype=float)
        frames.append(pl.DataFrame(data))
    return pl.concat(frames, how="diagonal")


def drift_to(weight: float, target: float = 0.4) -> float:
    """Growth of the first asset (the second flat) that moves its weight from target to weight."""
    return weight * (1 - target) / (target * (1 - weight))


def two_day_drift(*weights: float, target: float = 0.4) -> tuple[pl.DataFrame, list[dt.date]]:
    days = DAYS_2024[: len(weights) + 1]
    a = [100.0] + [100.0 * drift_to(w, target) for w in weights]
    b = [100.0] * len(days)
    return long_prices(days, A=a, B=b), days


# worked examples ----------------------------------------------------------------------------


def test_design_example_sells_48bn_of_equities() -> None:
    # W = $1tn at 60/40, equities +20 %, bonds flat: the month end sells $48bn of equities.
    days = [dt.date(2024, 1, 30), dt.date(2024, 1, 31)]
    prices = long_prices(days, EQ=[100.0, 120.0], BOND=[50.0, 50.0])
    res = simulate(prices, {"EQ": 0.6, "BOND": 0.4}, "monthly", initial=1e12)
    trades = res.trades().filter(kind="rebalance")
    assert dict(zip(trades["asset_id"], trades["dollars"], strict=True)) == pytest.approx(
        {"EQ": -48e9, "BOND": 48e9}, rel=1e-12
    )
    assert res.n_rebalances.tolist() == [1]
    assert res.weights is not None
    assert res.weights[-1, 0].tolist() == pytest.approx([0.6, 0.4], abs=1e-15)


@pytest.mark.parametrize(("weight", "trades"), [(0.47, True), (0.44, False), (0.45, True)])
def test_seed_004_band_47_triggers_44_does_not(weight: float, trades: bool) -> None:
    # 40 % target with a 5-point band; 0.45 sits on the edge, which counts as outside (1e-12).
    prices, days = two_day_drift(weight)
    res = simulate(prices, {"A": 0.4, "B": 0.6}, RebalanceRule.threshold(0.05))
    assert res.rebalance_dates() == ([days[1]] if trades else [])


def test_band_edge_is_outside_but_just_inside_is_not() -> None:
    prices, _ = two_day_drift(0.4499, 0.45)
    res = simulate(prices, {"A": 0.4, "B": 0.6}, RebalanceRule.threshold(0.05))
    assert res.rebalance_dates() == [DAYS_2024[2]]


# conventions --------------------------------------------------------------------------------


def test_calendar_rule_trades_at_last_session_of_each_period() -> None:
    days = DAYS_2024[:90]  # to early May; March ends on Thursday 28th (Good Friday)
    rng = np.random.default_rng(1)
    prices = long_prices(
        days,
        A=100 * np.cumprod(1 + rng.normal(0, 0.01, len(days))),
        B=100 * np.cumprod(1 + rng.normal(0, 0.002, len(days))),
    )
    monthly = simulate(prices, {"A": 0.5, "B": 0.5}, "monthly")
    assert monthly.rebalance_dates() == period_end_sessions(days[0], days[-1], "M")
    assert dt.date(2024, 3, 28) in monthly.rebalance_dates()
    quarterly = simulate(prices, {"A": 0.5, "B": 0.5}, RebalanceRule.calendar("Q"))
    assert quarterly.rebalance_dates() == [dt.date(2024, 3, 28)]
    every = simulate(prices, {"A": 0.5, "B": 0.5}, RebalanceRule.every_n(21))
    assert every.rebalance_dates() == [days[21], days[42], days[63], days[84]]


def test_initial_investment_is_at_target_and_not_a_rebalance() -> None:
    days = DAYS_2024[:5]
    prices = long_prices(days, A=[10.0, 11, 12, 13, 14], B=[5.0, 5, 5, 5, 5])
    res = simulate(prices, {"A": 0.3, "B": 0.7}, "annual", initial=1000.0)
    assert res.n_rebalances.tolist() == [0]
    assert res.weights is not None
    assert res.weights[0, 0].tolist() == [0.3, 0.7]
    first = res.trades()
    assert first["kind"].to_list() == ["initial", "initial"]
    assert first["shares"].to_list() == pytest.approx([30.0, 140.0])
    assert res.traded.tolist() == [0.0]
    assert res.turnover.tolist() == [0.0]


def test_last_row_on_a_period_end_trades_with_the_calendar_but_not_with_own_dates() -> None:
    days = DAYS_2024[:21]  # ends 2024-01-31, the last session of January
    prices = long_prices(days, A=np.linspace(100, 130, 21), B=np.full(21, 100.0))
    assert simulate(prices, {"A": 0.5, "B": 0.5}).rebalance_dates() == [dt.date(2024, 1, 31)]
    own = simulate(prices, {"A": 0.5, "B": 0.5}, calendar=None)
    assert own.rebalance_dates() == []


def test_turnover_is_half_the_dollars_traded_over_mean_value_per_year() -> None:
    days = DAYS_2024[:60]
    rng = np.random.default_rng(7)
    prices = long_prices(
        days,
        A=100 * np.cumprod(1 + rng.normal(0, 0.02, 60)),
        B=100 * np.cumprod(1 + rng.normal(0, 0.01, 60)),
    )
    res = simulate(prices, {"A": 0.6, "B": 0.4}, "monthly")
    trades = res.trades().filter(pl.col("kind") != "initial")
    assert res.values is not None
    expected = trades["dollars"].abs().sum() / 2 / res.values[:, 0].mean() / (59 / 252)
    assert res.turnover[0] == pytest.approx(expected, rel=1e-12)
    assert res.mean_value[0] == pytest.approx(res.values[:, 0].mean(), rel=1e-12)
    assert res.values[-1, 0] == res.final_value[0]


def test_summary_mode_matches_full_mode() -> None:
    days = DAYS_2024[:120]
    rng = np.random.default_rng(3)
    prices = PriceArrays.from_frame(
        long_prices(
            days,
            A=100 * np.cumprod(1 + rng.normal(0, 0.02, 120)),
            B=100 * np.cumprod(1 + rng.normal(0, 0.01, 120)),
        )
    )
    for rule in ("monthly", RebalanceRule.threshold(0.03), RebalanceRule.calendar("M", band=0.02)):
        full = simulate(prices, {"A": 0.6, "B": 0.4}, rule, RebalanceCosts(bps=3))
        fast = simulate(prices, {"A": 0.6, "B": 0.4}, rule, RebalanceCosts(bps=3), record="summary")
        assert fast.values is None
        assert fast.final_value[0] == pytest.approx(full.final_value[0], rel=1e-13)
        assert fast.mean_value[0] == pytest.approx(full.mean_value[0], rel=1e-12)
        assert fast.n_rebalances.tolist() == full.n_rebalances.tolist()
        with pytest.raises(ConfigError, match="record"):
            fast.rebalance_dates()
        with pytest.raises(ConfigError, match="record"):
            fast.trades()


def test_sweep_equals_one_run_per_portfolio() -> None:
    days = DAYS_2024[:150]
    rng = np.random.default_rng(5)
    prices = PriceArrays.from_frame(
        long_prices(
            days,
            A=100 * np.cumprod(1 + rng.normal(0, 0.02, 150)),
            B=100 * np.cumprod(1 + rng.normal(0, 0.01, 150)),
            C=100 * np.cumprod(1 + rng.normal(0, 0.005, 150)),
        )
    )
    a = np.array([0.2, 0.5, 0.7, 1.0])
    sweep = {"A": a, "B": (1 - a) / 2, "C": (1 - a) / 2}
    rule = RebalanceRule.threshold(0.04)
    together = simulate(prices, sweep, rule, RebalanceCosts(bps=5, fixed=1.0), record="values")
    for p, w in enumerate(a):
        one = simulate(
            prices, {"A": w, "B": (1 - w) / 2, "C": (1 - w) / 2}, rule, RebalanceCosts(5, 1.0)
        )
        assert together.final_value[p] == pytest.approx(one.final_value[0], rel=1e-14)
        assert together.rebalance_dates(p) == one.rebalance_dates()
        assert together.costs[p] == pytest.approx(one.costs[0], rel=1e-12)


def test_wide_frame_targets_and_backends_agree() -> None:
    days = DAYS_2024[:40]
    prices = long_prices(days, A=np.linspace(10, 14, 40), B=np.linspace(10, 9, 40))
    as_pandas = prices.to_pandas()
    as_pandas["date"] = pd.to_datetime(as_pandas["date"])
    targets = pl.DataFrame({"A": [0.5, 0.8], "B": [0.5, 0.2]})
    left = simulate(prices, targets, "monthly")
    right = simulate(as_pandas, targets.to_pandas(), "monthly")
    assert left.final_value.tolist() == right.final_value.tolist()
    assert left.n_portfolios == 2


# band variants --------------------------------------------------------------------------------


def test_relative_and_hybrid_bands() -> None:
    prices, days = two_day_drift(0.43, 0.45)
    rel = RebalanceRule.threshold(0.1, kind="relative")  # 0.4 +- 0.04
    assert simulate(prices, {"A": 0.4, "B": 0.6}, rel).rebalance_dates() == [days[2]]
    hybrid = RebalanceRule.threshold(0.1, kind="hybrid", floor=0.06)  # max(0.04, 0.06)
    assert simulate(prices, {"A": 0.4, "B": 0.6}, hybrid).rebalance_dates() == []


def test_per_asset_bands() -> None:
    prices, days = two_day_drift(0.43)
    wide = RebalanceRule.threshold({"A": 0.05, "B": 0.05})
    narrow = RebalanceRule.threshold({"A": 0.02, "B": 0.5})
    assert simulate(prices, {"A": 0.4, "B": 0.6}, wide).rebalance_dates() == []
    assert simulate(prices, {"A": 0.4, "B": 0.6}, narrow).rebalance_dates() == [days[1]]


def test_band_sweep_as_array() -> None:
    prices, _ = two_day_drift(0.43)
    rule = RebalanceRule.threshold(np.array([[0.02], [0.05]]))
    res = simulate(prices, {"A": [0.4, 0.4], "B": [0.6, 0.6]}, rule)
    assert res.n_rebalances.tolist() == [1, 0]


def test_rebalance_to_edge() -> None:
    prices, _ = two_day_drift(0.52, target=0.6)  # A: 0.6 -> 0.52 (outside the 5-point band)
    res = simulate(prices, {"A": 0.6, "B": 0.4}, RebalanceRule.threshold(0.05, to="edge"))
    assert res.weights is not None
    assert res.weights[-1, 0].tolist() == pytest.approx([0.55, 0.45], abs=1e-12)


def test_trade_only_assets_outside_their_band() -> None:
    days = DAYS_2024[:2]
    # A: 0.4 -> 0.47 (out), B: 0.3 -> 0.23 (out), C stays at 0.30 (in): C never trades
    v = 0.47 + 0.23 + 0.30
    prices = long_prices(days, A=[1.0, 0.47 / 0.4], B=[1.0, 0.23 / 0.3], C=[1.0, 1.0])
    assert v == pytest.approx(1.0)
    rule = RebalanceRule.threshold(0.05, trade="outside")
    res = simulate(prices, {"A": 0.4, "B": 0.3, "C": 0.3}, rule)
    traded = res.trades().filter(kind="rebalance")
    assert traded["asset_id"].to_list() == ["A", "B"]
    assert res.weights is not None
    assert res.weights[-1, 0].tolist() == pytest.approx([0.4, 0.3, 0.3], abs=1e-12)


def test_outside_only_spreads_the_net_amount_toward_targets_of_assets_inside() -> None:
    days = DAYS_2024[:2]
    # A: 0.4 -> 0.5 (out); B 0.35 and C 0.15 inside their 0.1 bands, both under target 0.3/0.3?
    prices = long_prices(days, A=[1.0, 0.5 / 0.4], B=[1.0, 0.35 / 0.4], C=[1.0, 0.15 / 0.2])
    rule = RebalanceRule.threshold(0.08, trade="outside")
    res = simulate(prices, {"A": 0.4, "B": 0.4, "C": 0.2}, rule)
    # A sells 0.10 of value; B (gap 0.05) and C (gap 0.05) each take their gap
    assert res.weights is not None
    assert res.weights[-1, 0].tolist() == pytest.approx([0.4, 0.4, 0.2], abs=1e-12)
    fills = res.trades().filter(kind="rebalance").sort("asset_id")["dollars"].to_list()
    assert fills == pytest.approx([-0.1e6, 0.05e6, 0.05e6], rel=1e-9)


def test_calendar_with_threshold_checks_only_period_ends() -> None:
    days = DAYS_2024[:63]
    a = np.full(63, 100.0)
    a[10:] = 100 * drift_to(0.47)  # out of the band from row 10 (Jan 17) to the month end
    a[25:] = 100 * drift_to(0.44)  # then down 11 %: inside the band after either rebalance
    prices = long_prices(days, A=a, B=np.full(63, 100.0))
    daily = simulate(prices, {"A": 0.4, "B": 0.6}, RebalanceRule.threshold(0.05))
    monthly = simulate(prices, {"A": 0.4, "B": 0.6}, RebalanceRule.calendar("M", band=0.05))
    assert daily.rebalance_dates() == [days[10]]
    assert monthly.rebalance_dates() == [dt.date(2024, 1, 31)]


# costs and taxes --------------------------------------------------------------------------


def test_costs_are_paid_by_selling_and_trades_sum_to_minus_costs() -> None:
    days = DAYS_2024[:130]
    rng = np.random.default_rng(11)
    prices = long_prices(
        days,
        A=100 * np.cumprod(1 + rng.normal(0, 0.02, 130)),
        B=100 * np.cumprod(1 + rng.normal(0, 0.01, 130)),
        C=100 * np.cumprod(1 + rng.normal(0, 0.01, 130)),
    )
    costs = RebalanceCosts(bps={"A": 10, "B": 2, "C": 5}, fixed=25.0)
    res = simulate(prices, {"A": 0.5, "B": 0.3, "C": 0.2}, "monthly", costs)
    free = simulate(prices, {"A": 0.5, "B": 0.3, "C": 0.2}, "monthly")
    trades = res.trades().filter(kind="rebalance")
    per_date = trades.group_by("date").agg(pl.col("dollars").sum(), pl.col("cost").sum())
    assert per_date["dollars"].to_numpy() == pytest.approx(-per_date["cost"].to_numpy(), abs=1e-6)
    assert trades["cost"].sum() == pytest.approx(res.costs[0], rel=1e-12)
    assert res.costs[0] > 25.0 * res.n_rebalances[0]
    assert res.final_value[0] < free.final_value[0]
    assert res.weights is not None
    rebalanced = res.rebalanced
    assert rebalanced is not None
    after = res.weights[rebalanced[:, 0], 0]
    np.testing.assert_allclose(after, [[0.5, 0.3, 0.2]] * len(after), atol=1e-13)


def test_realised_gains_use_average_cost_and_losses_carry_forward() -> None:
    days = DAYS_2024[:23]  # two month ends: Jan 31 (row 20) and the last row is Feb 2
    a = np.full(23, 100.0)
    a[20:] = 150.0
    prices = long_prices(days, A=a, B=np.full(23, 100.0))
    res = simulate(
        prices, {"A": 0.5, "B": 0.5}, "monthly", RebalanceCosts(tax_rate=0.2), initial=1000.0
    )
    # A: 5 units at 100, worth 750 at 150; target 625 -> sell 125 = 0.8333 units, gain 41.67
    assert res.realized_gains[0] == pytest.approx(125 / 150 * 50, rel=1e-12)
    assert res.taxes[0] == pytest.approx(0.2 * 125 / 150 * 50, rel=1e-12)
    assert res.final_value[0] == pytest.approx(1250.0, rel=1e-12)  # reported, not deducted
    paid = simulate(
        prices,
        {"A": 0.5, "B": 0.5},
        "monthly",
        RebalanceCosts(tax_rate=0.2, deduct_taxes=True),
        initial=1000.0,
    )
    assert paid.final_value[0] == pytest.approx(1250.0 - paid.taxes[0], rel=1e-12)
    trades = paid.trades().filter(kind="rebalance")
    assert trades["dollars"].sum() == pytest.approx(-paid.taxes[0], rel=1e-9)


def test_a_realised_loss_is_carried_forward_against_later_gains() -> None:
    days = DAYS_2024[:42]  # month ends at rows 20 (Jan 31) and 40 (Feb 29)
    a = np.full(42, 100.0)
    a[20:] = 80.0  # January: A falls less than B, so rebalancing sells A at a loss
    b = np.full(42, 100.0)
    b[20:] = 50.0
    b[40:] = 150.0  # February: B triples, rebalancing sells B at a gain
    prices = long_prices(days, A=a, B=b)
    res = simulate(prices, {"A": 0.5, "B": 0.5}, "monthly", RebalanceCosts(tax_rate=0.3))
    trades = res.trades().filter(kind="rebalance")
    by_date = dict(trades.group_by("date").agg(pl.col("realized_gain").sum()).iter_rows())
    loss, gain = by_date[days[20]], by_date[days[40]]
    assert loss < 0 < gain + loss
    assert res.realized_gains[0] == pytest.approx(gain + loss, rel=1e-12)
    assert res.taxes[0] == pytest.approx(0.3 * (gain + loss), rel=1e-12)


# splits, dividends, flows ---------------------------------------------------------------------


def test_split_changes_shares_not_value() -> None:
    days = DAYS_2024[:25]
    close = np.full(25, 100.0)
    close[10:] = 50.0
    split = np.ones(25)
    split[10] = 2.0  # 2-for-1: 5,000 shares at 100 become 10,000 at 50
    b = np.full(25, 20.0)
    b[15:] = 25.0
    with_split = long_prices(days, A=(close, split, np.zeros(25)), B=b)
    res = simulate(with_split, {"A": 0.5, "B": 0.5}, "monthly")
    assert res.final_value[0] == pytest.approx(1.125e6, rel=1e-14)
    trades = res.trades()
    assert trades.filter(kind="initial")["shares"][0] == pytest.approx(5000.0)
    bought = trades.filter(kind="rebalance", asset_id="A")
    assert bought["shares"][0] == pytest.approx(62_500 / 50)
    assert bought["price"][0] == pytest.approx(50.0)


def test_dividends_wait_as_cash_or_are_reinvested() -> None:
    days = DAYS_2024[:25]
    div = np.zeros(25)
    div[5] = 2.0  # ex-date: the close drops by the dividend
    close = np.full(25, 100.0)
    close[5:] = 98.0
    prices = long_prices(days, A=(close, np.ones(25), div), B=np.full(25, 50.0))
    cash = simulate(prices, {"A": 0.5, "B": 0.5}, "monthly")
    again = simulate(prices, {"A": 0.5, "B": 0.5}, "monthly", dividends="reinvest")
    assert cash.dividends[0] == pytest.approx(5000 * 2.0)
    assert cash.final_value[0] == pytest.approx(1e6, rel=1e-14)  # 98 close + 2 dividend
    assert again.final_value[0] == pytest.approx(1e6, rel=1e-14)
    assert cash.weights is not None
    assert again.weights is not None
    assert cash.weights[10, 0].sum() < 0.995  # cash waits until the month end
    assert again.weights[10, 0].sum() == pytest.approx(1.0)
    assert cash.weights[20, 0].tolist() == pytest.approx([0.5, 0.5])  # invested at Jan 31


def test_contribution_goes_to_underweight_assets_first() -> None:
    days = DAYS_2024[:3]
    prices = long_prices(days, EQ=[100.0, 120.0, 120.0], BOND=[100.0, 100.0, 100.0])
    # after day 1: EQ 720k, BOND 400k (64.3 / 35.7); a 20k contribution buys bonds only
    res = simulate(prices, {"EQ": 0.6, "BOND": 0.4}, "annual", flows={days[1]: 20_000.0})
    flow = res.trades().filter(kind="flow")
    assert flow["asset_id"].to_list() == ["BOND"]
    assert flow["dollars"].to_list() == pytest.approx([20_000.0])
    assert res.flows[0] == 20_000.0
    assert res.n_rebalances[0] == 0
    # a contribution larger than the gap fills it, then goes pro rata to targets
    big = simulate(prices, {"EQ": 0.6, "BOND": 0.4}, "annual", flows={days[1]: 280_000.0})
    assert big.weights is not None
    assert big.weights[1, 0].tolist() == pytest.approx([0.6, 0.4])


def test_withdrawal_comes_from_overweight_first_and_only_the_rest_rebalances() -> None:
    days = DAYS_2024[:21]
    eq = np.full(21, 100.0)
    eq[20] = 120.0  # Jan 31: drift to 64.3 %
    prices = long_prices(days, EQ=eq, BOND=np.full(21, 100.0))
    flows = pl.DataFrame({"date": [days[20]], "flow": [-30_000.0]})
    res = simulate(prices, {"EQ": 0.6, "BOND": 0.4}, "monthly", flows=flows)
    trades = res.trades()
    assert trades.filter(kind="flow")["asset_id"].to_list() == ["EQ"]
    rebalance = trades.filter(kind="rebalance")
    # the withdrawal sold 30k of equities; the month end trades only the rest of the drift
    assert rebalance["dollars"].abs().to_list() == pytest.approx([48_000 - 30_000 * 0.4] * 2)


def test_missing_price_on_a_quiet_day_is_carried_forward_and_counted() -> None:
    days = DAYS_2024[:10]
    prices = long_prices(days, A=np.linspace(10, 11, 10), B=np.full(10, 5.0))
    prices = prices.filter(~((pl.col("asset_id") == "B") & (pl.col("date") == days[4])))
    res = simulate(prices, {"A": 0.5, "B": 0.5}, "annual")
    assert res.diagnostics["filled_prices"] == 1


# bad input -----------------------------------------------------------------------------------


def _bad_cases() -> list[tuple[str, dict[str, Any], type[Exception], str]]:
    return [
        ("not summing to 1", {"targets": {"A": 0.6, "B": 0.3}}, ConfigError, "'targets'"),
        ("percent", {"targets": {"A": 60.0, "B": 40.0}}, ConfigError, "summing to 1"),
        ("negative", {"targets": {"A": 1.2, "B": -0.2}}, ConfigError, "allow_short"),
        ("unknown asset", {"targets": {"A": 0.5, "Z": 0.5}}, ConfigError, "asset_id=Z"),
        ("band per asset", {"rule": RebalanceRule.threshold({"A": 0.05})}, ConfigError, "'band'"),
        ("threshold string", {"rule": "threshold"}, ConfigError, "'rule'"),
        ("unknown rule", {"rule": "weekly"}, ConfigError, "'rule'"),
        ("initial", {"initial": 0.0}, ConfigError, "'initial'"),
        ("record", {"record": "everything"}, ConfigError, "'record'"),
        ("dividends", {"dividends": "drip"}, ConfigError, "'dividends'"),
        ("flow date", {"flows": {"2023-06-01": 5.0}}, DataError, "'flows'"),
        ("withdrawal", {"flows": {"2024-01-05": -2e6}}, DataError, "'value'"),
    ]


@pytest.mark.parametrize(("case", "kwargs", "error", "names"), _bad_cases())
def test_bad_input_names_the_field(
    case: str, kwargs: dict[str, Any], error: type[Exception], names: str
) -> None:
    days = DAYS_2024[:30]
    prices = long_prices(days, A=np.linspace(10, 12, 30), B=np.full(30, 5.0))
    args: dict[str, Any] = {"targets": {"A": 0.5, "B": 0.5}, "rule": "monthly"} | kwargs
    with pytest.raises(error, match=names):
        simulate(prices, **args)


@pytest.mark.parametrize("band", [0.0, -0.05, [0.05, 0.0], {"A": 0.05, "B": -1.0}, np.nan])
def test_band_must_be_positive(band: Any) -> None:
    with pytest.raises(ConfigError, match=r"field 'band'.*> 0"):
        RebalanceRule.threshold(band)
    with pytest.raises(ConfigError, match=r"field 'band'"):
        RebalanceRule.calendar("M", band=band)


def test_cost_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="'bps'"):
        RebalanceCosts(bps=-1)
    with pytest.raises(ConfigError, match="'tax_rate'"):
        RebalanceCosts(tax_rate=20)
    with pytest.raises(ConfigError, match="'fixed'"):
        RebalanceCosts(fixed=float("inf"))


def test_rule_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="'every'"):
        RebalanceRule.every_n(0)
    with pytest.raises(ConfigError, match="'to'"):
        RebalanceRule.calendar("M", to="edge")  # an edge needs a band
    with pytest.raises(ConfigError, match="'band_kind'"):
        RebalanceRule.threshold(0.05, kind="percent")
    with pytest.raises(ConfigError, match="'schedule'"):
        RebalanceRule.calendar("W")


def test_missing_price_on_a_rebalance_date_is_an_error() -> None:
    days = DAYS_2024[:30]
    prices = long_prices(days, A=np.linspace(10, 12, 30), B=np.full(30, 5.0))
    no_b = prices.filter(~((pl.col("asset_id") == "B") & (pl.col("date") == dt.date(2024, 1, 31))))
    with pytest.raises(DataError, match=r"field 'close' at asset_id=B, date=2024-01-31"):
        simulate(no_b, {"A": 0.5, "B": 0.5}, "monthly")
    no_day = prices.filter(pl.col("date") != dt.date(2024, 1, 31))
    with pytest.raises(DataError, match=r"field 'date' at date=2024-01-31.*last XNYS session"):
        simulate(no_day, {"A": 0.5, "B": 0.5}, "monthly")
    first = prices.filter(~((pl.col("asset_id") == "B") & (pl.col("date") == days[0])))
    with pytest.raises(DataError, match="first date"):
        simulate(first, {"A": 0.5, "B": 0.5}, "monthly")


def test_bad_prices_are_errors() -> None:
    days = DAYS_2024[:3]
    prices = long_prices(days, A=[1.0, -2.0, 3.0], B=[1.0, 1.0, 1.0])
    with pytest.raises(DataError, match=r"'close' at asset_id=A, date=2024-01-03"):
        simulate(prices, {"A": 0.5, "B": 0.5})
    with pytest.raises(SchemaError, match="'close'"):
        simulate(prices.drop("close"), {"A": 0.5, "B": 0.5})
    twice = pl.concat([prices, prices.head(1)])
    with pytest.raises(DataError, match="one row per asset and date"):
        simulate(twice, {"A": 0.5, "B": 0.5})


def test_shorts_need_permission_and_then_work() -> None:
    prices, _ = two_day_drift(0.45)
    res = simulate(prices, {"A": 1.5, "B": -0.5}, "daily", allow_short=True)
    assert res.weights is not None
    assert res.weights[-1, 0].tolist() == pytest.approx([1.5, -0.5])


def test_public_alias_is_the_same_function() -> None:
    assert simulate_rebalance is simulate
