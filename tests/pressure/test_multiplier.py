"""Inelastic markets: the Gabaix-Koijen example exactly, p = f/zeta and M = 1/zeta as properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowpressure import ConfigError
from flowpressure.pressure import (
    inelastic_price_change,
    mandate_zeta,
    mixed_fund_multiplier,
    multiplier_from_zeta,
)


def test_worked_example_exactly() -> None:
    r = mixed_fund_multiplier(1.0, 0.8, 80, 1.0)
    assert r.bonds == 20.0
    assert r.price_after == 1.05
    assert r.market_cap_before == 80.0
    assert r.market_cap_after == 84.0
    assert r.market_cap_change == 4.0
    assert r.multiplier == 5.0
    assert r.equity_inflow == 0.8
    assert r.bond_inflow == 0.2
    assert r.zeta == 0.2
    assert r.price_change == 0.05
    assert r.flow_fraction == 0.01
    assert r.fund_value_before == 100.0
    assert r.fund_value_after == 105.0
    # the fund is back on its mandate
    assert r.market_cap_after / r.fund_value_after == pytest.approx(0.8, abs=1e-15)


def test_explicit_mandate_consistent_bonds_accepted() -> None:
    assert mixed_fund_multiplier(1.0, 0.8, 80, 1.0, bonds=20.0).price_after == 1.05


def test_cascade_trace_and_rounds() -> None:
    r = mixed_fund_multiplier(1.0, 0.8, 80, 1.0)
    assert [s.stage for s in r.steps] == [
        "inflow",
        "mandate_split",
        "equity_demand",
        "price",
        "market_cap",
    ]
    assert [s.amount for s in r.steps] == [1.0, 0.8, 4.0, 0.05, 4.0]
    assert [x.demand for x in r.rounds[:3]] == [0.8, 0.64, 0.512]
    assert r.rounds[0].price == 1.01
    assert r.rounds[-1].cumulative_gain == pytest.approx(4.0, abs=1e-10)
    assert r.rounds[-1].price == pytest.approx(1.05, abs=1e-12)
    d = r.to_dict()
    assert d["steps"][0]["stage"] == "inflow"
    assert d["rounds"][1]["demand"] == 0.64


def test_outflow_lowers_price_symmetrically() -> None:
    up = mixed_fund_multiplier(1.0, 0.8, 80, 1.0)
    down = mixed_fund_multiplier(-1.0, 0.8, 80, 1.0)
    assert down.price_after == 0.95
    assert down.market_cap_change == -up.market_cap_change


@settings(max_examples=60, deadline=None)
@given(
    theta=st.floats(0.05, 0.95),
    shares=st.floats(1.0, 1e9),
    price=st.floats(0.1, 1e4),
    inflow=st.floats(-0.15, 0.5),
    k=st.floats(0.1, 5.0),
)
def test_price_change_linear_in_inflow_and_m_is_one_over_zeta(
    theta: float, shares: float, price: float, inflow: float, k: float
) -> None:
    mcap = shares * price
    f = inflow * mcap * (1 - theta) / theta * 0.5  # keep an outflow smaller than the bonds
    a = mixed_fund_multiplier(f, theta, shares, price)
    b = mixed_fund_multiplier(k * f, theta, shares, price)
    zeta = 1 - theta
    # linear: Δp(k f) = k Δp(f). Each price_after carries one rounding of size ulp(price),
    # which the subtraction exposes when Δp is tiny against p (e.g. p = 8192, Δp = 1e-3).
    rounding = 4 * (1 + k) * math.ulp(max(price, a.price_after, b.price_after))
    assert b.price_after - price == pytest.approx(
        k * (a.price_after - price), rel=1e-9, abs=rounding
    )
    # p = f / zeta with f the equity inflow as a fraction of the market
    assert a.price_change == pytest.approx(a.flow_fraction / zeta, rel=1e-9, abs=1e-15)
    assert a.price_change == pytest.approx(inelastic_price_change(a.flow_fraction, zeta), abs=1e-12)
    if f != 0:
        assert a.multiplier == pytest.approx(1 / zeta, rel=1e-9)
    assert a.market_cap_change == pytest.approx(a.equity_inflow / zeta, rel=1e-9, abs=1e-9)


@given(zeta=st.floats(1e-3, 10.0), flow=st.floats(-1.0, 1.0))
def test_general_market(zeta: float, flow: float) -> None:
    assert multiplier_from_zeta(zeta) == pytest.approx(1 / zeta)
    assert inelastic_price_change(flow, zeta) == pytest.approx(flow * multiplier_from_zeta(zeta))


def test_zeta_of_mandate() -> None:
    assert mandate_zeta(0.6) == pytest.approx(0.4)
    assert multiplier_from_zeta(mandate_zeta(0.8)) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"theta": 1.0}, "theta"),
        ({"theta": 1.2}, "theta"),
        ({"theta": 0.0}, "theta"),
        ({"shares": 0.0}, "shares"),
        ({"price": -1.0}, "price"),
        ({"bonds": 25.0}, "bonds"),
        ({"inflow": -30.0}, "inflow"),
        ({"inflow": math.nan}, "inflow"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, float], field: str) -> None:
    args: dict[str, float] = {"inflow": 1.0, "theta": 0.8, "shares": 80, "price": 1.0} | kwargs
    with pytest.raises(ConfigError, match=field) as err:
        mixed_fund_multiplier(**args)
    assert err.value.field == field


def test_bad_zeta() -> None:
    with pytest.raises(ConfigError, match="zeta"):
        inelastic_price_change(0.01, 0.0)
    with pytest.raises(ConfigError, match="theta"):
        mandate_zeta(1.0)
