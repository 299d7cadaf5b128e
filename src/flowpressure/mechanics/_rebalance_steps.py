"""Steps of one rebalancing event: steering money, the band projection, the cost fixed point.

Jitted helpers of :mod:`flowpressure.mechanics._rebalance_kernels`, arrays in and out, written
as plain loops (see that module for the conventions). The row constants name the rows of the
kernel's scratch arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flowpressure.mechanics._compat_numba import jit

__all__ = [
    "KIND_FLOW",
    "KIND_INITIAL",
    "KIND_REBALANCE",
    "MASK_ALL",
    "MASK_IN",
    "MASK_OUT",
    "MAX_ITER",
    "RECORD_FULL",
    "RECORD_SUMMARY",
    "RECORD_VALUES",
    "ROW_DEST",
    "ROW_GAPS",
    "ROW_H",
    "ROW_HI",
    "ROW_LO",
    "ROW_W",
    "ROW_X",
    "TOL",
    "TRADE_FIELDS",
    "breaches",
    "grow",
    "project_to_band",
    "solve",
    "steer",
]

#: Tolerance of the band comparison (DESIGN.md "Contract conventions").
TOL = 1e-12

KIND_INITIAL = 0
KIND_FLOW = 1
KIND_REBALANCE = 2

RECORD_SUMMARY = 0
RECORD_VALUES = 1
RECORD_FULL = 2

#: Columns of the trade log returned by :func:`run` (all float64).
TRADE_FIELDS = ("t", "portfolio", "asset", "kind", "units", "dollars", "cost", "gain")

MAX_ITER = 100


@jit
def steer(
    amount: float,
    gaps: Any,
    weights: Any,
    holdings: Any,
    mask: Any,
    out: Any,
) -> None:
    r"""Spread ``amount`` over the masked assets, toward their gaps first.

    A purchase (``amount > 0``) goes to the assets with a positive gap (below target),
    pro rata to the gap; once every gap is filled, the rest is spread pro rata to
    ``weights``. A sale (``amount < 0``) comes from the assets with a negative gap first, then
    pro rata to what they still hold. Entries of ``out`` outside ``mask`` are left alone.

    Notes
    -----
    With :math:`G^+ = \sum_i \max(g_i, 0)` and :math:`A \le G^+`:

    .. math:: x_i = A \, \frac{\max(g_i, 0)}{G^+}

    Examples
    --------
    >>> out = np.zeros(3)
    >>> steer(10.0, np.array([30.0, -20.0, -10.0]), np.full(3, 1 / 3), np.ones(3),
    ...       np.ones(3, dtype=np.bool_), out)
    >>> out.tolist()
    [10.0, 0.0, 0.0]
    """
    n = gaps.shape[0]
    sign = 1.0 if amount >= 0.0 else -1.0
    need = sign * amount
    room = 0.0
    count = 0
    for i in range(n):
        if mask[i]:
            count += 1
            g = sign * gaps[i]
            if g > 0.0:
                room += g
    if count == 0:
        return
    if room > 0.0 and room >= need:
        for i in range(n):
            if mask[i]:
                g = sign * gaps[i]
                out[i] = amount * g / room if g > 0.0 else 0.0
        return
    total = 0.0
    for i in range(n):
        if mask[i]:
            if sign > 0.0:
                total += max(weights[i], 0.0)
            else:
                total += max(holdings[i] + min(gaps[i], 0.0), 0.0)
    excess = amount - sign * room
    for i in range(n):
        if mask[i]:
            fill = sign * max(sign * gaps[i], 0.0)
            left = max(holdings[i] + min(gaps[i], 0.0), 0.0)
            base = max(weights[i], 0.0) if sign > 0.0 else left
            share = base / total if total > 0.0 else 1.0 / count
            out[i] = fill + excess * share


@jit
def project_to_band(w: Any, lo: Any, hi: Any, out: Any) -> None:
    r"""Nearest weights to ``w`` inside the bands ``[lo, hi]`` that sum to one.

    ``lo`` and ``hi`` must admit a solution (the targets lie inside them and sum to one).

    Notes
    -----
    The Euclidean projection on :math:`\{d : \sum_i d_i = 1,\ lo \le d \le hi\}`:

    .. math:: d_i = \min(hi_i, \max(lo_i, w_i - \lambda)), \qquad \sum_i d_i = 1

    with :math:`\lambda` found by bisection, then solved exactly on the free assets.

    Examples
    --------
    >>> out = np.zeros(2)
    >>> project_to_band(np.array([0.67, 0.33]), np.array([0.55, 0.35]),
    ...                 np.array([0.65, 0.45]), out)
    >>> out.round(12).tolist()
    [0.65, 0.35]
    """
    n = w.shape[0]
    a = np.inf
    b = -np.inf
    for i in range(n):
        a = min(a, w[i] - hi[i])
        b = max(b, w[i] - lo[i])
    for _ in range(200):
        m = 0.5 * (a + b)
        s = 0.0
        for i in range(n):
            s += min(hi[i], max(lo[i], w[i] - m))
        if s > 1.0:
            a = m
        else:
            b = m
        if b - a <= 1e-17:
            break
    m = 0.5 * (a + b)
    fixed = 0.0
    free = 0
    free_w = 0.0
    for i in range(n):
        v = w[i] - m
        if v <= lo[i]:
            out[i] = lo[i]
            fixed += lo[i]
        elif v >= hi[i]:
            out[i] = hi[i]
            fixed += hi[i]
        else:
            free += 1
            free_w += w[i]
    if free > 0:
        lam = (free_w - (1.0 - fixed)) / free
        for i in range(n):
            v = w[i] - m
            if lo[i] < v < hi[i]:
                out[i] = min(hi[i], max(lo[i], w[i] - lam))


@jit
def _plan(
    kind: int,
    k: float,
    value: float,
    flow: float,
    h: Any,
    tgt: Any,
    dest: Any,
    masks: Any,
    outside_now: bool,
    work: Any,
    x: Any,
) -> None:
    # Trade dollars x for an event that consumes k: afterwards the portfolio is worth
    # value + flow - k (flows) or value - k (rebalances; cash is invested too).
    n = h.shape[0]
    if kind == KIND_FLOW:
        amount = flow - k
        base = value + amount
        gaps = work[ROW_GAPS]
        for i in range(n):
            gaps[i] = tgt[i] * base - h[i]
            x[i] = 0.0
        steer(amount, gaps, tgt, h, masks[MASK_ALL], x)
        return
    after = value - k
    if not outside_now:
        for i in range(n):
            x[i] = dest[i] * after - h[i]
        return
    rest = after
    gaps = work[ROW_GAPS]
    for i in range(n):
        if masks[MASK_OUT, i]:
            x[i] = dest[i] * after - h[i]
            rest -= dest[i] * after
        else:
            x[i] = 0.0
            rest -= h[i]
            gaps[i] = tgt[i] * after - h[i]
    steer(rest, gaps, tgt, h, masks[MASK_IN], x)


@jit
def _gains(x: Any, u: Any, basis: Any, pxt: Any) -> float:
    # Realised gains (average cost) of the sales in x on long positions.
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0.0 and u[i] > 0.0:
            sold = min(-x[i] / pxt[i], u[i])
            total += sold * (pxt[i] - basis[i] / u[i])
    return total


@jit
def grow(buf: Any) -> Any:
    new = np.zeros((buf.shape[0] * 2 + 16, buf.shape[1]))
    new[: buf.shape[0]] = buf
    return new


#: Rows of the kernel's float scratch array and of its mask array.
ROW_X = 0
ROW_GAPS = 1
ROW_DEST = 2
ROW_W = 3
ROW_LO = 4
ROW_HI = 5
ROW_H = 6
MASK_OUT = 0
MASK_IN = 1
MASK_ALL = 2


@jit
def breaches(u: Any, px: Any, t: int, value: float, tgt: Any, hw: Any, masks: Any) -> int:
    # Mark the assets outside their band: |h - w* V| > (hw - TOL) V, and > TOL V.
    n_out = 0
    for i in range(u.shape[0]):
        dev = abs(u[i] * px[t, i] - tgt[i] * value)
        out_i = dev > (hw[i] - TOL) * value and dev > TOL * value
        masks[MASK_OUT, i] = out_i
        masks[MASK_IN, i] = not out_i
        if out_i:
            n_out += 1
    return n_out


@jit
def solve(
    kind: int,
    value: float,
    flow: float,
    fixed: float,
    pxt: Any,
    tgt: Any,
    u: Any,
    basis: Any,
    work: Any,
    masks: Any,
    n_out: int,
    only_outside: bool,
    to_edge: bool,
    cost_rate: Any,
    tax_rate: float,
    deduct_tax: bool,
    carry: float,
) -> tuple[float, float, float, float]:
    # Trade dollars (into work[ROW_X]) of a flow or rebalance that consumes k = costs (+ tax):
    # the fixed point of k -> what the trades planned for k consume. Returns (k, proportional
    # costs, tax, largest trade); a rebalance that would move nothing returns k = 0.
    n = u.shape[0]
    h = work[ROW_H]
    x = work[ROW_X]
    dest = work[ROW_DEST]
    for i in range(n):
        h[i] = u[i] * pxt[i]
    outside_now = False
    if kind == KIND_REBALANCE:
        outside_now = only_outside and 0 < n_out < n
        if to_edge:
            w = work[ROW_W]
            for i in range(n):
                w[i] = h[i] / value
            if outside_now:
                for i in range(n):
                    dest[i] = min(work[ROW_HI, i], max(work[ROW_LO, i], w[i]))
            else:
                project_to_band(w, work[ROW_LO], work[ROW_HI], dest)
        else:
            for i in range(n):
                dest[i] = tgt[i]
    # the plan without costs decides whether anything moves at all
    k0 = 0.0
    g0, prop, tax, moved = _consumed(
        k0,
        cost_rate,
        tax_rate,
        deduct_tax,
        carry,
        kind,
        value,
        flow,
        fixed,
        h,
        tgt,
        dest,
        masks,
        outside_now,
        work,
        x,
        u,
        basis,
        pxt,
    )
    if moved <= TOL * abs(value) and kind == KIND_REBALANCE:
        return 0.0, 0.0, 0.0, moved
    if g0 == 0.0:
        return 0.0, prop, tax, moved
    # k = g(k) is piecewise linear: secant steps land on it in two or three evaluations
    k1 = g0
    g1, prop, tax, moved = _consumed(
        k1,
        cost_rate,
        tax_rate,
        deduct_tax,
        carry,
        kind,
        value,
        flow,
        fixed,
        h,
        tgt,
        dest,
        masks,
        outside_now,
        work,
        x,
        u,
        basis,
        pxt,
    )
    r0 = g0 - k0
    r1 = g1 - k1
    for _ in range(MAX_ITER):
        if abs(r1) <= 1e-15 * abs(value) or r1 == r0:
            break
        k2 = k1 - r1 * (k1 - k0) / (r1 - r0)
        k0, r0 = k1, r1
        k1 = k2
        g1, prop, tax, moved = _consumed(
            k1,
            cost_rate,
            tax_rate,
            deduct_tax,
            carry,
            kind,
            value,
            flow,
            fixed,
            h,
            tgt,
            dest,
            masks,
            outside_now,
            work,
            x,
            u,
            basis,
            pxt,
        )
        r1 = g1 - k1
    return g1, prop, tax, moved


@jit
def _consumed(
    k: float,
    cost_rate: Any,
    tax_rate: float,
    deduct_tax: bool,
    carry: float,
    kind: int,
    value: float,
    flow: float,
    fixed: float,
    h: Any,
    tgt: Any,
    dest: Any,
    masks: Any,
    outside_now: bool,
    work: Any,
    x: Any,
    u: Any,
    basis: Any,
    pxt: Any,
) -> tuple[float, float, float, float]:
    # Plan the trades for k, and return what they consume (fixed + proportional costs, plus
    # tax when deducted), the proportional costs, the tax and the largest trade.
    _plan(kind, k, value, flow, h, tgt, dest, masks, outside_now, work, x)
    prop = 0.0
    moved = 0.0
    for i in range(x.shape[0]):
        prop += cost_rate[i] * abs(x[i])
        moved = max(moved, abs(x[i]))
    tax = tax_rate * max(_gains(x, u, basis, pxt) - carry, 0.0)
    return fixed + prop + (tax if deduct_tax else 0.0), prop, tax, moved
