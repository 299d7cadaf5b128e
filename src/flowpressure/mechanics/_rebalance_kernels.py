r"""Array kernels of the rebalancing simulator (numba-compiled, with a Python twin).

Everything here is arrays in, arrays out, and written as plain loops so that the same source
runs compiled by numba (:func:`~flowpressure.mechanics._compat_numba.jit`) or as Python
(:func:`~flowpressure.mechanics._compat_numba.python_twin`) in parity tests.

Positions are held in *units*: one unit is one share at the first date, so a split changes the
share count but not the units, and the unit price is :math:`P_t \prod_{s \le t} k_s` (close
times the cumulative split factor). Between two dates on which something can happen (an
*event*: a rule check, a flow, a dividend) the units and the cash do not change, so the value
summed over those days is read from prefix sums of the unit prices instead of a day loop; that
is what makes a sweep of many portfolios under a calendar rule cost about one pass over the
events.

Trades are solved as a fixed point in the amount :math:`K` the event consumes (proportional
costs, the fixed cost and, when deducted, tax): after the trades the portfolio is worth
:math:`V - K` and holds its destination weights, and :math:`K` is what those trades cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flowpressure.mechanics._compat_numba import jit
from flowpressure.mechanics._rebalance_steps import (
    KIND_FLOW,
    KIND_INITIAL,
    KIND_REBALANCE,
    MASK_ALL,
    MAX_ITER,
    RECORD_FULL,
    RECORD_SUMMARY,
    RECORD_VALUES,
    ROW_DEST,
    ROW_HI,
    ROW_LO,
    ROW_W,
    ROW_X,
    TOL,
    TRADE_FIELDS,
    breaches,
    grow,
    project_to_band,
    solve,
    steer,
)

__all__ = [
    "KIND_FLOW",
    "KIND_INITIAL",
    "KIND_REBALANCE",
    "RECORD_FULL",
    "RECORD_SUMMARY",
    "RECORD_VALUES",
    "TOL",
    "TRADE_FIELDS",
    "project_to_band",
    "run",
    "steer",
]


@jit
def run(
    px: Any,
    div: Any,
    events: Any,
    check: Any,
    flows: Any,
    targets: Any,
    half: Any,
    has_band: bool,
    scan: bool,
    to_edge: bool,
    only_outside: bool,
    cost_rate: Any,
    fixed_cost: float,
    tax_rate: float,
    deduct_tax: bool,
    reinvest: bool,
    initial: float,
    record: int,
) -> Any:
    r"""Simulate every portfolio (row of ``targets``) over the dates.

    Parameters
    ----------
    px : (T, N) float64
        Unit prices: close times the cumulative split factor (no NaN).
    div : (T, N) float64
        Cash dividend per unit on the ex-date; an empty (0, N) array when none is paid.
    events : (E,) int64
        Sorted rows where something may happen (a flow, a dividend, a check when not
        scanning); ``events[0] = 0``.
    check : (T,) bool
        Rows where the rule is checked.
    flows : (T,) float64
        Contributions (+) and withdrawals (-) at the close.
    targets, half : (P, N) float64
        Target weights and band half-widths per portfolio.
    has_band, scan
        Trade only outside the band; test the band on every checked row between events in a
        tight loop (daily band rules) instead of listing those rows as events.
    to_edge, only_outside
        Trade to the band's edge instead of the target; only the assets outside their band.
    cost_rate : (N,) float64
        Proportional cost per dollar traded; ``fixed_cost`` per rebalance.
    tax_rate, deduct_tax
        Tax on realised gains (average cost, losses carried forward); deducted or reported.
    reinvest
        Dividends buy the paying asset at once instead of waiting as cash.
    initial : float
        Money invested at the first close.
    record : int
        0 summary only, 1 also daily values and event flags, 2 also weights and trades.

    Returns
    -------
    tuple
        ``(summary (P, 9), status (P, 2), values (P, T), flags (P, T), weights (P, T, N),
        trades (K, 8), n_trades)``; ``summary`` columns are final value, rebalances, dollars
        traded, costs, taxes, realised gains, dividends, flows and the value summed over the
        days; ``status`` holds the row where a value fell to zero or below (-1 when none) and
        that value. Arrays not recorded have zero length; ``trades`` rows follow
        :data:`TRADE_FIELDS`.
    """
    n_t, n = px.shape
    n_p = targets.shape[0]
    n_e = events.shape[0]
    has_div = div.shape[0] > 0
    summary = np.zeros((n_p, 9))
    status = np.zeros((n_p, 2))
    keep = record >= RECORD_VALUES
    full = record >= RECORD_FULL
    values = np.zeros((n_p if keep else 0, n_t if keep else 0))
    flags = np.zeros((n_p if keep else 0, n_t if keep else 0), dtype=np.uint8)
    weights = np.zeros((n_p if full else 0, n_t if full else 0, n if full else 0))
    trades = np.zeros((64 if full else 0, 8))
    n_trades = 0
    # rebalances that trade every asset and only report tax are solved inline
    simple = not only_outside and not deduct_tax
    costly = fixed_cost != 0.0
    for i in range(n):
        costly = costly or cost_rate[i] != 0.0
    # prefix sums of the unit prices: the value over days without events
    cpx = np.zeros((n_t + 1 if not (scan or keep) else 0, n))
    if not (scan or keep):
        for d in range(n_t):
            for i in range(n):
                cpx[d + 1, i] = cpx[d, i] + px[d, i]
    u = np.zeros(n)
    basis = np.zeros(n)
    work = np.zeros((7, n))
    masks = np.zeros((3, n), dtype=np.bool_)
    for i in range(n):
        masks[MASK_ALL, i] = True

    for p in range(n_p):
        tgt = targets[p]
        hw = half[p]
        status[p, 0] = -1.0
        x = work[ROW_X]
        cash = 0.0
        carry = 0.0
        n_reb = 0.0
        traded = 0.0
        costs = 0.0
        taxes = 0.0
        gains = 0.0
        dividends = 0.0
        flowed = flows[0]
        value = initial + flows[0]
        for i in range(n):
            work[ROW_LO, i] = tgt[i] - hw[i]
            work[ROW_HI, i] = tgt[i] + hw[i]
            dollars = tgt[i] * value
            u[i] = dollars / px[0, i]
            basis[i] = dollars if dollars > 0.0 else 0.0
            if full and dollars != 0.0:
                if n_trades >= trades.shape[0]:
                    trades = grow(trades)
                trades[n_trades, 0] = 0
                trades[n_trades, 1] = p
                trades[n_trades, 2] = i
                trades[n_trades, 3] = KIND_INITIAL
                trades[n_trades, 4] = u[i]
                trades[n_trades, 5] = dollars
                n_trades += 1
        total = value
        if keep:
            values[p, 0] = value
        if full:
            for i in range(n):
                weights[p, 0, i] = tgt[i]
        if value <= 0.0:
            status[p, 0] = 0
            status[p, 1] = value
            continue
        last = 0
        e = 1
        while True:
            t_next = events[e] if e < n_e else n_t
            t = t_next
            n_out = 0
            # the days in between: nothing happens unless a band is breached
            if scan:
                d = last + 1
                while d < t_next:
                    v = cash
                    for i in range(n):
                        v += u[i] * px[d, i]
                    if check[d]:
                        for i in range(n):
                            dev = abs(u[i] * px[d, i] - tgt[i] * v)
                            if dev > (hw[i] - TOL) * v and dev > TOL * v:
                                n_out += 1
                        if n_out > 0:
                            t = d
                            break
                    total += v
                    if keep:
                        values[p, d] = v
                        if full:
                            for i in range(n):
                                weights[p, d, i] = u[i] * px[d, i] / v
                    d += 1
            elif keep:
                for d in range(last + 1, t):
                    v = cash
                    for i in range(n):
                        v += u[i] * px[d, i]
                    total += v
                    values[p, d] = v
                    if full:
                        for i in range(n):
                            weights[p, d, i] = u[i] * px[d, i] / v
            elif t - last > 1:
                total += cash * (t - last - 1)
                for i in range(n):
                    total += u[i] * (cpx[t, i] - cpx[last + 1, i])
            if t >= n_t:
                break
            flag = 0
            ok = True
            for stage in range(2):
                # stage 0: dividends and the flow of an event row; stage 1: the rule
                kind = KIND_FLOW
                flow = 0.0
                fixed = 0.0
                if stage == 0:
                    if t != t_next:
                        continue
                    e += 1
                    for i in range(n if has_div else 0):
                        if div[t, i] != 0.0:
                            amount = u[i] * div[t, i]
                            dividends += amount
                            if reinvest:
                                if u[i] > 0.0:
                                    basis[i] += amount
                                u[i] += amount / px[t, i]
                            else:
                                cash += amount
                    flow = flows[t]
                    if flow == 0.0:
                        continue
                else:
                    if not check[t]:
                        continue
                    n_out = n
                    if has_band:
                        value = cash
                        for i in range(n):
                            value += u[i] * px[t, i]
                        n_out = breaches(u, px, t, value, tgt, hw, masks)
                        if n_out == 0:
                            continue
                    kind = KIND_REBALANCE
                    fixed = fixed_cost
                value = cash
                for i in range(n):
                    value += u[i] * px[t, i]
                if kind == KIND_REBALANCE and simple:
                    dest = tgt
                    if to_edge:
                        dest = work[ROW_DEST]
                        for i in range(n):
                            work[ROW_W, i] = u[i] * px[t, i] / value
                        project_to_band(work[ROW_W], work[ROW_LO], work[ROW_HI], dest)
                    moved = 0.0
                    for i in range(n):
                        moved = max(moved, abs(dest[i] * value - u[i] * px[t, i]))
                    k_used = 0.0
                    if costly and moved > TOL * abs(value):
                        # k = fixed + sum c_i |d_i (V - k) - h_i|, piecewise linear in k
                        for _ in range(MAX_ITER):
                            num = fixed
                            den = 1.0
                            for i in range(n):
                                hi_ = u[i] * px[t, i]
                                sign = 1.0 if dest[i] * (value - k_used) - hi_ >= 0.0 else -1.0
                                num += cost_rate[i] * sign * (dest[i] * value - hi_)
                                den += cost_rate[i] * sign * dest[i]
                            k_new = num / den
                            done = abs(k_new - k_used) <= 1e-15 * abs(value)
                            k_used = k_new
                            if done:
                                break
                    prop = 0.0
                    for i in range(n):
                        x[i] = dest[i] * (value - k_used) - u[i] * px[t, i]
                        prop += cost_rate[i] * abs(x[i])
                    k_used = fixed + prop if costly else 0.0
                    tax = 0.0
                else:
                    k_used, prop, tax, moved = solve(
                        kind,
                        value,
                        flow,
                        fixed,
                        px[t],
                        tgt,
                        u,
                        basis,
                        work,
                        masks,
                        n_out,
                        only_outside,
                        to_edge,
                        cost_rate,
                        tax_rate,
                        deduct_tax,
                        carry,
                    )
                if kind == KIND_REBALANCE and moved <= TOL * abs(value):
                    continue  # already where the rule wants it: nothing to trade
                if value + flow - k_used <= 0.0:
                    ok = False
                    status[p, 0] = t
                    status[p, 1] = value + flow - k_used
                    break
                size = 0.0
                for i in range(n):
                    if abs(x[i]) > TOL * abs(value):
                        size += abs(x[i])
                sum_x = 0.0
                gain = 0.0
                for i in range(n):
                    xi = x[i]
                    if abs(xi) <= TOL * abs(value):
                        continue  # rounding dust: left in cash
                    sum_x += xi
                    pi = px[t, i]
                    du = xi / pi
                    gi = 0.0
                    if xi < 0.0 and u[i] > 0.0:
                        sold = min(-du, u[i])
                        per_unit = basis[i] / u[i]
                        gi = sold * (pi - per_unit)
                        basis[i] -= sold * per_unit
                    elif xi > 0.0:
                        basis[i] += (max(u[i] + du, 0.0) - max(u[i], 0.0)) * pi
                    u[i] += du
                    gain += gi
                    if full:
                        if n_trades >= trades.shape[0]:
                            trades = grow(trades)
                        trades[n_trades, 0] = t
                        trades[n_trades, 1] = p
                        trades[n_trades, 2] = i
                        trades[n_trades, 3] = kind
                        trades[n_trades, 4] = du
                        trades[n_trades, 5] = xi
                        trades[n_trades, 6] = cost_rate[i] * abs(xi) + fixed * abs(xi) / size
                        trades[n_trades, 7] = gi
                        n_trades += 1
                if kind == KIND_REBALANCE and simple and tax_rate > 0.0:
                    tax = tax_rate * max(gain - carry, 0.0)
                carry = max(carry - gain, 0.0) if gain > 0.0 else carry - gain
                gains += gain
                taxes += tax
                costs += fixed + prop
                traded += size
                cash = cash + flow - sum_x - k_used
                if kind == KIND_REBALANCE:
                    n_reb += 1.0
                    flag |= 1
                else:
                    flowed += flow
                    flag |= 2
            if not ok:
                break
            value = cash
            for i in range(n):
                value += u[i] * px[t, i]
            total += value
            if keep:
                values[p, t] = value
                flags[p, t] = flag
                if full:
                    for i in range(n):
                        weights[p, t, i] = u[i] * px[t, i] / value
            last = t
        final = cash
        for i in range(n):
            final += u[i] * px[n_t - 1, i]
        summary[p, 0] = final
        summary[p, 1] = n_reb
        summary[p, 2] = traded
        summary[p, 3] = costs
        summary[p, 4] = taxes
        summary[p, 5] = gains
        summary[p, 6] = dividends
        summary[p, 7] = flowed
        summary[p, 8] = total
    return summary, status, values, flags, weights, trades, n_trades
