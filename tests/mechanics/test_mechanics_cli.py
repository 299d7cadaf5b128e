"""CLI verbs of the mechanics layer on the embedded sample, files and a store; JSON contracts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure.cli import app
from flowpressure.data import sessions

runner = CliRunner()
D = dt.date


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "140"})
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------ the sample, Rich output
def test_index_demand_on_the_sample() -> None:
    code, out, err = run("index-demand", "sample", "--prices", "sample")
    assert code == 0, err
    assert "index demand" in out
    assert "S33" in out
    assert "addition" in out
    assert "days of ADV" in out


def test_buyback_on_the_sample() -> None:
    code, out, err = run("buyback", "sample", "--prices", "sample", "--asset", "S01", "--daily")
    assert code == 0, err
    assert "buyback yield and next-period demand" in out
    assert "2018-12-31..2019-03-31" in out
    assert "blackout" in out


def test_vol_target_on_the_sample() -> None:
    code, out, err = run(
        "vol-target",
        "sample",
        "--asset",
        "SPX",
        "--target",
        "0.10",
        "--aum",
        "1e11",
        "--shock",
        "-0.04",
    )
    assert code == 0, err
    assert "realised vol" in out
    assert "scenario" in out


def test_cta_on_the_sample() -> None:
    code, out, err = run("cta", "sample", "--asset", "SPX", "--aum", "3e11")
    assert code == 0, err
    assert "triggers for tomorrow" in out
    assert "2,760.17" in out


def test_gex_on_the_sample() -> None:
    code, out, err = run("gex", "sample")
    assert code == 0, err
    assert "total GEX" in out
    assert "gamma flip" in out
    assert "by expiry" in out


# ------------------------------------------------------------------ JSON contracts
def test_index_demand_json_contract(tmp_path: Path) -> None:
    target = tmp_path / "demand.csv"
    code, out, err = run(
        "index-demand",
        "sample",
        "--indexed-assets",
        "1.5e13",
        "--prices",
        "sample",
        "--adv-window",
        "20",
        "--index-id",
        "SPX",
        "-o",
        str(target),
        "--json",
    )
    assert code == 0, err
    rows = json.loads(out)
    assert isinstance(rows, list)
    assert len(rows) == 8
    for key in ("asset_id", "demand", "demand_shares", "days_of_adv"):
        assert key in rows[0]
    s33 = next(r for r in rows if r["asset_id"] == "S33")
    assert s33["demand"] == pytest.approx(1.5e13 * s33["w_new"])
    assert pl.read_csv(target).height == 8


def test_gex_json_contract() -> None:
    code, out, err = run("gex", "sample", "--json")
    assert code == 0, err
    payload = json.loads(out)
    for key in ("total_gex", "flip_level", "by_strike", "by_expiry", "hedge_flow_1pct"):
        assert key in payload
    assert payload["hedge_flow_1pct"] == -payload["total_gex"]
    assert sum(r["gex"] for r in payload["by_strike"]) == pytest.approx(payload["total_gex"])


def test_vol_target_json_contract() -> None:
    code, out, err = run(
        "vol-target",
        "sample",
        "--asset",
        "SPX",
        "--target",
        "0.10",
        "--max-leverage",
        "2",
        "--ewma",
        "0.94",
        "--aum",
        "1e9",
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    for key in ("exposure", "realized_vol", "trade"):
        assert isinstance(payload[key], float)
    assert payload["exposure"] == pytest.approx(min(2.0, 0.10 / payload["realized_vol"]))
    assert payload["as_of"] == "2018-12-31"


def test_cta_and_buyback_json() -> None:
    code, out, err = run("cta", "sample", "--asset", "SPX", "--aum", "3e11", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert {"position", "flow", "triggers", "flip_level", "scenarios"} <= set(payload)
    assert [t["lookback"] for t in payload["triggers"]] == [20, 60, 120, 250]
    code, out, err = run("buyback", "sample", "--prices", "sample", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert len(payload["assets"]) == 20
    assert {"buyback_yield", "net_buyback_yield", "daily_demand", "share_of_adv"} <= set(
        payload["assets"][0]
    )


# ------------------------------------------------------------------ files, store, as-of
def test_gex_chain_file_with_only_the_contract_columns(tmp_path: Path) -> None:
    path = tmp_path / "chain.csv"
    pl.DataFrame(
        {
            "expiry": ["2024-06-21", "2024-06-21"],
            "strike": [5000.0, 5200.0],
            "type": ["call", "put"],
            "open_interest": [1000.0, 800.0],
            "iv": [0.18, 0.16],
        }
    ).write_csv(path)
    code, out, err = run("gex", str(path), "--spot", "5100", "--asof", "2024-03-28", "--json")
    assert code == 0, err
    assert json.loads(out)["as_of"] == "2024-03-28"
    code, out, err = run("gex", str(path), "--spot", "5100")
    assert code == 2
    assert "as_of" in err


def test_store_inputs(tmp_path: Path) -> None:
    days = [d.astype(object) for d in sessions(D(2024, 1, 2), D(2024, 3, 28))]
    prices = tmp_path / "prices.csv"
    pl.DataFrame({"asset_id": "NEW", "date": days, "close": 50.0, "volume": 1e6}).write_csv(prices)
    events = tmp_path / "events.csv"
    pl.DataFrame(
        {
            "asset_id": ["NEW"],
            "announce_date": ["2024-03-08"],
            "effective_date": ["2024-03-18"],
            "w_old": [0.0],
            "w_new": [0.001],
        }
    ).write_csv(events)
    db = tmp_path / "s.duckdb"
    for kind, path in (("prices", prices), ("index_events", events)):
        code, _, err = run("ingest", kind, str(path), "--db", str(db))
        assert code == 0, err
    code, out, err = run(
        "index-demand",
        "index_events",
        "--prices",
        "prices",
        "--db",
        str(db),
        "--indexed-assets",
        "1e12",
        "--json",
    )
    assert code == 0, err
    row = json.loads(out)[0]
    assert row["demand"] == pytest.approx(1e9)
    assert row["days_of_adv"] == pytest.approx(1e9 / 50.0 / 1e6)
    code, out, err = run(
        "index-demand", str(events), "--prices", str(prices), "--json", "--indexed-assets", "1e12"
    )
    assert code == 0, err
    assert json.loads(out)[0]["demand_shares"] == pytest.approx(2e7)


# ------------------------------------------------------------------ errors: one line, exit 2
def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    bad_chain = tmp_path / "bad.csv"
    pl.DataFrame(
        {
            "expiry": ["2024-06-21"],
            "strike": [5000.0],
            "type": ["call"],
            "open_interest": [-5.0],
            "iv": [0.2],
        }
    ).write_csv(bad_chain)
    code, _, err = run("gex", str(bad_chain), "--spot", "5000", "--asof", "2024-03-28")
    assert code == 2
    assert "open_interest" in err
    assert len(err.strip().splitlines()) == 1

    days = [d.astype(object) for d in sessions(D(2024, 1, 2), D(2024, 3, 28))]
    flat = tmp_path / "flat.csv"
    pl.DataFrame({"asset_id": "X", "date": days, "close": 100.0}).write_csv(flat)
    code, _, err = run("vol-target", str(flat), "--asset", "X")
    assert code == 2
    assert "zero" in err
    assert "'close'" in err

    code, _, err = run("buyback", "sample")
    assert code == 2
    assert "--prices" in err

    code, _, err = run("cta", "sample", "--asset", "SPX", "--aum", "3e11", "--signal", "fast")
    assert code == 2
    assert "--signal" in err

    code, _, _ = run("cta", "sample", "--asset", "SPX")  # --aum is required
    assert code == 2


def test_as_of_comes_from_the_data_or_the_option() -> None:
    code, out, err = run(
        "vol-target", "sample", "--asset", "SPX", "--as-of", "2008-10-10", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["as_of"] == "2008-10-10"
    code, out, err = run(
        "cta", "sample", "--asset", "SPX", "--aum", "1e11", "--as-of", "2017-12-29", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["signal"] == 1.0
