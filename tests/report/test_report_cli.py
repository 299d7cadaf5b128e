"""``flowpressure report``: the JSON contract, the summary, one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure import __version__
from flowpressure.cli import app
from flowpressure.report import SECTION_IDS, Report, ReportParams

from .conftest import make_store

runner = CliRunner()


@pytest.fixture(scope="module")
def from_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("cli") / "sample.html"
    result = runner.invoke(app, ["report", "--sample", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), out


@pytest.fixture(scope="module")
def from_store(
    store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("cli") / "nested" / "store.html"
    result = runner.invoke(app, ["report", "--db", str(store_path), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), out


def test_json_contract(from_sample: tuple[dict[str, Any], Path], report: Report) -> None:
    payload, out = from_sample
    assert {"path", "version", "as_of", "parameters", "sections"} <= set(payload)
    assert payload["path"] == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert payload["version"] == __version__
    assert payload["as_of"] == "2018-12-31"
    assert payload["source"] == "embedded sample"
    assert payload["parameters"] == json.loads(json.dumps(ReportParams().to_dict()))
    assert [s["id"] for s in payload["sections"]] == list(SECTION_IDS)
    for s in payload["sections"]:
        assert {"id", "title", "status", "headline"} <= set(s)
        assert s["headline"] == report.section(s["id"]).headline
    month = payload["sections"][2]["numbers"]["windows"]["month"]
    assert month["central"] == report.section("rebalancing").numbers["windows"]["month"]["central"]
    assert month["end"] == "2018-12-31"
    assert set(payload["questions"]) == {"source", "mechanism", "timing", "absorption"}


def test_store_and_sample_give_the_same_report(
    from_sample: tuple[dict[str, Any], Path], from_store: tuple[dict[str, Any], Path]
) -> None:
    (a, a_path), (b, b_path) = from_sample, from_store
    assert b["source"].startswith("store ")
    for key in ("version", "as_of", "parameters", "sections", "questions"):
        assert a[key] == b[key], key
    page_a = a_path.read_text(encoding="utf-8")
    page_b = b_path.read_text(encoding="utf-8").replace(b["source"], "embedded sample")
    assert page_a == page_b


def test_summary_prints_the_path_and_one_line_per_section(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(
        app,
        [
            "report",
            "--db",
            str(store_path),
            "-o",
            str(out),
            "--as-of",
            "2018-06-16",
            "--aum",
            "5e11",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert f"report written to {out}" in text
    assert "data as of 2018-06-15" in text
    for title in ("Fund flows", "Rebalancing estimate", "Flow calendar", "Dealer gamma"):
        assert title in text
    assert "$500.00bn" in text  # --aum reached the rebalancing headline
    assert "no options on or before 2018-06-16" in text
    page = out.read_text(encoding="utf-8")
    assert "(data up to the requested 2018-06-16)" in page
    assert "<td>aum</td><td>5e+11</td>" in page


def test_partial_store_reports_what_is_missing(
    tmp_path: Path, sample_tables: dict[str, pl.DataFrame]
) -> None:
    db = make_store(tmp_path, sample_tables, kinds=("fund",))
    result = runner.invoke(
        app, ["report", "--db", str(db), "-o", str(tmp_path / "r.html"), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    status = {s["id"]: s["status"] for s in json.loads(result.stdout)["sections"]}
    assert status["fund_flows"] == "ok"
    assert status["rebalancing"] == "no data"
    headline = next(
        s["headline"] for s in json.loads(result.stdout)["sections"] if s["id"] == "buybacks"
    )
    assert headline == (
        "no buybacks and prices in the store; ingest them with "
        "`flowpressure ingest buybacks FILE`; `flowpressure ingest prices FILE`"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sample", "--db", "x.duckdb"], "either --db PATH or --sample, not both"),
        (["--db", "missing.duckdb"], "expected an existing store file"),
        (["--sample", "--as-of", "2018-13-01"], "field '--as-of'"),
        (["--sample", "--as-of", "1990-01-01"], "on or before 1990-01-01"),
        (["--sample", "--target-equity", "1.5"], "field '--target-equity'"),
        (["--sample", "--share", "1,2"], "field '--share'"),
        (["--sample", "--lookbacks", "a,b"], "field '--lookbacks'"),
        (["--sample", "--horizon", "0"], "field '--horizon'"),
        (["--sample", "--aum", "-1"], "field '--aum'"),
        (["--sample", "--days", "0"], "field '--days'"),
        (["--sample", "--indexed-assets", "0"], "field '--indexed-assets'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["report", *args, "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert message in lines[0]
    assert not (tmp_path / "r.html").exists()
