r"""Price-impact models: the square-root law and a linear (Kyle-lambda) model.

Both return an :class:`ImpactEstimate` holding the implied move and every input, signed like
the flow (DESIGN.md "Contract conventions": ``sigma`` is a daily volatility, ``impact`` a
fraction with ``impact_bps`` beside it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from flowpressure._errors import ConfigError
from flowpressure.pressure._common import check_finite, check_positive
from flowpressure.pressure._liquidity import days_of_volume, participation_rate

__all__ = [
    "DEFAULT_Y",
    "ImpactEstimate",
    "KyleLambda",
    "kyle_lambda",
    "linear_impact",
    "sqrt_impact",
]

#: Default prefactor of the square-root law. Empirical estimates across equity markets and
#: periods are of order one (roughly 0.5 to 1); 1 is the conservative round number.
DEFAULT_Y = 1.0


@dataclass(frozen=True)
class ImpactEstimate:
    r"""An implied price move and the inputs behind it.

    Attributes
    ----------
    model
        ``"sqrt"`` or ``"linear"``.
    quantity
        Signed flow (+ buying), in the unit of ``adv``.
    adv
        Average daily volume in the unit of ``quantity`` (``None`` for a linear model given
        without ADV).
    sigma
        Daily volatility (square-root law), else ``None``.
    y
        Square-root prefactor, else ``None``.
    lam
        Linear impact per unit of quantity, else ``None``.
    days
        Sessions the flow is executed over (for ``participation``).
    days_of_adv
        :math:`|Q|/ADV` (``None`` without ADV).
    participation
        :math:`|Q|/(ADV \cdot days)` (``None`` without ADV).
    impact
        Signed implied move, a fraction of price.
    impact_bps
        ``impact`` in basis points.
    side
        ``"buy"``, ``"sell"`` or ``"none"``.
    """

    model: str
    quantity: float
    adv: float | None
    sigma: float | None
    y: float | None
    lam: float | None
    days: float
    days_of_adv: float | None
    participation: float | None
    impact: float
    impact_bps: float
    side: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def _side(q: float) -> str:
    return "buy" if q > 0 else "sell" if q < 0 else "none"


def sqrt_impact(
    quantity: float, adv: float, sigma: float, y: float = DEFAULT_Y, days: float = 1.0
) -> ImpactEstimate:
    r"""Square-root-law impact of a flow of ``quantity`` against daily volume ``adv``.

    Parameters
    ----------
    quantity
        Signed flow (+ buying, − selling), shares or dollars.
    adv
        Average daily volume in the same unit, > 0.
    sigma
        Daily volatility of returns (a fraction), > 0.
    y
        Prefactor, > 0 (:data:`DEFAULT_Y`).
    days
        Sessions the flow is spread over; only the reported ``participation`` uses it (the
        law prices the whole meta-order).

    Returns
    -------
    ImpactEstimate

    Raises
    ------
    ConfigError
        ``adv``, ``sigma``, ``y`` or ``days`` not > 0, or ``quantity`` not finite.

    Notes
    -----
    .. math:: \frac{\Delta p}{p} = \operatorname{sign}(Q)\; Y \sigma_{daily}
              \sqrt{\frac{|Q|}{ADV}}

    Doubling :math:`Q` multiplies the move by :math:`\sqrt 2`.

    Examples
    --------
    >>> est = sqrt_impact(-1_000_000.0, 4_000_000.0, 0.02)
    >>> est.impact, est.impact_bps, est.days_of_adv, est.side
    (-0.01, -100.0, 0.25, 'sell')
    """
    q = check_finite(quantity, "quantity")
    a = check_positive(adv, "adv", "an average daily volume > 0")
    s = check_positive(sigma, "sigma", "a daily volatility > 0")
    k = check_positive(y, "y", "a prefactor > 0 (of order 1)")
    dov = days_of_volume(q, a)
    move = math.copysign(k * s * math.sqrt(dov), q) if q != 0 else 0.0
    return ImpactEstimate(
        model="sqrt",
        quantity=q,
        adv=a,
        sigma=s,
        y=k,
        lam=None,
        days=float(days),
        days_of_adv=dov,
        participation=participation_rate(q, a, days),
        impact=move,
        impact_bps=move * 1e4,
        side=_side(q),
    )


def linear_impact(
    quantity: float, lam: float, adv: float | None = None, days: float = 1.0
) -> ImpactEstimate:
    r"""Linear (Kyle) impact: the move is :math:`\lambda` per unit of signed flow.

    Parameters
    ----------
    quantity
        Signed flow, in the unit ``lam`` was estimated in.
    lam
        Impact per unit of flow (from :func:`kyle_lambda`), >= 0.
    adv
        Optional average daily volume, for ``days_of_adv`` and ``participation``.
    days
        Sessions the flow is spread over (for ``participation``).

    Notes
    -----
    .. math:: \frac{\Delta p}{p} = \lambda\, Q

    Examples
    --------
    >>> linear_impact(2e6, 1e-9).impact_bps
    20.0
    """
    q = check_finite(quantity, "quantity")
    lm = check_finite(lam, "lam")
    if lm < 0:
        raise ConfigError(field="lam", expected="an impact per unit of flow >= 0", got=lam)
    a = None if adv is None else check_positive(adv, "adv", "an average daily volume > 0")
    move = lm * q
    return ImpactEstimate(
        model="linear",
        quantity=q,
        adv=a,
        sigma=None,
        y=None,
        lam=lm,
        days=float(days),
        days_of_adv=None if a is None else days_of_volume(q, a),
        participation=None if a is None else participation_rate(q, a, days),
        impact=move,
        impact_bps=move * 1e4,
        side=_side(q),
    )


@dataclass(frozen=True)
class KyleLambda:
    """OLS estimate of returns on signed flow: ``ret = intercept + lam·flow + e``.

    ``se`` and ``t`` are the classical OLS standard error and t-statistic of ``lam``;
    ``n`` pairs were used and ``dropped`` had a missing value.
    """

    lam: float
    intercept: float
    se: float
    t: float
    r2: float
    n: int
    dropped: int

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def kyle_lambda(returns: ArrayLike, flows: ArrayLike) -> KyleLambda:
    r"""Estimate a linear impact coefficient by regressing returns on signed flow.

    Parameters
    ----------
    returns
        Period returns, shape (T,).
    flows
        Signed flow over the same periods (+ buying), shape (T,); pairs with a NaN are
        dropped and counted.

    Returns
    -------
    KyleLambda

    Raises
    ------
    ConfigError
        Shapes differ, fewer than three usable pairs, or the flow does not vary.

    Notes
    -----
    .. math:: r_t = a + \lambda F_t + \varepsilon_t,\qquad
              \hat\lambda = \frac{\widehat{\mathrm{cov}}(r, F)}{\widehat{\mathrm{var}}(F)}

    Examples
    --------
    >>> est = kyle_lambda([0.001, 0.003, -0.002, 0.0], [1e6, 3e6, -2e6, 0.0])
    >>> round(est.lam * 1e9, 6), est.n
    (1.0, 4)
    """
    r = np.asarray(returns, dtype=np.float64)
    f = np.asarray(flows, dtype=np.float64)
    if r.shape != f.shape or r.ndim != 1:
        raise ConfigError(
            field="flows", expected=f"a 1-d array like returns {r.shape}", got=f.shape
        )
    ok = np.isfinite(r) & np.isfinite(f)
    r, f = r[ok], f[ok]
    n = int(r.size)
    if n < 3:
        raise ConfigError(field="flows", expected="at least 3 periods with a return and a flow")
    fc = f - f.mean()
    sxx = float(fc @ fc)
    if sxx <= 0:
        raise ConfigError(field="flows", expected="a flow that varies across periods")
    lam = float(fc @ (r - r.mean())) / sxx
    intercept = float(r.mean() - lam * f.mean())
    resid = r - intercept - lam * f
    sse = float(resid @ resid)
    sst = float(((r - r.mean()) ** 2).sum())
    se = math.sqrt(sse / (n - 2) / sxx) if n > 2 else math.nan
    t = lam / se if se > 0 else math.inf if lam != 0 else 0.0
    r2 = 1.0 - sse / sst if sst > 0 else 1.0
    return KyleLambda(
        lam=lam, intercept=intercept, se=se, t=t, r2=r2, n=n, dropped=int((~ok).sum())
    )
