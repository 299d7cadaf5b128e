"""Benchmark: mechanics kernels vectorised across parameter sets against per-set loops.

Run with ``.venv/bin/python -m benchmarks bench_mechanics``. On the 5,030 daily SPX returns of
the embedded sample it times, best of 3 each:

- EWMA volatility and vol-target exposure for P decays at once (``realized_vol`` with an array
  ``lam``) against a loop of pandas ``Series.ewm(adjust=False)`` over the P decays;
- rolling-window volatility for P windows at once against a loop of pandas ``rolling``;
- CTA exposure for P lookback-weight sets at once (``trend_exposure``) against P calls;
- the GEX profile of the sample chain (480 contracts x 201 spots, one array pass) against a
  scalar ``math`` loop over contracts and spots.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from flowpressure.data import sample
from flowpressure.mechanics import gex_profile, realized_vol, target_exposure, trend_exposure


def _best(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _line(name: str, ours: float, theirs: float, peer: str) -> None:
    print(f"{name}: flowpressure {ours:.3f} s, {peer} {theirs:.3f} s, ratio {theirs / ours:.1f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_mechanics")
    parser.add_argument("--sets", type=int, default=1000, help="parameter sets P")
    args = parser.parse_args(argv)
    n_sets = args.sets

    spx = sample.load("prices").filter(pl.col("asset_id") == "SPX").sort("date")
    close = spx["close"].to_numpy()
    r = close[1:] / close[:-1] - 1.0
    print(f"SPX: {r.size:,} daily returns; P = {n_sets:,} parameter sets")

    lams = np.linspace(0.80, 0.99, n_sets)
    targets = np.linspace(0.05, 0.20, n_sets)

    def ours_ewma() -> Any:
        return target_exposure(realized_vol(r, window=20, lam=lams), targets, 2.0)

    def pandas_ewma() -> Any:
        out = np.empty((r.size, n_sets))
        r2 = pd.Series(r * r)
        seed = float(np.mean(r[:20] ** 2))
        for j, lam in enumerate(lams):
            s = pd.concat([pd.Series([seed]), r2.iloc[20:]], ignore_index=True)
            var = s.ewm(alpha=1.0 - lam, adjust=False).mean().to_numpy()
            vol = np.sqrt(252.0 * var)
            out[19:, j] = np.minimum(2.0, targets[j] / vol)
        return out

    a, b = ours_ewma(), pandas_ewma()
    assert np.allclose(a[19:], b[19:], rtol=1e-9)
    _line("EWMA vol target", _best(ours_ewma), _best(pandas_ewma), "pandas ewm loop")

    windows = np.linspace(5, 250, n_sets).astype(np.int64)

    def ours_roll() -> Any:
        return realized_vol(r, window=windows)

    def pandas_roll() -> Any:
        s = pd.Series(r * r)
        return np.column_stack(
            [np.sqrt(252.0 * s.rolling(int(w)).mean().to_numpy()) for w in windows]
        )

    assert np.allclose(ours_roll(), pandas_roll(), rtol=1e-7, equal_nan=True)
    _line("rolling vol", _best(ours_roll), _best(pandas_roll), "pandas rolling loop")

    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(4), n_sets)
    lookbacks = [20, 60, 120, 250]

    def ours_cta() -> Any:
        return trend_exposure(close, lookbacks, weights=weights)

    def loop_cta() -> Any:
        return np.column_stack([trend_exposure(close, lookbacks, weights=w) for w in weights])

    assert np.allclose(ours_cta(), loop_cta(), equal_nan=True)
    _line("CTA exposure", _best(ours_cta), _best(loop_cta), "one call per set")

    chain = sample.load("options")
    spot = float(chain["underlying_price"][0])
    levels = spot * np.linspace(0.8, 1.2, 201)
    rows = chain.with_columns(
        t=(pl.col("expiry") - pl.col("date")).dt.total_days() / 365.0,
        sign=pl.when(pl.col("type") == "call").then(1.0).otherwise(-1.0),
    ).to_dicts()

    def ours_gex() -> Any:
        return gex_profile(chain, levels)

    def scalar_gex() -> Any:
        out = []
        for s in levels:
            total = 0.0
            for c in rows:
                sd = c["iv"] * math.sqrt(c["t"])
                d1 = (math.log(s / c["strike"]) + (c["rate"] + 0.5 * c["iv"] ** 2) * c["t"]) / sd
                gamma = math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) / (s * sd)
                total += c["sign"] * gamma * c["open_interest"] * c["multiplier"] * s * s * 0.01
            out.append(total)
        return np.array(out)

    assert np.allclose(ours_gex(), scalar_gex(), rtol=1e-9)
    print(f"GEX profile: {len(rows)} contracts x {levels.size} spots (includes validation)")
    _line("GEX profile", _best(ours_gex), _best(scalar_gex), "scalar math loop")


if __name__ == "__main__":
    main()
