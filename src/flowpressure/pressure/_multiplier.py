r"""Inelastic markets (Gabaix and Koijen, 2022): the flow multiplier and its cascade.

A market whose holders barely respond to price turns a flow into a much larger change of
value. With aggregate demand elasticity :math:`\zeta`, a flow :math:`f` (a fraction of the
market's value) moves the price by :math:`p = f/\zeta`; the multiplier is :math:`M = 1/\zeta`.
A mixed fund that must hold a share :math:`\theta` of its assets in equities, and holds the
whole equity market, has :math:`\zeta = 1 - \theta`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from flowpressure._errors import ConfigError
from flowpressure.pressure._common import check_finite, check_positive

__all__ = [
    "CascadeRound",
    "CascadeStep",
    "MultiplierResult",
    "inelastic_price_change",
    "mandate_zeta",
    "mixed_fund_multiplier",
    "multiplier_from_zeta",
]

#: Relative tolerance for "the given bonds put the fund on its mandate".
MANDATE_RTOL = 1e-9


def _exact(x: float) -> Fraction:
    """Return the decimal a float was written as, exactly (``0.8`` → 4/5)."""
    return Fraction(repr(float(x)))


def _theta(theta: float) -> float:
    t = check_finite(theta, "theta")
    if not 0.0 < t < 1.0:
        raise ConfigError(
            field="theta", expected="an equity mandate strictly between 0 and 1", got=theta
        )
    return t


def _zeta(zeta: float) -> float:
    return check_positive(zeta, "zeta", "a demand elasticity > 0")


def mandate_zeta(theta: float) -> float:
    r"""Demand elasticity of a mixed fund with equity mandate :math:`\theta`: :math:`1-\theta`.

    Raises
    ------
    ConfigError
        ``theta`` not strictly between 0 and 1.

    Notes
    -----
    .. math:: \zeta = 1 - \theta

    Examples
    --------
    >>> mandate_zeta(0.8)
    0.2
    """
    return float(1 - _exact(_theta(theta)))


def multiplier_from_zeta(zeta: float) -> float:
    r"""Market-value change per dollar of flow into the market: :math:`M = 1/\zeta`.

    Notes
    -----
    .. math:: M = \frac{1}{\zeta}

    Examples
    --------
    >>> multiplier_from_zeta(0.2)
    5.0
    """
    return float(1 / _exact(_zeta(zeta)))


def inelastic_price_change(flow: float, zeta: float) -> float:
    r"""Price change implied by a flow into a market of elasticity :math:`\zeta`.

    Parameters
    ----------
    flow
        Flow as a fraction of the market's value (0.01 = 1 %), signed.
    zeta
        Aggregate demand elasticity, > 0 (about 0.2 for US equities per Gabaix-Koijen; 2 or
        more in classical models).

    Returns
    -------
    float
        Price change as a fraction.

    Notes
    -----
    .. math:: p = \frac{f}{\zeta}

    Examples
    --------
    >>> inelastic_price_change(0.01, 0.2)
    0.05
    """
    return float(_exact(check_finite(flow, "flow")) / _exact(_zeta(zeta)))


@dataclass(frozen=True)
class CascadeStep:
    """One stage of the "trace the dollar" chain: inflow → split → demand → price → cap."""

    step: int
    stage: str
    amount: float
    text: str


@dataclass(frozen=True)
class CascadeRound:
    """One round of the feedback loop: new equity demand, the price and value after it."""

    round: int
    demand: float
    price: float
    market_cap: float
    cumulative_gain: float


@dataclass(frozen=True)
class MultiplierResult:
    r"""The mixed-fund example solved exactly, with its cascade.

    Attributes
    ----------
    inflow, theta, shares, price, bonds
        Inputs (``bonds`` as used: given or mandate-consistent).
    zeta, multiplier
        :math:`1-\theta` and :math:`1/\zeta`.
    equity_inflow, bond_inflow
        The mandate split of the inflow: :math:`\theta f` and :math:`(1-\theta) f`.
    flow_fraction
        Equity inflow over the market's value before (the :math:`f` of :math:`p = f/\zeta`).
    price_after, price_change
        New price and its change as a fraction.
    market_cap_before, market_cap_after, market_cap_change
        Value of all shares before and after.
    fund_value_before, fund_value_after, bonds_after
        The mixed fund's total and bond holdings.
    steps
        The five-stage trace (inflow, mandate split, equity demand, price, market cap).
    rounds
        The feedback rounds: round k adds demand :math:`\theta^{k+1} f`; their sum
        converges to ``market_cap_change``.
    """

    inflow: float
    theta: float
    shares: float
    price: float
    bonds: float
    zeta: float
    multiplier: float
    equity_inflow: float
    bond_inflow: float
    flow_fraction: float
    price_after: float
    price_change: float
    market_cap_before: float
    market_cap_after: float
    market_cap_change: float
    fund_value_before: float
    fund_value_after: float
    bonds_after: float
    steps: list[CascadeStep] = field(default_factory=list)
    rounds: list[CascadeRound] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return every field, steps and rounds as lists of dicts (JSON-ready)."""
        return asdict(self)


