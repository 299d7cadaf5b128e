"""``GET /v1/validation``: the validation table over a data folder, or an empty one."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowpressure.service import create_app
from flowpressure.validate import run_check
from tests.conftest import SHARED_DATA
from tests.service.conftest import client_class


def test_without_a_folder_the_table_is_empty_and_says_so(tmp_path: Path) -> None:
    with client_class()(create_app(tmp_path / "none.duckdb")) as client:
        r = client.get("/v1/validation")
        assert r.status_code == 200
        assert r.json() == {"configured": False, "checks": []}
        r = client.get("/v1/validation", params={"check": "nope"})
        assert r.status_code == 404
        assert "fund-flows" in r.text


def test_a_folder_without_the_files_is_a_422_without_its_path(tmp_path: Path) -> None:
    with client_class()(create_app(tmp_path / "none.duckdb", validation=tmp_path)) as client:
        r = client.get("/v1/validation", params={"check": "cta"})
        assert r.status_code == 422
        assert "file missing" in r.text
        assert str(tmp_path) not in r.text


def test_real_folder_serves_the_same_row_as_the_library(tmp_path: Path) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    expected = run_check("cta", SHARED_DATA).to_dict()
    with client_class()(create_app(tmp_path / "none.duckdb", validation=SHARED_DATA)) as client:
        r = client.get("/v1/validation", params={"check": "cta"})
        assert r.status_code == 200
        body = r.json()
        assert body["configured"] is True
        [row] = body["checks"]
        for key in ("check", "data", "figure", "reference", "verdict", "n", "notes"):
            assert row[key] == expected[key]
        assert str(SHARED_DATA) not in r.text
