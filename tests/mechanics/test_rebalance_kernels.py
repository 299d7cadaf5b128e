"""Kernels: compiled = Python twin, an independent reference loop, steering and projection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowpressure.data import sessions
from flowpressure.mechanics import PriceArrays, RebalanceCosts, RebalanceRule
from flowpressure.mechanics import rebalance as rb
from flowpressure.mechanics._compat_numba import python_twin
from flowpressure.mechanics._rebalance_steps import TOL, project_to_band, steer

DAYS = sessions(
    np.datetime64("2023-11-01").astype(object), np.datetime64("2024-06-28").astype(object)
)


def random_panel(seed: int, n_days: int = 70, n_assets: int = 3, events: bool = False) -> Any:
    rng = np.random.default_rng(seed)
    close = 50 * np.cumprod(1 + rng.normal(0, 0.02, (n_days, n_assets)), axis=0)
    split = div = None
    if events:
        split = np.ones_like(close)
        split[n_days // 3, 0] = 2.0
        close[n_days // 3 :, 0] /= 2.0
        div = np.zeros_like(close)
        div[n_days // 2, 1] = 0.8
        div[n_days // 4, 2] = 0.3
    ids = tuple(f"A{i}" for i in range(n_assets))
    return PriceArrays(DAYS[:n_days], ids, close, split, div)


@pytest.fixture
def twin_checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run every simulate() through the compiled kernel and its Python twin; compare."""
    compiled = rb._kernel()
    twin = python_twin(compiled)
    calls: list[int] = []

    def both(*args: Any) -> Any:
        fast = compiled(*args)
        slow = twin(*args)
        for a, b in zip(fast[:-1], slow[:-1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-9)
        assert fast[-1] == slow[-1]
        calls.append(1)
        return fast

    monkeypatch.setattr(rb, "_kernel", lambda: both)
    return calls


SCENARIOS: list[tuple[str, Any, RebalanceCosts | None, dict[str, Any]]] = [
    ("monthly", "monthly", None, {}),
    ("every 5 with costs", RebalanceRule.every_n(5), RebalanceCosts(bps=7, fixed=3.0), {}),
    ("threshold", RebalanceRule.threshold(0.02), RebalanceCosts(bps=5), {}),
    ("relative edge", RebalanceRule.threshold(0.1, kind="relative", to="edge"), None, {}),
    (
        "hybrid outside",
        RebalanceRule.threshold(0.1, kind="hybrid", floor=0.02, trade="outside"),
        RebalanceCosts(bps=4, fixed=1.0),
        {},
    ),
    ("monthly band", RebalanceRule.calendar("M", band=0.015), None, {}),
    ("taxes deducted", "monthly", RebalanceCosts(bps=2, tax_rate=0.25, deduct_taxes=True), {}),
    ("flows", "quarterly", RebalanceCosts(bps=10), {"flows": "yes"}),
    ("dividends cash", "monthly", None, {"events": True}),
    (
        "dividends reinvested",
        RebalanceRule.threshold(0.03),
        RebalanceCosts(tax_rate=0.2),
        {"events": True, "dividends": "reinvest"},
    ),
    ("values record", RebalanceRule.threshold(0.02), None, {"record": "values"}),
    ("summary record", "monthly", RebalanceCosts(bps=1), {"record": "summary"}),
]


@pytest.mark.parametrize(
    ("name", "rule", "costs", "extra"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_compiled_kernel_equals_its_python_twin(
    twin_checked: list[int], name: str, rule: Any, costs: Any, extra: dict[str, Any]
) -> None:
    options = dict(extra)
    panel = random_panel(len(name), events=bool(options.pop("events", False)))
    if options.pop("flows", None):
        options["flows"] = {DAYS[10]: 5e4, DAYS[33]: -2e5, DAYS[50]: 1e5}
    targets = {"A0": [0.5, 0.2, 0.34], "A1": [0.3, 0.3, 0.33], "A2": [0.2, 0.5, 0.33]}
    rb.simulate(panel, targets, rule, costs, **options)
    assert twin_checked == [1]


def reference(
    close: Any, targets: Any, check: Any, band: float | None, bps: float, fixed: float
) -> tuple[float, int]:
    """A plain loop, written separately from the kernel: to target, absolute band, costs."""
    n_t = close.shape[0]
    cost = bps / 1e4
    shares = targets * 1e6 / close[0]
    n = 0
    for t in range(1, n_t):
        if not check[t]:
            continue
        held = shares * close[t]
        value = held.sum()
        dev = np.abs(held / value - targets)
        if band is not None and not np.any((dev > band - TOL) & (dev > TOL)):
            continue
        if np.max(np.abs(targets * value - held)) <= TOL * value:
            continue
        spent = fixed
        for _ in range(500):
            again = fixed + cost * np.abs(targets * (value - spent) - held).sum()
            if abs(again - spent) <= 1e-14 * value:
                break
            spent = again
        shares = targets * (value - spent) / close[t]
        n += 1
    return float(shares @ close[-1]), n


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_assets=st.integers(2, 5),
    every=st.sampled_from([None, 1, 3, 10]),
    band=st.sampled_from([None, 0.005, 0.02, 0.08]),
    bps=st.sampled_from([0.0, 2.5, 30.0]),
    fixed=st.sampled_from([0.0, 10.0]),
)
def test_kernel_agrees_with_a_plain_reference_loop(
    seed: int, n_assets: int, every: int | None, band: float | None, bps: float, fixed: float
) -> None:
    panel = random_panel(seed, 60, n_assets)
    rng = np.random.default_rng(seed + 1)
    targets = rng.dirichlet(np.ones(n_assets))
    rule = RebalanceRule("D" if every else "M", every, band)
    res = rb.simulate(
        panel, dict(zip(panel.assets, targets, strict=True)), rule, RebalanceCosts(bps, fixed)
    )
    check = np.zeros(60, dtype=bool)
    if every:
        check[every::every] = True
    else:
        key = panel.dates.astype("datetime64[M]")
        check[:-1] = key[:-1] != key[1:]
        check[0] = False
    want, n = reference(panel.close, targets, check, band, bps, fixed)
    assert res.final_value[0] == pytest.approx(want, rel=1e-11)
    assert res.n_rebalances[0] == n


def _mask(values: list[bool]) -> Any:
    return np.array(values, dtype=np.bool_)


@settings(max_examples=200, deadline=None)
@given(
    amount=st.floats(-1e6, 1e6),
    gaps=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6),
    data=st.data(),
)
def test_steer_spreads_exactly_the_amount_over_the_masked_assets(
    amount: float, gaps: list[float], data: st.DataObject
) -> None:
    n = len(gaps)
    mask = _mask(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    weights = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    holdings = np.abs(np.array(gaps)) + 1e6
    out = np.full(n, 7.0)
    steer(amount, np.array(gaps), weights, holdings, mask, out)
    assert (out[~mask] == 7.0).all()
    if mask.any():
        assert out[mask].sum() == pytest.approx(amount, abs=1e-6)
        room = np.clip(np.sign(amount) * np.array(gaps)[mask], 0, None).sum()
        if 0 < abs(amount) <= room:  # within the gaps: only toward targets, never past them
            g = np.array(gaps)[mask]
            assert (np.sign(amount) * out[mask] >= -1e-9).all()
            assert (np.abs(out[mask]) <= np.abs(g) * (np.sign(g) == np.sign(amount)) + 1e-6).all()


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(2, 6),
    data=st.data(),
)
def test_projection_lands_inside_every_band_and_sums_to_one(n: int, data: st.DataObject) -> None:
    draw = data.draw
    target = np.array(draw(st.lists(st.floats(0.01, 1), min_size=n, max_size=n)))
    target /= target.sum()
    half = np.array(draw(st.lists(st.floats(0.001, 0.3), min_size=n, max_size=n)))
    w = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))) + 1e-9
    w /= w.sum()
    lo, hi = target - half, target + half
    out = np.zeros(n)
    project_to_band(w, lo, hi, out)
    assert out.sum() == pytest.approx(1.0, abs=1e-12)
    assert (out >= lo - 1e-12).all()
    assert (out <= hi + 1e-12).all()
    if ((w >= lo) & (w <= hi)).all():  # already inside: nothing moves
        np.testing.assert_allclose(out, w, atol=1e-12)


def test_jit_shim_compiles_and_twins() -> None:
    from flowpressure.mechanics._compat_numba import jit

    def add(a: float, b: float) -> float:
        return a + b

    fast: Callable[[float, float], float] = jit(add)
    assert hasattr(fast, "py_func")
    assert fast(1.0, 2.0) == python_twin(fast)(1.0, 2.0) == 3.0