def _money(x: float) -> str:
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.2f}"


def mixed_fund_multiplier(
    inflow: float,
    theta: float,
    shares: float,
    price: float,
    bonds: float | None = None,
    *,
    max_rounds: int = 200,
    tol: float = 1e-12,
) -> MultiplierResult:
    r"""Gabaix-Koijen two-fund example: a mixed fund holding every share gets an inflow.

    An outside investor moves ``inflow`` dollars from a pure bond fund into a mixed fund that
    holds all ``shares`` of the equity market and ``bonds`` of bonds, with mandate
    ``theta`` of its value in equities. Shares are in fixed supply, so the price rises until
    the mandate holds again.

    Parameters
    ----------
    inflow
        Dollars moved into the mixed fund (negative: out of it).
    theta
        Equity mandate, strictly between 0 and 1.
    shares, price
        Shares outstanding (all held by the fund) and their price before, > 0.
    bonds
        The fund's bonds before. Default: the mandate-consistent
        :math:`N P (1-\theta)/\theta`; a value that puts the fund off its mandate is an
        error.
    max_rounds, tol
        Length of the reported cascade: rounds stop when the new demand is below ``tol``
        times the inflow (or after ``max_rounds``).

    Returns
    -------
    MultiplierResult

    Raises
    ------
    ConfigError
        ``theta`` not in (0, 1), ``shares``/``price`` not > 0, ``bonds`` off the mandate,
        or an outflow larger than the fund's bonds (the price would not stay positive).

    Notes
    -----
    The mandate after the inflow, with :math:`N` shares fixed:

    .. math::

        N P' = \theta\,(N P' + B + f)
        \;\Rightarrow\;
        P' = \frac{\theta (B + f)}{(1-\theta) N},\qquad
        \Delta(N P) = \frac{\theta f}{1-\theta} = \frac{\theta f}{\zeta}

    so the equity inflow :math:`\theta f` is multiplied by :math:`M = 1/\zeta`, and the
    price change is :math:`p = (\theta f / N P) / \zeta`. As a cascade: each dollar of new
    equity value raises the fund's wealth, which the mandate sends :math:`\theta` of back
    into equities, :math:`\sum_k \theta^{k+1} f = \theta f/(1-\theta)`.

    Examples
    --------
    >>> r = mixed_fund_multiplier(1.0, 0.8, 80, 1.0)
    >>> r.price_after, r.market_cap_change, r.multiplier, r.equity_inflow, r.bonds
    (1.05, 4.0, 5.0, 0.8, 20.0)
    """
    f = check_finite(inflow, "inflow")
    t = _theta(theta)
    n = check_positive(shares, "shares", "a share count > 0")
    p = check_positive(price, "price", "a price > 0")
    # Exact rational arithmetic on the inputs as written (0.8 is 4/5, so 1 - 0.8 is 1/5):
    # the worked example then comes out exactly, not to within rounding.
    fq, tq, nq, pq = (_exact(x) for x in (f, t, n, p))
    equity_q = nq * pq
    consistent_q = equity_q * (1 - tq) / tq
    consistent = float(consistent_q)
    if bonds is None:
        bq = consistent_q
    else:
        b_given = check_finite(bonds, "bonds")
        if abs(b_given - consistent) > MANDATE_RTOL * max(abs(consistent), 1.0):
            total = float(equity_q) + b_given
            share = float(equity_q) / total if total > 0 else float("nan")
            raise ConfigError(
                f"field 'bonds': {b_given:g} puts the fund at {share:.4%} equities, off its "
                f"mandate theta={t:g}; expected {consistent:g} (shares*price*(1-theta)/theta) "
                "or leave --bonds out",
                field="bonds",
                expected=f"{consistent:g}",
                got=b_given,
            )
        bq = _exact(b_given)
    if bq + fq <= 0:
        raise ConfigError(
            field="inflow",
            expected=f"an outflow smaller than the fund's bonds {float(bq):g} (price > 0)",
            got=f,
        )
    zeta_q = 1 - tq
    price_after_q = tq * (bq + fq) / (zeta_q * nq)
    cap_after_q = nq * price_after_q
    gain_q = cap_after_q - equity_q
    equity_inflow_q = tq * fq
    b, zeta = float(bq), float(zeta_q)
    equity, price_after, cap_after = float(equity_q), float(price_after_q), float(cap_after_q)
    gain, equity_inflow = float(gain_q), float(equity_inflow_q)
    multiplier = float(gain_q / equity_inflow_q) if equity_inflow_q != 0 else float(1 / zeta_q)
    fund_before = float(equity_q + bq)
    fund_after = float(cap_after_q + bq + fq)

    steps = [
        CascadeStep(
            1, "inflow", f, f"Investor moves {_money(f)} from the bond fund into the mixed fund."
        ),
        CascadeStep(
            2,
            "mandate_split",
            equity_inflow,
            f"Mandate {t:.0%} equities: "
            f"{_money(equity_inflow)} to stocks, {_money(f - equity_inflow)} to bonds.",
        ),
        CascadeStep(
            3,
            "equity_demand",
            gain,
            "Buying lifts the price, which lifts the fund's "
            f"wealth and its equity target again: total demand {_money(gain)} "
            f"= {_money(equity_inflow)} x {1 / zeta:g}.",
        ),
        CascadeStep(
            4,
            "price",
            float(price_after_q - pq),
            f"Price {_money(p)} -> {_money(price_after)} ({price_after / p - 1:+.2%}).",
        ),
        CascadeStep(
            5,
            "market_cap",
            gain,
            f"Market cap {_money(equity)} -> "
            f"{_money(cap_after)}: {_money(gain)} from {_money(equity_inflow)}, "
            f"a {1 / zeta:g}x multiplier.",
        ),
    ]

    rounds: list[CascadeRound] = []
    demand_q = equity_inflow_q
    cumulative_q = Fraction(0)
    stop = Fraction(tol) * max(abs(fq), Fraction(1, 10**300))
    for k in range(max(int(max_rounds), 0)):
        cumulative_q += demand_q
        cap_k = equity_q + cumulative_q
        rounds.append(
            CascadeRound(
                k + 1, float(demand_q), float(cap_k / nq), float(cap_k), float(cumulative_q)
            )
        )
        demand_q *= tq
        if abs(demand_q) <= stop:
            break
        # Keep the rationals small: the float of each round is all that is reported.
        demand_q = demand_q.limit_denominator(10**18) if k > 40 else demand_q
        cumulative_q = cumulative_q.limit_denominator(10**18) if k > 40 else cumulative_q

    return MultiplierResult(
        inflow=f,
        theta=t,
        shares=n,
        price=p,
        bonds=b,
        zeta=zeta,
        multiplier=multiplier,
        equity_inflow=equity_inflow,
        bond_inflow=float(fq - equity_inflow_q),
        flow_fraction=float(equity_inflow_q / equity_q),
        price_after=price_after,
        price_change=float(price_after_q / pq - 1),
        market_cap_before=equity,
        market_cap_after=cap_after,
        market_cap_change=gain,
        fund_value_before=fund_before,
        fund_value_after=fund_after,
        bonds_after=float(bq + fq),
        steps=steps,
        rounds=rounds,
    )
