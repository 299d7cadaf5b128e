"""``flowpressure flows``: from files and from the store, JSON contract, diagnostics, errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure.cli import app
from flowpressure.data import Store, sample

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    sample.write(out)
    return out


def test_fund_flows_json_keeps_input_columns(sample_dir: Path, tmp_path: Path) -> None:
    small = tmp_path / "fund.csv"
    pl.read_parquet(sample_dir / "fund.parquet").filter(pl.col("fund_id") == "F001").head(
        3
    ).write_csv(small)
    result = runner.invoke(app, ["flows", "fund", str(small), "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    assert {"fund_id", "date", "tna", "ret", "ret_total", "category", "flow", "flow_pct"} <= set(
        rows[0]
    )
    assert rows[0]["flow"] is None
    assert "1 rows birth" in result.stderr
    # month ends a month apart: read as monthly, and said so
    assert "fund flows: frequency M inferred (monthly:" in result.stderr
    assert {(r["freq"], r["freq_inferred"]) for r in rows} == {("M", True)}


def test_fund_flows_stated_freq_and_period_clash(sample_dir: Path, tmp_path: Path) -> None:
    small = tmp_path / "fund.csv"
    fund = pl.read_parquet(sample_dir / "fund.parquet").filter(pl.col("fund_id") == "F001")
    fund.head(4).write_csv(small)
    result = runner.invoke(app, ["flows", "fund", str(small), "--freq", "M", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "inferred" not in result.stderr
    assert {(r["freq"], r["freq_inferred"]) for r in json.loads(result.stdout)} == {("M", False)}
    d0, d1 = fund["date"][0], fund["date"][1]
    result = runner.invoke(app, ["flows", "fund", str(small), "--freq", "Q"])
    assert result.exit_code == 2
    assert f"fund_id=F001: two rows in one quarter (freq 'Q'): {d0} and {d1}" in result.stderr


def test_etf_bridge_gaps_option(sample_dir: Path, tmp_path: Path) -> None:
    etf = pl.read_parquet(sample_dir / "etf.parquet")
    first = etf["fund_id"].min()
    one = etf.filter(pl.col("fund_id") == first).sort("date").head(6)
    holed = one.filter(pl.int_range(pl.len()) != 3)  # the fourth session is missing
    path = tmp_path / "etf.csv"
    holed.write_csv(path)
    so, nav = one["shares_outstanding"], one["nav"]
    dropped = (so[4] - so[2]) * nav[4]
    result = runner.invoke(app, ["flows", "etf", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert f"etf flows: 1 flows dropped after a gap, {dropped:,.0f} in all" in result.stderr
    rows = json.loads(result.stdout)
    gap = next(r for r in rows if r["flow_note"] == "gap")
    assert gap["flow"] is None
    assert gap["flow_dropped"] == pytest.approx(dropped)
    result = runner.invoke(app, ["flows", "etf", str(path), "--bridge-gaps", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "dropped" not in result.stderr
    gap = next(r for r in json.loads(result.stdout) if r["flow_note"] == "gap_bridged")
    assert gap["flow"] == pytest.approx(dropped)


def test_etf_flows_to_parquet(sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "etf_flows.parquet"
    result = runner.invoke(
        app,
        [
            "flows",
            "etf",
            str(sample_dir / "etf.parquet"),
            "--unit-size",
            "50000",
            "--return-kind",
            "total",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    frame = pl.read_parquet(out)
    assert {"creation_units", "flow", "flow_pct", "flow_aum"} <= set(frame.columns)
    assert frame.height == 8_307


def test_holdings_flows_from_the_store(sample_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("holdings", sample_dir / "holdings.parquet")
        store.ingest("prices", sample_dir / "prices.parquet")
    result = runner.invoke(app, ["flows", "holdings", "holdings", "--db", str(db), "--top", "3"])
    assert result.exit_code == 0, result.stderr
    assert "largest holdings flows" in result.stdout
    assert "investor_id" in result.stdout


def test_fund_mergers_file(sample_dir: Path, tmp_path: Path) -> None:
    mergers = tmp_path / "mergers.csv"
    mergers.write_text(
        "target_id,acquirer_id,date\n" + "".join(f"{t},{a},{d}\n" for t, a, d in sample.MERGERS)
    )
    result = runner.invoke(
        app,
        [
            "flows",
            "fund",
            str(sample_dir / "fund.parquet"),
            "--mergers",
            str(mergers),
            "--top",
            "1",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "1 rows merger" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["flows", "bonds", "x.csv"], "field 'kind'"),
        (["flows", "holdings", "{dir}/holdings.parquet"], "field '--prices'"),
        (["flows", "fund", "{dir}/fund.parquet", "--timing", "middle"], "field 'timing'"),
        (["flows", "fund", "{dir}/fund.parquet", "-o", "{tmp}/out.xlsx"], "field '-o'"),
        (["flows", "etf", "{dir}/etf.parquet", "--so-lag", "-1"], "field 'so_lag'"),
        (["flows", "fund", "{dir}/fund.parquet", "--freq", "H"], "field 'freq'"),
    ],
)
def test_bad_input(sample_dir: Path, tmp_path: Path, args: list[str], fragment: str) -> None:
    argv = [a.format(dir=sample_dir, tmp=tmp_path) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.output
