"""/v1/flows/fund and /v1/flows/etf: the library's numbers, windows, and bad input."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import polars as pl
import pytest

from flowpressure.data import sample
from flowpressure.flows import etf_flows, fund_flows


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or math.isnan(b))
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def test_fund_rows_equal_the_library(client: Any) -> None:
    r = client.get("/v1/flows/fund", params={"fund_id": "F001"})
    assert r.status_code == 200
    body = r.json()
    expected = fund_flows(sample.load("fund").filter(fund_id="F001"))
    assert len(body["rows"]) == expected.height == 240
    for got, want in zip(body["rows"], expected.iter_rows(named=True), strict=True):
        assert got["date"] == want["date"].isoformat()
        assert got["tna"] == want["tna"]
        assert got["flow_note"] == want["flow_note"]
        assert _close(got["flow"], want["flow"]), (got, want)
        assert _close(got["flow_pct"], want["flow_pct"])
    assert body["diagnostics"] == {"birth": 1}
    assert body["rows"][0]["flow"] is None  # a birth has no flow (null, not NaN)


def test_fund_flow_obeys_the_identity(client: Any) -> None:
    rows = client.get("/v1/flows/fund", params={"fund_id": "F010"}).json()["rows"]
    for prev, row in itertools.pairwise(rows):
        if row["flow"] is None:
            continue
        # End timing: TNA_{t-1} (1 + R_t) + F_t = TNA_t, R = ret_total when stored.
        rebuilt = prev["tna"] * (1 + row["ret_total"]) + row["flow"]
        assert math.isclose(rebuilt, row["tna"], rel_tol=1e-12)
        assert math.isclose(row["flow_pct"], row["flow"] / prev["tna"], rel_tol=1e-12)


def test_fund_window_keeps_the_first_rows_flow(client: Any) -> None:
    full = client.get("/v1/flows/fund", params={"fund_id": "F002"}).json()["rows"]
    part = client.get(
        "/v1/flows/fund", params={"fund_id": "F002", "start": "2010-01-01", "end": "2010-06-30"}
    ).json()
    assert [r["date"] for r in part["rows"]] == [
        "2010-01-31",
        "2010-02-28",
        "2010-03-31",
        "2010-04-30",
        "2010-05-31",
        "2010-06-30",
    ]
    by_date = {r["date"]: r for r in full}
    assert part["rows"][0]["flow"] is not None
    assert part["rows"] == [by_date[r["date"]] for r in part["rows"]]
    assert part["diagnostics"] == {}
    assert (part["start"], part["end"]) == ("2010-01-01", "2010-06-30")


def test_fund_start_timing(client: Any) -> None:
    rows = client.get("/v1/flows/fund", params={"fund_id": "F003", "timing": "start"}).json()
    expected = fund_flows(sample.load("fund").filter(fund_id="F003"), timing="start")
    assert rows["timing"] == "start"
    assert _close(rows["rows"][5]["flow"], expected["flow"][5])


def test_fund_gap_is_counted(client: Any) -> None:
    (fund, day) = sample.GAPS[0]
    body = client.get("/v1/flows/fund", params={"fund_id": fund}).json()
    assert body["diagnostics"] == {"birth": 1, "gap": 1}
    noted = [r["date"] for r in body["rows"] if r["flow_note"] == "gap"]
    assert len(noted) == 1
    assert noted[0] > day.isoformat()


def test_etf_rows_equal_the_library(client: Any) -> None:
    params = {"fund_id": "EQX", "start": "2018-06-01", "unit_size": 50_000, "so_lag": 1}
    body = client.get("/v1/flows/etf", params=params).json()
    panel = sample.load("etf").filter(fund_id="EQX")
    expected = etf_flows(panel, unit_size=50_000, so_lag=1).filter(
        pl.col("date") >= dt.date(2018, 6, 1)
    )
    assert len(body["rows"]) == expected.height > 100
    for got, want in zip(body["rows"], expected.iter_rows(named=True), strict=True):
        assert got["date"] == want["date"].isoformat()
        assert _close(got["flow"], want["flow"])
        assert _close(got["creation_units"], want["creation_units"])
        assert _close(got["flow_aum"], want["flow_aum"])
        assert got["flow_note"] == want["flow_note"]
    assert body["diagnostics"] == {"so_lag_tail": 1}
    assert body["rows"][-1]["flow"] is None


@pytest.mark.parametrize("path", ["/v1/flows/fund", "/v1/flows/etf"])
@pytest.mark.parametrize(
    "fund_id",
    [
        "NOPE",
        "F001' OR '1'='1",
        "x'; DROP TABLE fund; --",
        "../../etc/passwd",
        "/etc/passwd",
        "C:\\Windows\\win.ini",
        "%00",
    ],
)
def test_unknown_or_hostile_id_is_404(client: Any, path: str, fund_id: str) -> None:
    r = client.get(path, params={"fund_id": fund_id})
    assert r.status_code == 404
    assert r.json()["field"] == "fund_id"
    assert "unknown fund_id" in r.json()["detail"]
    # the store is intact afterwards
    assert client.get("/v1/flows/fund", params={"fund_id": "F001"}).status_code == 200


def test_the_db_path_as_an_id_is_404_without_the_path(client: Any, sample_db: Any) -> None:
    r = client.get("/v1/flows/fund", params={"fund_id": str(sample_db)})
    assert r.status_code == 404
    assert str(sample_db) not in r.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "fund_id"),
        ({"fund_id": ""}, "fund_id"),
        ({"fund_id": "F001", "start": "2018-13-01"}, "start"),
        ({"fund_id": "F001", "end": "yesterday"}, "end"),
        ({"fund_id": "F001", "timing": "middle"}, "timing"),
        ({"fund_id": "F" * 500}, "fund_id"),
    ],
)
def test_fund_bad_query_is_422_naming_the_field(
    client: Any, params: dict[str, str], field: str
) -> None:
    r = client.get("/v1/flows/fund", params=params)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail[0]["loc"] == ["query", field]
    assert set(detail[0]) == {"loc", "msg", "type"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"so_lag": -1}, "so_lag"),
        ({"unit_size": 0}, "unit_size"),
        ({"unit_size": "inf"}, "unit_size"),
        ({"return_kind": "gross"}, "return_kind"),
    ],
)
def test_etf_bad_query_is_422(client: Any, params: dict[str, Any], field: str) -> None:
    r = client.get("/v1/flows/etf", params={"fund_id": "EQX", **params})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", field]


def test_end_before_start_is_422_naming_end(client: Any) -> None:
    r = client.get(
        "/v1/flows/fund", params={"fund_id": "F001", "start": "2018-01-01", "end": "2017-01-01"}
    )
    assert r.status_code == 422  # refused by the library: same shape as pydantic's errors
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["query", "end"]
    assert "on or after start 2018-01-01" in detail["msg"]
