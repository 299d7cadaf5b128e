"""/v1/multiplier, /v1/price-change, /v1/impact, /v1/calendar: worked examples and bounds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from flowpressure.data import sample
from flowpressure.pressure import flow_calendar, mixed_fund_multiplier

MULTIPLIER_KEYS = {
    "inflow",
    "theta",
    "shares",
    "price",
    "bonds",
    "zeta",
    "multiplier",
    "equity_inflow",
    "bond_inflow",
    "flow_fraction",
    "price_after",
    "price_change",
    "market_cap_before",
    "market_cap_after",
    "market_cap_change",
    "fund_value_before",
    "fund_value_after",
    "bonds_after",
    "steps",
    "rounds",
}


def test_multiplier_worked_example(client: Any) -> None:
    r = client.get("/v1/multiplier", params={"inflow": 1, "theta": 0.8, "shares": 80, "price": 1})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == MULTIPLIER_KEYS
    # DESIGN.md: 80 shares at $1, $20 bonds, theta 0.8, $1 in -> price $1.05, cap +$4, M = 5
    assert body["price_after"] == 1.05
    assert body["multiplier"] == 5.0
    assert body["market_cap_change"] == 4.0
    assert body["bonds"] == 20.0
    assert body["equity_inflow"] == 0.8
    assert body == mixed_fund_multiplier(1, 0.8, 80, 1, max_rounds=10).to_dict()
    assert [s["step"] for s in body["steps"]] == [1, 2, 3, 4, 5]
    assert len(body["rounds"]) == 10
    assert set(body["rounds"][0]) == {"round", "demand", "price", "market_cap", "cumulative_gain"}


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"theta": 1.0}, 422, "theta"),
        ({"theta": 0}, 422, "theta"),
        ({"shares": -1}, 422, "shares"),
        ({"price": "abc"}, 422, "price"),
        ({"inflow": "inf"}, 422, "inflow"),
        ({"rounds": 0}, 422, "rounds"),
        ({"bonds": 50}, 422, "bonds"),  # off the mandate (refused by the library)
        ({"inflow": -30}, 422, "inflow"),  # larger than the fund's bonds
    ],
)
def test_multiplier_bad_input(client: Any, params: dict[str, Any], status: int, field: str) -> None:
    base = {"inflow": 1, "theta": 0.8, "shares": 80, "price": 1}
    r = client.get("/v1/multiplier", params={**base, **params})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["detail"][0]["loc"] == ["query", field]
    if params in ({"bonds": 50}, {"inflow": -30}):  # the library's message names it too
        assert field in body["detail"][0]["msg"]


def test_multiplier_extremes_stay_json(client: Any) -> None:
    r = client.get(
        "/v1/multiplier",
        params={"inflow": 1e18, "theta": 1e-300, "shares": 1e15, "price": 1e9},
    )
    assert r.status_code in (200, 422)
    assert "NaN" not in r.text
    assert "Infinity" not in r.text


def test_price_change_grid(client: Any) -> None:
    r = client.get("/v1/price-change", params={"zeta": 0.2, "points": 5})
    assert r.status_code == 200
    body = r.json()
    assert (body["zeta"], body["elastic_zeta"]) == (0.2, 2.0)
    flows = [p["flow"] for p in body["points"]]
    assert flows == pytest.approx([-0.05, -0.025, 0.0, 0.025, 0.05])
    assert flows[0] == -0.05
    assert flows[-1] == 0.05
    for p in body["points"]:
        assert p["price_change"] == pytest.approx(p["flow"] / 0.2)  # p = f / zeta
        assert p["price_change_elastic"] == pytest.approx(p["flow"] / 2.0)
    assert body["points"][-1]["price_change"] == 0.25
    r = client.get("/v1/price-change", params={"zeta": 0.2, "flow_min": 0.1, "flow_max": 0.1})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "flow_max"]
    r = client.get("/v1/price-change", params={"zeta": 0})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "zeta"]


def test_impact_square_root_law(client: Any) -> None:
    r = client.get("/v1/impact", params={"quantity": -1e6, "adv": 4e6, "sigma": 0.02})
    assert r.status_code == 200
    body = r.json()
    assert body["impact"] == -0.01
    assert body["impact_bps"] == -100.0
    assert body["days_of_adv"] == 0.25
    assert body["side"] == "sell"
    assert (body["quantity"], body["adv"], body["sigma"], body["y"]) == (-1e6, 4e6, 0.02, 1.0)
    quad = client.get("/v1/impact", params={"quantity": 4e6, "adv": 4e6, "sigma": 0.02}).json()
    assert quad["impact"] == pytest.approx(2 * abs(body["impact"]))  # 4x the size, 2x the move
    r = client.get("/v1/impact", params={"quantity": 1, "adv": 0, "sigma": 0.02})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "adv"]
    r = client.get("/v1/impact", params={"adv": 1, "sigma": 0.02})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "quantity"]


def _expected_calendar(
    as_of: dt.date, horizon: int, rebalance_aum: float | None = None, known: bool = True
) -> pl.DataFrame:
    """flow_calendar on the sample; with ``known``, only what is known on ``as_of``."""
    px, bb = sample.load("prices"), sample.load("buybacks")
    ie, op = sample.load("index_events"), sample.load("options")
    if known:
        px = px.filter(pl.col("date") <= as_of)
        bb = bb.filter(pl.col("date") <= as_of)
        ie = ie.filter(pl.col("announce_date") <= as_of)
        op = op.filter(pl.col("date") <= as_of)
    return flow_calendar(
        as_of + dt.timedelta(days=1),
        as_of + dt.timedelta(days=horizon),
        prices=px,
        buybacks=bb if bb.height else None,
        index_events=ie if ie.height else None,
        options=op if op.height else None,
        rebalance_aum=rebalance_aum,
    )


def test_calendar_defaults_to_the_datas_last_date(client: Any) -> None:
    r = client.get("/v1/calendar", params={"horizon": 45})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["as_of"] == "2018-12-31"  # the data's last date, not the wall clock
    assert (body["start"], body["end"]) == ("2019-01-01", "2019-02-14")
    want = _expected_calendar(dt.date(2018, 12, 31), 45)
    assert len(body["events"]) == want.height > 0
    got = [(e["date"], e["family"], e["asset_id"]) for e in body["events"]]
    assert got == [(str(d), f, a) for d, f, a in want.select("date", "family", "asset_id").rows()]
    families = {e["family"] for e in body["events"]}
    assert {"month_end", "opex", "buyback_blackout"} <= families
    for event in body["events"]:
        assert (event["dollars"] is None) == (event["status"] == "unsized")


def test_calendar_as_of_uses_only_data_known_then(client: Any) -> None:
    as_of = dt.date(2015, 9, 1)
    body = client.get(
        "/v1/calendar", params={"horizon": 45, "as_of": "2015-09-01", "rebalance_aum": 1e12}
    ).json()
    assert body["as_of"] == "2015-09-01"
    ends = [e for e in body["events"] if e["family"] == "quarter_end"]
    assert [e["date"] for e in ends] == ["2015-09-30"]
    # sized from the returns known on as_of (month to date), not from the whole of September
    known = _expected_calendar(as_of, 45, 1e12).filter(family="quarter_end")
    hindsight = _expected_calendar(as_of, 45, 1e12, known=False).filter(family="quarter_end")
    assert ends[0]["dollars"] == pytest.approx(known["dollars"][0], rel=1e-12)
    assert ends[0]["dollars"] != pytest.approx(hindsight["dollars"][0], rel=1e-3)
    # the S&P event announced 2015-09-14 is not known on 2015-09-01
    assert not [e for e in body["events"] if e["family"] == "index_event"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 100_000}, "horizon"),
        ({"as_of": "2018-02-30"}, "as_of"),
        ({"rebalance_aum": -1}, "rebalance_aum"),
    ],
)
def test_calendar_bad_query_is_422(client: Any, params: dict[str, Any], field: str) -> None:
    r = client.get("/v1/calendar", params=params)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", field]


def test_calendar_far_dates_are_an_answer_not_a_crash(client: Any) -> None:
    for as_of in ("1800-01-01", "9999-12-20"):
        r = client.get("/v1/calendar", params={"horizon": 30, "as_of": as_of})
        assert r.status_code in (200, 422), r.text
        if r.status_code != 200:
            assert r.json()["detail"]
