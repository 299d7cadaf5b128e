"""Dealer gamma on real CBOE chains: the gex verb on the file and on the store, against DuckDB.

The total is recomputed here from the parquet itself:
GEX = sum(gamma x OI x 100 x S^2 x 0.01), calls +, puts - (dealers long calls, short puts),
in dollars per 1 % move of the underlying.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from flowpressure.cli import app
from tests.conftest import SHARED_DATA

CBOE = SHARED_DATA / "options" / "cboe_delayed_option_chains_spx_spy_xsp_2022_2025.parquet"
pytestmark = pytest.mark.skipif(not CBOE.exists(), reason="../shared/data not present")
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "140"})
    return result.exit_code, result.stdout, result.stderr


def duck_gex(snapshot: str, session: str, where: str = "gamma > 0 AND iv > 0") -> float:
    """Sum over one snapshot's contracts expiring after its session, straight from the file."""
    (total,) = (
        duckdb.connect()
        .sql(
            f"SELECT sum(gamma * open_interest * 100 * underlying_last ^ 2 * 0.01 "
            f"* CASE option_type WHEN 'C' THEN 1 ELSE -1 END) FROM '{CBOE}' "
            f"WHERE snapshot_id = '{snapshot}' AND expiration > DATE '{session}' AND {where}"
        )
        .fetchall()[0]
    )
    return float(total)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("gex") / "cboe.duckdb"
    code, out, err = run("ingest", "options", str(CBOE), "--format", "cboe", "--db", str(db))
    assert code == 0, err
    # rows kept and set aside: counted from the parquet in tests/data/test_formats_public.py
    assert "ingested 186,502 rows" in out
    assert "rows_zero_greeks: 54952" in err
    return db


def test_spx_gex_from_file_and_store_equals_duckdb(store: Path) -> None:
    args = ("--asset", "SPX", "--as-of", "2024-01-05", "--json")
    code, out, err = run("gex", str(CBOE), *args)
    assert code == 0, err
    code, out_db, err = run("gex", "options", "--db", str(store), *args)
    assert code == 0, err
    got: dict[str, Any] = json.loads(out)
    stored: dict[str, Any] = json.loads(out_db)
    # The Sunday 2024-01-07 snapshot carries Friday's close: its session is 2024-01-05.
    want = duck_gex("SPX_2024-01-07_1052", "2024-01-05")
    assert got["total_gex"] == pytest.approx(want, rel=1e-12)
    assert got["total_gex"] == pytest.approx(-11_018_759_006.45, rel=1e-9)  # -$11.0bn per 1 %
    assert got["hedge_flow_1pct"] == -got["total_gex"]  # dealers short gamma buy a rally
    assert sum(r["gex"] for r in got["by_expiry"]) == pytest.approx(want, rel=1e-9)
    assert got["spot"] == 4697.2402
    assert got["snapshot"] == "SPX_2024-01-07_1052"
    assert got["gamma_source"] == "chain"
    assert got["units"] == "dollars per 1% move of the underlying"
    assert "dealers long gamma" in got["sign_convention"]
    assert got["positioning"] == "dealers long calls, short puts"
    # The 5,514 lines with a gamma but no iv are set aside (the options kind needs an iv);
    # on this chain they hold 0.2 % of the total, stated in the notes.
    everything = duck_gex("SPX_2024-01-07_1052", "2024-01-05", where="true")
    assert got["total_gex"] == pytest.approx(everything, rel=0.005)
    assert got["source"]["rows_zero_iv"] == 5514
    assert got["source"]["rows_zero_greeks"] == 54952
    # Same answer from the store (the format's notes are the ingest's, not the verb's).
    assert stored.pop("source") == {}
    got.pop("source")
    assert got == stored


def test_several_snapshots_on_one_date_are_refused_then_picked(store: Path) -> None:
    code, _, err = run(
        "gex", "options", "--db", str(store), "--asset", "SPY", "--as-of", "2025-05-06"
    )
    assert code != 0
    assert "3 snapshots of SPY on 2025-05-06" in err
    assert "--snapshot" in err
    code, out, err = run(
        "gex", "options", "--db", str(store), "--asset", "SPY", "--snapshot",
        "SPY_2025-05-06_1814", "--json",
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    assert got["as_of"] == "2025-05-06"
    assert got["total_gex"] == pytest.approx(
        duck_gex("SPY_2025-05-06_1814", "2025-05-06"), rel=1e-12
    )
