"""Benchmark: the rebalancing simulator against bt and vectorbt, measured in the same run.

Run with ``.venv/bin/python -m benchmarks bench_rebalance`` (or ``python -m
benchmarks.bench_rebalance --quick`` for a shorter run). Data: the embedded sample, 20 years of
daily closes (5,031 XNYS sessions, 1999-2018): SPX and the AGG_TR bond index for 60/40, and
the 50 synthetic stocks S01..S50 (one pays dividends, one splits) for equal weight.

Scenarios (warm, best of 3): 60/40 monthly, 60/40 with a 5 % relative band checked daily
(bt's ``RunIfOutOfBounds(0.05)``), 50 assets equal weight monthly, and a sweep of 10,000
target equity weights (0 to 1) under the monthly and the threshold rule. flowpressure runs on
``PriceArrays`` pivoted once (the peers get a wide pandas frame, also built once); the
end-to-end call from the long frame is reported beside it. bt runs the sweep on a few
portfolios and is extrapolated (a Python loop per portfolio); vectorbt runs 1,000 portfolios
and is extrapolated to 10,000 (its inputs are (dates x 2 x portfolios) frames); both are said
so in the table. vectorbt has no built-in path-dependent threshold rule. bt and vectorbt get
total-return prices for the 50 stocks (flowpressure: raw close, splits and dividends, with
``dividends="reinvest"``).

Also measured: ``import flowpressure``, and the first call in a fresh process with numba's
on-disk cache cold (compiling) and warm, with and without the exchange calendar.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from flowpressure.data import sample
from flowpressure.mechanics import PriceArrays, RebalanceRule
from flowpressure.mechanics.rebalance import simulate

STOCKS = [f"S{i:02d}" for i in range(1, 51)]
SWEEP = 10_000


def best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    out: Any = None
    fastest = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        fastest = min(fastest, time.perf_counter() - t0)
    return fastest, out


def wide(prices: pl.DataFrame, ids: list[str]) -> pd.DataFrame:
    frame = (
        prices.filter(pl.col("asset_id").is_in(ids))
        .pivot(on="asset_id", index="date", values="close")
        .sort("date")
        .to_pandas()
    )
    frame.index = pd.to_datetime(frame.pop("date"))
    return frame[ids]


def total_return(prices: pl.DataFrame) -> pl.DataFrame:
    gross = (pl.col("close") * pl.col("split_factor") + pl.col("dividend")) / pl.col("close").shift(
        1
    ).over("asset_id", order_by="date")
    return prices.with_columns(
        close=pl.col("close").first().over("asset_id", order_by="date")
        * gross.fill_null(1.0).cum_prod().over("asset_id", order_by="date")
    )


def bt_run(data: pd.DataFrame, weights: dict[str, float], threshold: bool) -> float:
    import bt

    if threshold:
        algos = [
            bt.algos.SelectAll(),
            bt.algos.WeighSpecified(**weights),
            bt.algos.Or([bt.algos.RunOnce(), bt.algos.RunIfOutOfBounds(0.05)]),
            bt.algos.Rebalance(),
        ]
    else:
        algos = [
            bt.algos.RunMonthly(run_on_end_of_period=True, run_on_last_date=True),
            bt.algos.SelectAll(),
            bt.algos.WeighSpecified(**weights),
            bt.algos.Rebalance(),
        ]
    test = bt.Backtest(
        bt.Strategy("s", algos),
        data,
        initial_capital=1e6,
        integer_positions=False,
        progress_bar=False,
    )
    bt.run(test)
    return float(test.strategy.value)


def month_ends(index: pd.DatetimeIndex) -> np.ndarray[Any, Any]:
    key = index.year * 12 + index.month
    ends = np.r_[key[1:] != key[:-1], True]  # the last row is a month end here (Dec 31)
    ends[0] = True  # the initial investment
    return np.asarray(ends)


def vbt_run(data: pd.DataFrame, weights: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Monthly rebalancing of len(weights) portfolios of the columns of ``data`` in vectorbt."""
    import vectorbt as vbt

    n_p, n = weights.shape
    close = pd.DataFrame(np.tile(data.to_numpy(), n_p), index=data.index)
    size = np.full(close.shape, np.nan)
    size[month_ends(data.index)] = weights.reshape(-1)
    pf = vbt.Portfolio.from_orders(
        close,
        pd.DataFrame(size, index=data.index),
        size_type="targetpercent",
        group_by=np.repeat(np.arange(n_p), n),
        cash_sharing=True,
        call_seq="auto",
        init_cash=1e6,
        freq="D",
    )
    return np.atleast_1d(np.asarray(pf.value().iloc[-1]))


