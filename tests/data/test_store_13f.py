"""SEC 13F data sets through the store: stored as holdings, idempotent, bad zips change nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
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


def test_ceekay_panel_with_named_format_corrects_units(tmp_path: Path) -> None:
    """A filing the source multiplied by 1000 once too often: Centerbridge, 2024-12-31."""
    from tests.conftest import SHARED_DATA

    panel = SHARED_DATA / "13f" / "ceekay_13f_holdings_panel_2015_2026.parquet"
    if not panel.exists():
        pytest.skip("shared/data 13F ceekay panel is absent")
    small = tmp_path / "centerbridge.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{panel}') WHERE cik = 1484836) TO '{small}'")
    ((lines_2024, median_2024, gtx_value, gtx_shares),) = duckdb.execute(
        f"SELECT count(*) FILTER (WHERE period = DATE '2024-12-31'), "
        f"median(value_usd / sshprnamt) FILTER (WHERE period = DATE '2024-12-31' "
        f"AND put_call = '' AND sshprnamt_type = 'SH' AND sshprnamt > 0), "
        f"sum(value_usd) FILTER (WHERE ticker = 'GTX' AND period = DATE '2024-12-31'), "
        f"sum(sshprnamt) FILTER (WHERE ticker = 'GTX' AND period = DATE '2024-12-31') "
        f"FROM read_parquet('{small}')"
    ).fetchall()
    assert median_2024 > 5000  # $9,030 a share as given: not a plausible median
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(
        app, ["ingest", "holdings", str(small), "--db", str(db), "--format", "ceekay13f"]
    )
    assert result.exit_code == 0, result.output
    assert "read as format ceekay13f (named)" in result.stderr
    assert f"holdings rows_units_corrected: {lines_2024}" in result.stderr
    assert "0001484836 2024-12-31" in result.stderr
    with Store(db, read_only=True) as store:
        stored = store.con.execute(
            "SELECT value, shares FROM holdings WHERE date = DATE '2024-12-31' "
            "AND asset_id LIKE '%:GTX'"
        ).fetchall()
    assert stored == [(gtx_value / 1000, gtx_shares)]
