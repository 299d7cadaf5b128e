"""SEC 13F data sets through the store: stored as holdings, idempotent, bad zips change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowpressure import DataError, OverlapError
from flowpressure.cli import app
from flowpressure.data import Store
from tests.data.sec13f_fixture import write_13f_zip
from tests.data.test_sec13f import scenario
from tests.data.test_store import snapshot


@pytest.fixture
def quarter(tmp_path: Path) -> Path:
    filings, lines = scenario()
    return write_13f_zip(tmp_path / "2025q1_form13f.zip", filings, lines)


def test_13f_zip_is_stored_as_holdings(tmp_path: Path, quarter: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        result = store.ingest("13f", quarter)
        again = store.ingest("13f", quarter)
        info = store.info()
        puts = store.con.sql(
            "SELECT put_call, shares, value FROM holdings "
            "WHERE investor_id = '0000001001' AND asset_id = '037833100' ORDER BY put_call"
        ).fetchall()
    assert result.status == "ingested"
    assert result.rows == 9
    assert result.diagnostics["merged_lines"] == 2
    assert result.diagnostics["notices_skipped"] == 1
    assert result.ignored_columns == ()
    assert again.status == "unchanged"
    assert info["holdings"]["rows"] == 9
    assert [i["kind"] for i in info["holdings"]["ingests"]] == ["13f"]
    # shares, puts and calls of one CUSIP are three rows; two manager lines summed into one
    assert puts == [("", 150.0, 30_000.0), ("CALL", 20.0, 4_000.0), ("PUT", 10.0, 2_000.0)]


def test_other_zip_with_same_keys_needs_replace(tmp_path: Path, quarter: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("13f", quarter)
    before = snapshot(db)
    filings, lines = scenario()
    copy = write_13f_zip(tmp_path / "copy.zip", filings, lines[:-1])
    with Store(db) as store, pytest.raises(OverlapError, match="already stored from 2025q1"):
        store.ingest("13f", copy)
    assert snapshot(db) == before
    with Store(db) as store:
        assert store.ingest("13f", copy, replace=True).replaced > 0


def test_truncated_zip_changes_nothing(tmp_path: Path, quarter: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("13f", quarter)
    before = snapshot(db)
    cut = tmp_path / "cut.zip"
    data = quarter.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with Store(db) as store, pytest.raises(DataError, match="truncated or not a zip"):
        store.ingest("13f", cut)
    assert snapshot(db) == before
    result = CliRunner().invoke(app, ["ingest", "13f", str(cut), "--db", str(db)])
    assert result.exit_code == 2
    assert "truncated or not a zip" in result.stderr
    assert snapshot(db) == before
