"""The app around the routes: store info, static files, body limit, errors, the OpenAPI schema."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowpressure.data import sample
from flowpressure.service import create_app
from flowpressure.service._app import BodyLimit
from flowpressure.service._common import ReaderHolder
from tests.service.conftest import build_store, client_class

# --- store routes ------------------------------------------------------------------------


def test_health_lists_kinds_without_a_path(client: Any, sample_db: Path) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok"
    assert body["kinds"] == [
        "fund",
        "etf",
        "holdings",
        "prices",
        "index_events",
        "buybacks",
        "options",
    ]
    assert str(sample_db.parent) not in client.get("/v1/health").text


def test_info_counts_without_sources(client: Any, sample_db: Path) -> None:
    r = client.get("/v1/info")
    body = r.json()
    assert body["fund"] == {
        "rows": 23816,
        "entities": 100,
        "first_date": "1999-01-31",
        "last_date": "2018-12-31",
        "key": ["fund_id", "date"],
    }
    assert body["prices"]["rows"] == 261612
    assert body["index_events"]["key"] == ["asset_id", "effective_date", "index_id"]
    assert "parquet" not in r.text
    assert str(sample_db.parent) not in r.text


@pytest.mark.parametrize(
    ("kind", "first", "count"),
    [("fund", "F001", 100), ("etf", "BNDX", 3), ("prices", "AGG_TR", 52)],
)
def test_entities(client: Any, kind: str, first: str, count: int) -> None:
    body = client.get("/v1/entities", params={"kind": kind}).json()
    assert body["kind"] == kind
    assert body["ids"][0] == first
    assert len(body["ids"]) == count
    assert body["ids"] == sorted(body["ids"])


def test_entities_refuses_other_kinds(client: Any) -> None:
    r = client.get("/v1/entities", params={"kind": "_provenance"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "kind"]


def test_kind_not_stored_is_404_naming_kind(tmp_path: Path) -> None:
    db = build_store(tmp_path, kinds=("fund",))
    with client_class()(create_app(db)) as c:
        assert c.get("/v1/health").json()["kinds"] == ["fund"]
        r = c.get("/v1/flows/etf", params={"fund_id": "EQX"})
        assert r.status_code == 404
        assert r.json()["field"] == "kind"
        assert "no etf panel" in r.json()["detail"]
        assert str(tmp_path) not in r.text
        r = c.get("/v1/entities", params={"kind": "prices"})
        assert r.status_code == 404


# --- static files ------------------------------------------------------------------------


def test_dashboard_and_files_are_served(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert b"<html" in page.content.lower()
    for name, media in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith(media)
        again = client.get(f"/static/{name}", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304


@pytest.mark.parametrize(
    "name",
    [
        "missing.js",
        "..%2F_app.py",
        "%2E%2E%2F%2E%2E%2Fpyproject.toml",
        "_app.py",
        "__init__.py",
        "dashboard",
        ".hidden.css",
    ],
)
def test_other_static_names_are_404(client: Any, name: str) -> None:
    r = client.get(f"/static/{name}")
    assert r.status_code == 404
    assert "import" not in r.text


def test_missing_dashboard_is_404(
    client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from flowpressure.service import _static

    monkeypatch.setattr(_static, "_folder", lambda: tmp_path / "absent")
    assert client.get("/").status_code == 404
    assert client.get("/static/dashboard.js").status_code == 404
    (tmp_path / "absent").mkdir()
    (tmp_path / "absent" / "dashboard.html").write_text("<html>here</html>")
    assert client.get("/").text == "<html>here</html>"


def test_plotly_is_served_locally(client: Any) -> None:
    from plotly.offline import get_plotlyjs

    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "max-age=" in r.headers["cache-control"]
    assert r.text == get_plotlyjs()  # the client un-gzips it
    assert r.headers.get("content-encoding") == "gzip"
    plain = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 1_000_000
    cached = client.get("/static/plotly.min.js", headers={"If-None-Match": r.headers["etag"]})
    assert cached.status_code == 304


# --- body limit ----------------------------------------------------------------------------

REBALANCE = {"assets": ["SPX", "AGG_TR"], "targets": [0.6, 0.4], "max_trades": 0}


def test_body_over_the_limit_is_413(sample_db: Path) -> None:
    with client_class()(create_app(sample_db, max_body_bytes=200)) as c:
        assert c.post("/v1/rebalance", json=REBALANCE).status_code == 200
        padded = {**REBALANCE, "rule": {"kind": "calendar", "frequency": "monthly" + " " * 300}}
        r = c.post("/v1/rebalance", json=padded)
        assert r.status_code == 413
        assert r.json()["field"] == "body"

        def chunks() -> Any:  # no Content-Length: counted as it streams
            yield b'{"assets": ["SPX", "AGG_TR"], '
            yield b" " * 300
            yield b'"targets": [0.6, 0.4]}'

        r = c.post("/v1/rebalance", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def _run_body_limit(messages: list[dict[str, Any]], limit: int) -> tuple[list[Any], bytes | None]:
    seen: dict[str, Any] = {}
    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        seen["body"] = body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodyLimit(app, limit)(scope, receive, send))
    return sent, seen.get("body")


def test_body_limit_counts_streamed_chunks() -> None:
    parts = [
        {"type": "http.request", "body": b"x" * 60, "more_body": True},
        {"type": "http.request", "body": b"y" * 60, "more_body": False},
    ]
    sent, body = _run_body_limit(parts, 100)
    assert sent[0]["status"] == 413
    assert body is None  # the app never ran
    sent, body = _run_body_limit(parts, 120)
    assert sent[0]["status"] == 200
    assert body == b"x" * 60 + b"y" * 60  # replayed whole


def test_bad_content_length_is_400(sample_db: Path) -> None:
    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError("not reached")

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:  # pragma: no cover
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "headers": [(b"content-length", b"lots")]}
    asyncio.run(BodyLimit(app, 10)(scope, receive, send))
    assert sent[0]["status"] == 400


# --- errors --------------------------------------------------------------------------------


def test_unexpected_error_is_500_without_traceback(
    sample_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(sample_db)

    @app.get("/v1/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError(f"secret detail from {sample_db}")

    with (
        caplog.at_level(logging.ERROR, logger="flowpressure.service"),
        client_class()(app, raise_server_exceptions=False) as c,
    ):
        r = c.get("/v1/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error"}
    assert "Traceback" in caplog.text  # the server log has it
    assert "secret detail" in caplog.text


def test_missing_or_broken_store_is_503_without_path(tmp_path: Path) -> None:
    broken = tmp_path / "secret-dir" / "broken.duckdb"
    broken.parent.mkdir()
    broken.write_bytes(b"not a duckdb file" * 100)
    for db in (broken, tmp_path / "secret-dir" / "absent.duckdb"):
        with client_class()(create_app(db)) as c:
            r = c.get("/v1/flows/fund", params={"fund_id": "F001"})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "2"
        assert r.json()["field"] == "db"
        assert "secret-dir" not in r.text
        assert "Traceback" not in r.text


def test_store_busy_with_a_writer_is_503_then_recovers(tmp_path: Path) -> None:
    db = build_store(tmp_path, kinds=("fund",))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with client_class()(create_app(db, read_wait=0.3)) as c:
            r = c.get("/v1/flows/fund", params={"fund_id": "F001"})
            assert r.status_code == 503
            assert r.headers["retry-after"] == "2"
            assert str(tmp_path) not in r.text
            holder.terminate()
            holder.wait(timeout=10)
            r = c.get("/v1/flows/fund", params={"fund_id": "F001"})
            assert r.status_code == 200
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_cache_keeps_one_generation(tmp_path: Path) -> None:
    holder = ReaderHolder(tmp_path / "x.duckdb", wait=1.0, cache_size=2)
    assert holder.recall((1, 1), "a") is None
    holder.keep((1, 1), "a", 1)
    holder.keep((1, 1), "b", 2)
    assert holder.recall((1, 1), "a") == 1
    holder.keep((1, 1), "c", 3)  # over the size: the least recently used ("b") goes
    assert holder.recall((1, 1), "b") is None
    assert holder.recall((1, 1), "c") == 3
    assert holder.recall((1, 2), "a") is None  # another generation never sees it
    holder.keep((1, 2), "a", 10)  # a newer generation drops the older entries
    assert holder.recall((1, 2), "c") is None
    holder.keep((1, 1), "late", 0)  # a result computed on older data is not kept
    assert holder.recall((1, 2), "late") is None
    assert holder.recall((1, 2), "a") == 10


def test_flow_responses_match_their_models(client: Any) -> None:
    from flowpressure.service._models import EtfFlowsOut, FundFlowsOut

    fund = client.get("/v1/flows/fund", params={"fund_id": "F098", "start": "2010-01-01"})
    FundFlowsOut.model_validate(fund.json())
    assert fund.headers["content-type"] == "application/json"
    etf = client.get("/v1/flows/etf", params={"fund_id": "SECX", "end": "2008-02-01"})
    out = EtfFlowsOut.model_validate(etf.json())
    assert out.rows[0].flow_note == "birth"
    assert out.end is not None
    assert out.end.isoformat() == "2008-02-01"


def test_create_app_refuses_a_negative_limit() -> None:
    from flowpressure import ConfigError

    with pytest.raises(ConfigError, match="max_body_bytes"):
        create_app("x.duckdb", max_body_bytes=-1)


BAD_REQUESTS = [
    ("get", "/v1/flows/fund", {"fund_id": "F001", "start": "x"}),
    ("get", "/v1/flows/fund", {"fund_id": "/etc/shadow"}),
    ("get", "/v1/flows/etf", {"fund_id": "NOPE"}),
    ("get", "/v1/pension", {"aum": "-1"}),
    ("get", "/v1/pension", {"aum": "1e12", "as_of": "1900-01-02"}),
    ("get", "/v1/index-demand", {"index_id": "NDX"}),
    (
        "get",
        "/v1/multiplier",
        {"inflow": "1", "theta": "0.8", "shares": "80", "price": "1", "bonds": "9"},
    ),
    ("get", "/v1/nope", {}),
    ("delete", "/v1/health", {}),
]


@pytest.mark.parametrize(("method", "url", "params"), BAD_REQUESTS)
def test_errors_never_leak(
    client: Any, sample_db: Path, method: str, url: str, params: dict[str, str]
) -> None:
    r = client.request(method, url, params=params)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/json")
    assert "detail" in r.json()
    for secret in (str(sample_db), str(sample_db.parent), "Traceback", 'File "'):
        assert secret not in r.text


# --- the schema ----------------------------------------------------------------------------


def test_openapi_is_complete(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/v1/health",
        "/v1/info",
        "/v1/entities",
        "/v1/flows/fund",
        "/v1/flows/etf",
        "/v1/rebalance",
        "/v1/pension",
        "/v1/index-demand",
        "/v1/multiplier",
        "/v1/price-change",
        "/v1/impact",
        "/v1/calendar",
    }
    assert expected <= set(paths)
    schemas = spec["components"]["schemas"]
    for path in expected:
        for op in paths[path].values():
            ok = op["responses"]["200"]["content"]["application/json"]["schema"]
            assert "$ref" in ok, path  # a named model, never a bare object
            for param in op.get("parameters", []):
                assert param.get("description"), (path, param["name"])
                assert param["schema"], (path, param["name"])
            codes = set(op["responses"])
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in codes, path  # bad input, including what the library refuses
            if path not in ("/v1/multiplier", "/v1/price-change", "/v1/impact"):
                assert {"404", "503"} <= codes, path
    for name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            if name.endswith("Out") or name.endswith("Row") or name.endswith("In"):
                assert prop.get("description"), f"{name}.{field}"
    assert paths["/v1/rebalance"]["post"]["requestBody"]["required"] is True


def test_sample_is_what_the_tests_assume() -> None:
    assert sample.GAPS[0][0] == "F097"
