"""``flowpressure rebalance``: options, JSON contract, trades file, one-line errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure.cli import app
from flowpressure.data import Store, sample

runner = CliRunner()


@pytest.fixture(scope="module")
def prices_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prices") / "prices.parquet"
    sample.load("prices").filter(
        pl.col("asset_id").is_in(["SPX", "AGG_TR", "S03"]) & (pl.col("date") >= dt.date(2016, 1, 4))
    ).write_parquet(path)
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_monthly_json_contract(prices_file: Path) -> None:
    code, out, err = invoke(
        "rebalance",
        str(prices_file),
        "--target",
        "SPX=0.6",
        "--target",
        "AGG_TR=0.4",
        "--rule",
        "monthly",
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    for key in ("final_value", "n_rebalances", "turnover", "costs", "rebalance_dates"):
        assert key in payload
    assert payload["n_rebalances"] == 36  # Jan 2016 .. Dec 2018, the last row included
    assert payload["rebalance_dates"][0] == "2016-01-29"
    assert payload["rebalance_dates"][-1] == "2018-12-31"
    assert payload["costs"] == 0.0
    assert payload["final_weights"] == pytest.approx({"SPX": 0.6, "AGG_TR": 0.4})


def test_threshold_with_costs_and_trades_file(prices_file: Path, tmp_path: Path) -> None:
    trades = tmp_path / "trades.csv"
    code, out, err = invoke(
        "rebalance",
        str(prices_file),
        "-t",
        "SPX=0.6",
        "-t",
        "AGG_TR=0.4",
        "--rule",
        "threshold",
        "--band",
        "0.02",
        "--cost-bps",
        "5",
        "--initial",
        "1e7",
        "--trades",
        str(trades),
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    written = pl.read_csv(trades)
    assert written.columns == [
        "date",
        "asset_id",
        "kind",
        "shares",
        "price",
        "dollars",
        "cost",
        "realized_gain",
    ]
    rebalances = written.filter(kind="rebalance")
    assert rebalances["date"].n_unique() == payload["n_rebalances"] > 0
    assert rebalances["cost"].sum() == pytest.approx(payload["costs"])
    assert rebalances["dollars"].sum() == pytest.approx(-payload["costs"], abs=1e-6)
    assert payload["rule"].startswith("threshold: absolute band 0.02")


def test_calendar_with_band_every_n_edge_and_table(prices_file: Path) -> None:
    code, out, _ = invoke(
        "rebalance",
        str(prices_file),
        "-t",
        "SPX=0.5",
        "-t",
        "AGG_TR=0.3",
        "-t",
        "S03=0.2",
        "--rule",
        "quarterly",
        "--band",
        "0.03",
        "--to",
        "edge",
        "--reinvest-dividends",
    )
    assert code == 0
    assert "quarterly with absolute band 0.03, to edge" in out
    assert "final value" in out
    code, out, _ = invoke(
        "rebalance",
        str(prices_file),
        "-t",
        "SPX=0.5",
        "-t",
        "AGG_TR=0.5",
        "--every",
        "63",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["rule"] == "every 63 trading days"


def test_flows_file(prices_file: Path, tmp_path: Path) -> None:
    flows = tmp_path / "flows.csv"
    pl.DataFrame({"date": ["2017-06-30", "2018-06-29"], "flow": [1e5, -5e4]}).write_csv(flows)
    code, out, err = invoke(
        "rebalance",
        str(prices_file),
        "-t",
        "SPX=0.6",
        "-t",
        "AGG_TR=0.4",
        "--flows",
        str(flows),
        "--rule",
        "annual",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["flows"] == pytest.approx(5e4)


def test_reads_prices_from_a_store(prices_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("prices", prices_file)
    code, out, err = invoke(
        "rebalance", "--db", str(db), "-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["n_rebalances"] == 36


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.3"], "'targets'"),
        (["-t", "SPX=0.6", "-t", "BOND=0.4"], "asset_id=BOND"),
        (["-t", "SPX=1.2", "-t", "AGG_TR=-0.2"], "allow_short"),
        (["-t", "SPX:0.6"], "'--target'"),
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--rule", "threshold"], "'--band'"),
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--rule", "weekly"], "'--rule'"),
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--band", "0"], "'band'"),
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--band", "-0.05"], "'band'"),
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--rule", "monthly", "--every", "5"], "'--every'"),
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--to", "edge"], "'to'"),
        (["-t", "SPX=0.6", "-t", "AGG_TR=0.4", "--band-kind", "pct", "--band", "0.1"], "kind"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(prices_file: Path, args: list[str], field: str) -> None:
    code, out, err = invoke("rebalance", str(prices_file), *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert field in err


def test_needs_prices_from_somewhere() -> None:
    code, _, err = invoke("rebalance", "-t", "SPX=1")
    assert code == 2
    assert "PRICES" in err
