"""Array kernels of volatility targeting, compiled with numba (Python twins run in the tests).

Both kernels loop over time outside and over parameter sets inside, so the output is written
row by row (C order) and a sweep of P sets costs one pass over the returns.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from flowpressure.mechanics._compat_numba import jit

__all__ = ["ewma_variance", "rolling_variance"]


@jit
def rolling_variance(r2: NDArray[np.float64], window: NDArray[np.int64]) -> NDArray[np.float64]:
    """Mean of the last ``window[p]`` squared returns after each row, for P sets.

    ``r2`` has shape ``(T, K)`` with K = 1 (one series for every set) or K = P; ``window``
    has shape ``(P,)``. Rows before the first full window are NaN.
    """
    n_t, n_k = r2.shape
    n_p = window.shape[0]
    cs = np.zeros((n_t + 1, n_k))
    for t in range(n_t):
        for k in range(n_k):
            cs[t + 1, k] = cs[t, k] + r2[t, k]
    out = np.empty((n_t, n_p))
    for t in range(n_t):
        for p in range(n_p):
            col = 0 if n_k == 1 else p
            w = window[p]
            if t + 1 < w:
                out[t, p] = np.nan
            else:
                out[t, p] = (cs[t + 1, col] - cs[t + 1 - w, col]) / w
    return out


@jit
def ewma_variance(
    r2: NDArray[np.float64], lam: NDArray[np.float64], window: NDArray[np.int64]
) -> NDArray[np.float64]:
    """EWMA of squared returns for P sets, seeded by the mean of the first ``window[p]``.

    ``r2`` has shape ``(T, K)`` with K = 1 or K = P; ``lam`` and ``window`` have shape
    ``(P,)``. Rows before ``window[p] - 1`` are NaN; row ``window[p] - 1`` is the seed; later
    rows follow ``v_t = lam·v_{t-1} + (1 - lam)·r2_t``.
    """
    n_t, n_k = r2.shape
    n_p = lam.shape[0]
    v = np.zeros(n_p)
    out = np.empty((n_t, n_p))
    for t in range(n_t):
        for p in range(n_p):
            col = 0 if n_k == 1 else p
            start = window[p] - 1
            if t < start:
                v[p] += r2[t, col]
                out[t, p] = np.nan
            elif t == start:
                v[p] = (v[p] + r2[t, col]) / window[p]
                out[t, p] = v[p]
            else:
                v[p] = lam[p] * v[p] + (1.0 - lam[p]) * r2[t, col]
                out[t, p] = v[p]
    return out