FIRST_CALL = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from flowpressure.mechanics.rebalance import PriceArrays, simulate
t1 = time.perf_counter()
days = np.arange(np.datetime64("2000-01-03"), np.datetime64("2019-12-31"))
days = days[np.is_busday(days)][:5040]
rng = np.random.default_rng(0)
close = 100 * np.cumprod(1 + rng.normal(0, 0.01, (5040, 2)), axis=0)
pa = PriceArrays(days, ("EQ", "BOND"), close)
t2 = time.perf_counter()
simulate(pa, {"EQ": 0.6, "BOND": 0.4}, "monthly", calendar=None)
t3 = time.perf_counter()
simulate(pa, {"EQ": 0.6, "BOND": 0.4}, "monthly")
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t3 - t2, "calendar": t4 - t3, "total": t4 - t0}))
"""


def fresh_process(cache_dir: str) -> dict[str, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True, env=env
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def import_time() -> float:
    code = (
        "import time; t = time.perf_counter(); import flowpressure; print(time.perf_counter() - t)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    return min(runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_rebalance")
    parser.add_argument("--quick", action="store_true", help="Smaller peer subsamples.")
    args = parser.parse_args(argv)
    try:
        import bt  # noqa: F401

        have_bt = True
    except ImportError:
        have_bt = False
    try:
        import vectorbt  # noqa: F401

        have_vbt = True
    except ImportError:
        have_vbt = False

    prices = sample.load("prices")
    n_days = prices["date"].n_unique()
    panel = PriceArrays.from_frame(prices)
    six_four = {"SPX": 0.6, "AGG_TR": 0.4}
    equal = {a: 1 / 50 for a in STOCKS}
    threshold = RebalanceRule.threshold(0.05, kind="relative")
    eq = np.linspace(0.0, 1.0, SWEEP)
    sweep = {"SPX": eq, "AGG_TR": 1 - eq}
    band = RebalanceRule.threshold(0.05)

    simulate(panel, six_four, "monthly")  # load the kernel (numba cache)
    rows: list[tuple[str, str, float, float | None, str, float | None, str]] = []
    ours: dict[str, Any] = {}

    t, ours["m"] = best(lambda: simulate(panel, six_four, "monthly"))
    t_long, _ = best(lambda: simulate(prices, six_four, "monthly"))
    peers_m = wide(prices, ["SPX", "AGG_TR"])
    bt_m = best(lambda: bt_run(peers_m, six_four, False)) if have_bt else None
    vbt_m = best(lambda: vbt_run(peers_m, np.array([[0.6, 0.4]]))) if have_vbt else None
    rows.append(("60/40 monthly", f"{n_days} x 2", t, bt_m and bt_m[0], "", vbt_m and vbt_m[0], ""))

    t_thr, ours["t"] = best(lambda: simulate(panel, six_four, threshold))
    bt_t = best(lambda: bt_run(peers_m, six_four, True)) if have_bt else None
    rows.append(
        (
            "60/40 5% relative band, daily",
            f"{n_days} x 2",
            t_thr,
            bt_t and bt_t[0],
            "",
            None,
            "no built-in rule",
        )
    )

    t50, ours["e"] = best(lambda: simulate(panel, equal, "monthly", dividends="reinvest"))
    peers_e = wide(total_return(prices), STOCKS)
    bt_e = best(lambda: bt_run(peers_e, equal, False)) if have_bt else None
    vbt_e = best(lambda: vbt_run(peers_e, np.full((1, 50), 1 / 50))) if have_vbt else None
    rows.append(
        (
            "50 assets equal weight monthly",
            f"{n_days} x 50",
            t50,
            bt_e and bt_e[0],
            "",
            vbt_e and vbt_e[0],
            "",
        )
    )

    t_sw, sw = best(lambda: simulate(panel, sweep, "monthly"))
    bt_sw = bt_note = None
    if have_bt:
        k = 2 if args.quick else 5
        t_k, _ = best(
            lambda: [
                bt_run(peers_m, {"SPX": w, "AGG_TR": 1 - w}, False) for w in eq[:: SWEEP // k][:k]
            ],
            repeat=1,
        )
        bt_sw, bt_note = t_k * SWEEP / k, f"{k} run, x{SWEEP // k}"
    vbt_sw = vbt_note = None
    if have_vbt:
        k = 200 if args.quick else 1_000
        sub = eq[:: SWEEP // k][:k]
        vbt_run(peers_m, np.stack([sub, 1 - sub], axis=1))  # warm up its compilation
        t_k, vbt_values = best(lambda: vbt_run(peers_m, np.stack([sub, 1 - sub], axis=1)))
        vbt_sw, vbt_note = t_k * SWEEP / k, f"{k:,} run, x{SWEEP // k}"
        ours["sweep_vbt"] = (vbt_values, sw.final_value[:: SWEEP // k][:k])
    rows.append(
        (
            f"sweep {SWEEP:,} portfolios, monthly",
            f"{n_days} x 2 x {SWEEP:,}",
            t_sw,
            bt_sw,
            bt_note or "",
            vbt_sw,
            vbt_note or "",
        )
    )
    t_swt, _ = best(lambda: simulate(panel, sweep, band))
    rows.append(
        (
            f"sweep {SWEEP:,} portfolios, 5-pt band daily",
            f"{n_days} x 2 x {SWEEP:,}",
            t_swt,
            None,
            "",
            None,
            "no built-in rule",
        )
    )

    def ms(x: float | None) -> str:
        return "-" if x is None else f"{x * 1e3:,.1f}"

    def ratio(peer: float | None, mine: float) -> str:
        return "-" if peer is None else f"{peer / mine:,.0f}x"

    head = (
        f"{'scenario':<40} {'data':>16} {'flowpressure ms':>16} {'bt ms':>12} {'bt/fp':>8} "
        f"{'vectorbt ms':>12} {'vbt/fp':>8}  notes"
    )
    print(head)
    print("-" * len(head))
    for name, size, mine, b, bnote, v, vnote in rows:
        notes = "; ".join(x for x in (bnote and f"bt {bnote}", vnote and f"vectorbt {vnote}") if x)
        print(
            f"{name:<40} {size:>16} {ms(mine):>16} {ms(b):>12} {ratio(b, mine):>8} "
            f"{ms(v):>12} {ratio(v, mine):>8}  {notes}"
        )
    print(f"60/40 monthly from the long frame (pivot included): {t_long * 1e3:.1f} ms")

    print("\nparity (relative difference of final values, 20 years):")
    if have_bt:
        for key, peer in (("m", bt_m), ("t", bt_t), ("e", bt_e)):
            assert peer is not None
            print(f"  bt  {key}: {abs(ours[key].final_value[0] / peer[1] - 1):.1e}")
    if have_vbt:
        assert vbt_m is not None
        assert vbt_e is not None
        print(f"  vectorbt 60/40 monthly: {abs(ours['m'].final_value[0] / vbt_m[1][0] - 1):.1e}")
        print(f"  vectorbt 50 assets:     {abs(ours['e'].final_value[0] / vbt_e[1][0] - 1):.1e}")
        theirs, mine = ours["sweep_vbt"]
        print(f"  vectorbt sweep (max over {len(mine):,}): {np.max(np.abs(mine / theirs - 1)):.1e}")

    print(f"\nimport flowpressure: {import_time() * 1e3:.0f} ms")
    with tempfile.TemporaryDirectory() as cache:
        cold = fresh_process(cache)
        warm = fresh_process(cache)
    for name, run in (("cold numba cache (compiles)", cold), ("warm numba cache", warm)):
        print(
            f"fresh process, {name}: import rebalance {run['import']:.2f} s, first simulate "
            f"{run['first']:.2f} s (calendar=None), then +{run['calendar']:.2f} s for the "
            f"first XNYS calendar; total {run['total']:.2f} s"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
