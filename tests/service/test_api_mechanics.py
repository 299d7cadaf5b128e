"""POST /v1/rebalance, /v1/pension, /v1/index-demand against the library on the sample."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flowpressure.data import sample
from flowpressure.mechanics import (
    RebalanceCosts,
    RebalanceRule,
    estimate_pension_flows,
    index_demand,
    simulate_rebalance,
)

BODY = {
    "assets": ["SPX", "AGG_TR"],
    "targets": [0.6, 0.4],
    "rule": {"kind": "calendar", "frequency": "quarterly"},
    "costs_bps": 5,
    "start": "2010-01-01",
    "end": "2012-12-31",
    "initial": 1_000_000,
    "max_trades": 5,
}


def test_rebalance_equals_the_library(client: Any) -> None:
    r = client.post("/v1/rebalance", json=BODY)
    assert r.status_code == 200, r.text
    body = r.json()
    res = simulate_rebalance(
        sample.load("prices"),
        {"SPX": 0.6, "AGG_TR": 0.4},
        RebalanceRule.calendar("Q"),
        RebalanceCosts(bps=5),
        1_000_000,
        start="2010-01-01",
        end="2012-12-31",
    )
    s = body["summary"]
    assert s["n_rebalances"] == int(res.n_rebalances[0]) == 12  # 12 quarter ends, 2010-2012
    assert math.isclose(s["final_value"], float(res.final_value[0]), rel_tol=1e-12)
    assert math.isclose(s["turnover"], float(res.turnover[0]), rel_tol=1e-12)
    assert math.isclose(s["costs"], float(res.costs[0]), rel_tol=1e-12)
    assert s["rule"] == "quarterly"
    assert (s["start"], s["end"]) == ("2010-01-04", "2012-12-31")
    assert len(body["values"]) == s["days"] == len(res.dates)
    assert math.isclose(body["values"][-1]["value"], s["final_value"], rel_tol=1e-12)
    assert len(body["rebalance_dates"]) == 12
    # the initial investment (2) + 12 rebalances x 2 assets; only 5 returned, and it says so
    assert body["trades_total"] == 26
    assert len(body["trades"]) == 5
    assert body["trades_truncated"] is True
    assert [t["kind"] for t in body["trades"][:2]] == ["initial", "initial"]
    assert math.isclose(sum(s["final_weights"].values()), 1.0, rel_tol=1e-12)


def test_rebalance_threshold_rule(client: Any) -> None:
    body = {**BODY, "rule": {"kind": "threshold", "band": 0.02}, "max_trades": 10_000}
    out = client.post("/v1/rebalance", json=body).json()
    res = simulate_rebalance(
        sample.load("prices"),
        {"SPX": 0.6, "AGG_TR": 0.4},
        RebalanceRule.threshold(0.02),
        RebalanceCosts(bps=5),
        start="2010-01-01",
        end="2012-12-31",
    )
    assert out["summary"]["n_rebalances"] == int(res.n_rebalances[0]) > 0
    assert out["trades_truncated"] is False
    assert len(out["trades"]) == out["trades_total"]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"targets": [0.6]}, ["body"]),
        ({"assets": ["SPX", "SPX"]}, ["body"]),
        ({"rule": {"kind": "threshold"}}, ["body", "rule"]),
        ({"rule": {"kind": "every"}}, ["body", "rule"]),
        ({"rule": {"kind": "weekly"}}, ["body", "rule", "kind"]),
        ({"targets": [0.6, -0.4]}, ["body", "targets", 1]),
        ({"costs_bps": -1}, ["body", "costs_bps"]),
        ({"initial": 0}, ["body", "initial"]),
        ({"assets": []}, ["body", "assets"]),
        ({"end": "2009-01-01"}, ["body"]),
        ({"surprise": 1}, ["body", "surprise"]),
    ],
)
def test_rebalance_bad_body_is_422(client: Any, change: dict[str, Any], loc: list[Any]) -> None:
    r = client.post("/v1/rebalance", json={**BODY, **change})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"] == loc
    named = next(iter(change))
    assert named in detail[0]["msg"] or named in detail[0]["loc"]


def test_rebalance_weights_not_summing_to_one_is_422(client: Any) -> None:
    r = client.post("/v1/rebalance", json={**BODY, "targets": [0.6, 0.5]})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "targets"]
    assert "summing to 1" in detail["msg"]


def test_rebalance_unknown_asset_is_404(client: Any) -> None:
    r = client.post("/v1/rebalance", json={**BODY, "assets": ["SPX", "NOPE"]})
    assert r.status_code == 404
    assert r.json()["field"] == "assets[1]"


def test_rebalance_malformed_json_is_422(client: Any) -> None:
    r = client.post(
        "/v1/rebalance", content=b'{"assets": [', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


def test_pension_equals_the_library(client: Any) -> None:
    r = client.get("/v1/pension", params={"aum": 1e12, "equity_id": "SPX", "bond_id": "AGG_TR"})
    assert r.status_code == 200, r.text
    body = r.json()
    est = estimate_pension_flows(sample.load("prices"), {"SPX": 0.6, "AGG_TR": 0.4}, 1e12)
    assert body["as_of"] == "2018-12-31" == est.as_of.isoformat()  # the data's last date
    for name in ("month", "quarter", "year"):
        got, want = body["windows"][name], est.windows[name]
        assert got["start"] == want.start.isoformat()
        assert got["end"] == want.end.isoformat()
        for level in ("low", "central", "high"):
            assert math.isclose(got["equity_trade"][level], getattr(want, level)["SPX"])
            assert math.isclose(got["bond_trade"][level], getattr(want, level)["AGG_TR"])
        assert math.isclose(got["mechanical_equity_trade"], want.trade["SPX"])
        assert got["days"] == [d.isoformat() for d in want.days]
    # 2018 Q4: equities fell, so the mandate buys equities back to 60 %
    assert body["windows"]["quarter"]["mechanical_equity_trade"] > 0
    assert body["assumptions"]["share_rebalancing"] == [0.5, 0.75, 1.0]


def test_pension_two_asset_identity(client: Any) -> None:
    w = client.get("/v1/pension", params={"aum": 1e12}).json()["windows"]["year"]
    # trade_e = W w_e w_b (r_b - r_e) (DESIGN.md)
    expected = 1e12 * 0.6 * 0.4 * (w["bond_return"] - w["equity_return"])
    assert math.isclose(w["mechanical_equity_trade"], expected, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"aum": 0}, 422, "aum"),
        ({"aum": "nan"}, 422, "aum"),
        ({"aum": 1e12, "equity_weight": 1.5}, 422, "equity_weight"),
        ({"aum": 1e12, "equity_id": "NOPE"}, 404, "equity_id"),
        ({"aum": 1e12, "bond_id": "'; --"}, 404, "bond_id"),
        ({"aum": 1e12, "bond_id": "SPX"}, 422, "bond_id"),
        ({"aum": 1e12, "as_of": "1990-01-01"}, 422, None),
    ],
)
def test_pension_bad_input(
    client: Any, params: dict[str, Any], status: int, field: str | None
) -> None:
    r = client.get("/v1/pension", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    if status == 422 and field is not None:
        assert body["detail"][0]["loc"] == ["query", field]
    elif status == 404:
        assert body["field"] == field


def test_index_demand_equals_the_library(client: Any) -> None:
    r = client.get("/v1/index-demand", params={"indexed_assets": 1.5e13})
    assert r.status_code == 200, r.text
    body = r.json()
    want = index_demand(sample.load("index_events"), sample.load("prices"), indexed_assets=1.5e13)
    assert len(body["rows"]) == want.height == 8
    for got, row in zip(body["rows"], want.iter_rows(named=True), strict=True):
        assert (got["asset_id"], got["trade_date"]) == (row["asset_id"], str(row["trade_date"]))
        assert math.isclose(got["dollars"], row["demand"], rel_tol=1e-12)
        assert math.isclose(got["shares"], row["demand_shares"], rel_tol=1e-12)
        assert math.isclose(got["days_of_adv"], row["days_of_adv"], rel_tol=1e-12)
        # D = A (w_new - w_old (1 + r_i) / (1 + r_index))
        drift = (1 + got["r_asset"]) / (1 + got["r_index"])
        assert math.isclose(got["dollars"], 1.5e13 * (got["w_new"] - got["w_old"] * drift))
    assert math.isclose(body["net_dollars"], float(want["demand"].sum()), rel_tol=1e-12)


def test_index_demand_float_cap_mode_and_filters(client: Any) -> None:
    body = client.get("/v1/index-demand").json()
    assert body["indexed_assets"] is None
    additions = [r for r in body["rows"] if r["kind"] == "addition"]
    ev = sample.load("index_events")
    for row in additions:
        event = ev.filter(asset_id=row["asset_id"]).row(0, named=True)
        # an addition demands passive share x float cap
        assert math.isclose(row["dollars"], event["passive_share"] * event["float_mcap"])
    assert client.get("/v1/index-demand", params={"index_id": "SPX"}).status_code == 200
    r = client.get("/v1/index-demand", params={"index_id": "NDX"})
    assert r.status_code == 404
    assert r.json()["field"] == "index_id"
    r = client.get("/v1/index-demand", params={"adv_window": 0})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "adv_window"]
