"""Small statistics for the validation checks: OLS with Newey–West errors, correlation, beta.

Plain NumPy, no model library: each function states its formula so a reader can check it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Regression", "correlation", "newey_west_lags", "ols_newey_west"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Regression:
    """OLS fit ``y = a + b·x (+ ...)`` with Newey–West (HAC) standard errors.

    ``coef``, ``se`` and ``t`` are ordered as the regressors, the intercept first.
    """

    coef: tuple[float, ...]
    se: tuple[float, ...]
    t: tuple[float, ...]
    n: int
    lags: int
    r2: float

    @property
    def slope(self) -> float:
        """The first non-intercept coefficient."""
        return self.coef[1]

    @property
    def t_slope(self) -> float:
        """Its Newey–West t-statistic."""
        return self.t[1]


def newey_west_lags(n: int) -> int:
    """Return the usual automatic lag ``floor(4·(n/100)^(2/9))`` (Newey and West, 1994).

    Examples
    --------
    >>> newey_west_lags(100), newey_west_lags(300)
    (4, 5)
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    lags: int = math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))
    return lags


def ols_newey_west(
    y: Sequence[float] | F64,
    *x: Sequence[float] | F64,
    lags: int | None = None,
) -> Regression:
    """Regress ``y`` on a constant and ``x``; errors by Newey–West with a Bartlett kernel.

    ``b = (X'X)⁻¹X'y``; ``V = (X'X)⁻¹ S (X'X)⁻¹`` with ``s_t = e_t x_t`` and
    ``S = Σ_t s_t s_t' + Σ_{l=1..L} (1 − l/(L+1)) Σ_t (s_t s_{t−l}' + s_{t−l} s_t')``.
    ``L = 0`` is White's heteroskedasticity-robust (HC0) estimator. Rows with a NaN anywhere are
    dropped first.

    Examples
    --------
    >>> fit = ols_newey_west([1.0, 3.0, 5.0, 7.2], [0.0, 1.0, 2.0, 3.0], lags=0)
    >>> round(fit.coef[0], 3), round(fit.slope, 3)
    (0.96, 2.06)
    """
    yv = np.asarray(y, dtype=np.float64)
    cols = [np.asarray(v, dtype=np.float64) for v in x]
    if not cols:
        raise ValueError("at least one regressor is needed")
    for c in cols:
        if c.shape != yv.shape:
            raise ValueError("y and every x must have the same length")
    design = np.column_stack([np.ones_like(yv), *cols])
    keep = np.isfinite(yv) & np.isfinite(design).all(axis=1)
    yv, design = yv[keep], design[keep]
    n, k = design.shape
    if n <= k:
        raise ValueError(f"{n} complete observations for {k} coefficients")
    lag = newey_west_lags(n) if lags is None else int(lags)
    xtx_inv = np.linalg.inv(design.T @ design)
    coef = xtx_inv @ design.T @ yv
    resid = yv - design @ coef
    scores = design * resid[:, None]
    s = scores.T @ scores
    for lg in range(1, lag + 1):
        w = 1.0 - lg / (lag + 1.0)
        gamma = scores[lg:].T @ scores[:-lg]
        s += w * (gamma + gamma.T)
    cov = xtx_inv @ s @ xtx_inv
    se = np.sqrt(np.diag(cov))
    tss = float(((yv - yv.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / tss if tss > 0 else float("nan")
    return Regression(
        coef=tuple(float(c) for c in coef),
        se=tuple(float(v) for v in se),
        t=tuple(float(c / v) if v > 0 else float("nan") for c, v in zip(coef, se, strict=True)),
        n=int(n),
        lags=lag,
        r2=r2,
    )


def correlation(a: Sequence[float] | F64, b: Sequence[float] | F64) -> tuple[float, int]:
    """Pearson correlation over the pairs where both are finite, and the number of pairs.

    Examples
    --------
    >>> correlation([1.0, 2.0, 3.0, float("nan")], [2.0, 4.0, 7.0, 1.0])
    (0.9933992677987828, 3)
    """
    av = np.asarray(a, dtype=np.float64)
    bv = np.asarray(b, dtype=np.float64)
    keep = np.isfinite(av) & np.isfinite(bv)
    n = int(keep.sum())
    if n < 3:
        return float("nan"), n
    return float(np.corrcoef(av[keep], bv[keep])[0, 1]), n
