"""The command line: exit codes, one-line errors, JSON contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure import __version__
from flowpressure.cli import app

runner = CliRunner()


def prices_csv(path: Path) -> Path:
    pl.DataFrame(
        {
            "Date": ["2024-03-27", "2024-03-28"],
            "Close": [524.0, 523.1],
            "Volume": [1.1e7, 9e6],
        }
    ).write_csv(path)
    return path


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"flowpressure {__version__}"


def test_ingest_and_info_json(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    src = prices_csv(tmp_path / "spy.csv")
    result = runner.invoke(
        app, ["ingest", "prices", str(src), "--db", str(db), "--set", "asset_id=SPY", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "ingested"
    assert payload["rows"] == 2
    info = runner.invoke(app, ["info", "--db", str(db), "--json"])
    assert info.exit_code == 0
    summary = json.loads(info.stdout)
    assert summary["prices"]["rows"] == 2
    assert summary["prices"]["first_date"] == "2024-03-27"
    assert summary["prices"]["ingests"][0]["rows"] == 2


def test_info_table(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    runner.invoke(
        app,
        [
            "ingest",
            "prices",
            str(prices_csv(tmp_path / "a.csv")),
            "--db",
            str(db),
            "--set",
            "asset_id=SPY",
        ],
    )
    result = runner.invoke(app, ["info", "--db", str(db)])
    assert result.exit_code == 0
    assert "prices" in result.stdout
    assert "2024-03-28" in result.stdout


def test_ingest_again_says_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    args = [
        "ingest",
        "prices",
        str(prices_csv(tmp_path / "a.csv")),
        "--db",
        str(db),
        "--set",
        "asset_id=SPY",
    ]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert "nothing changed" in again.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ingest", "bonds", "x.csv"], "field 'kind'"),
        (["ingest", "prices", "missing.csv"], "field 'file'"),
        (["ingest", "prices", "{csv}", "--map", "Close"], "field '--map'"),
        (["ingest", "prices", "{csv}"], "missing column 'asset_id'"),
        (
            ["ingest", "prices", "{csv}", "--set", "asset_id=SPY", "--scale", "volume=lots"],
            "field '--scale'",
        ),
        (["info", "--db", "{tmp}/nothing.duckdb"], "no store at"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    csv = prices_csv(tmp_path / "spy.csv")
    argv = [a.format(csv=csv, tmp=tmp_path) for a in args]
    if argv[0] == "ingest":
        argv += ["--db", str(tmp_path / "s.duckdb")]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_console_script_error_has_no_traceback(tmp_path: Path) -> None:
    """The installed entry point, as a user runs it."""
    bad = tmp_path / "bad.csv"
    bad.write_text("asset_id,date,close\nSPY,2024-03-30,1.0\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowpressure",
            "ingest",
            "prices",
            str(bad),
            "--db",
            str(tmp_path / "s.duckdb"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        "error: bad.csv line 2: field 'date' at asset_id=SPY, date=2024-03-30: "
        "expected a trading session of "
        "XNYS (daily panel), got 2024-03-30"
    )


def test_sample_writes_every_kind(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--out", str(tmp_path), "--format", "csv", "--json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    kinds = ["prices", "fund", "etf", "holdings", "index_events", "buybacks", "options"]
    assert sorted(payload) == sorted(kinds)
    assert payload["prices"]["rows"] == 261_612
    for kind in kinds:
        assert Path(payload[kind]["path"]).exists()
    bad = runner.invoke(app, ["sample", "--out", str(tmp_path), "--format", "xlsx"])
    assert bad.exit_code == 2
    assert "field '--format'" in bad.stderr
