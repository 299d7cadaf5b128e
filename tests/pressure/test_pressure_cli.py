"""The pressure verbs (multiplier, impact, calendar) and their JSON contracts."""

from __future__ import annotations

import json
import math

import typer
from typer.testing import CliRunner

from flowpressure.cli._pressure import register

app = typer.Typer()
register(app)
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "140"})
    return result.exit_code, result.stdout, result.stderr


def test_multiplier_worked_example_json() -> None:
    code, out, err = run(
        "multiplier", "--inflow", "1", "--theta", "0.8", "--shares", "80", "--price", "1", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["price_after"] == 1.05
    assert data["market_cap_change"] == 4.0
    assert data["multiplier"] == 5.0
    assert data["equity_inflow"] == 0.8
    assert data["bonds"] == 20.0
    assert [s["stage"] for s in data["steps"]] == [
        "inflow",
        "mandate_split",
        "equity_demand",
        "price",
        "market_cap",
    ]
    assert len(data["rounds"]) == 10


def test_multiplier_table() -> None:
    code, out, err = run(
        "multiplier", "--inflow", "1", "--theta", "0.8", "--shares", "80", "--price", "1"
    )
    assert code == 0, err
    assert "1.0500" in out
    assert "multiplier 5" in out


def test_multiplier_off_mandate_bonds_is_an_error() -> None:
    code, _, err = run(
        "multiplier",
        "--inflow",
        "1",
        "--theta",
        "0.8",
        "--shares",
        "80",
        "--price",
        "1",
        "--bonds",
        "25",
    )
    assert code == 2
    assert "bonds" in err
    assert "mandate" in err


def test_multiplier_theta_one_is_an_error() -> None:
    code, _, err = run(
        "multiplier", "--inflow", "1", "--theta", "1", "--shares", "80", "--price", "1"
    )
    assert code == 2
    assert "theta" in err


def test_impact_json_contract() -> None:
    code, out, err = run(
        "impact", "--quantity", "-1000000", "--adv", "4000000", "--sigma", "0.02", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["impact"] == -0.01
    assert data["impact_bps"] == -100.0
    assert data["days_of_adv"] == 0.25
    code, out, _ = run(
        "impact", "--quantity", "2000000", "--adv", "4000000", "--sigma", "0.02", "--json"
    )
    assert json.loads(out)["impact"] == math.sqrt(2) * 0.01


def test_impact_bad_input() -> None:
    code, _, err = run("impact", "--quantity", "1", "--adv", "-5", "--sigma", "0.02")
    assert code == 2
    assert "adv" in err
    code, _, err = run("impact", "--quantity", "1", "--adv", "5", "--sigma", "0")
    assert code == 2
    assert "sigma" in err


def test_impact_table() -> None:
    code, out, err = run("impact", "--quantity", "1e6", "--adv", "4e6", "--sigma", "0.02")
    assert code == 0, err
    assert "square-root impact" in out
    assert "+100.0" in out


def test_calendar_json_and_table() -> None:
    code, out, err = run("calendar", "--start", "2024-03-01", "--end", "2024-03-31", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["family"] for r in rows] == ["index_rebalance", "quarterly_expiry", "quarter_end"]
    assert {r["status"] for r in rows} == {"unsized"}
    code, out, err = run("calendar", "--start", "2024-03-01", "--end", "2024-03-31")
    assert code == 0, err
    assert "flow calendar" in out
    assert "3 events, 0 sized" in out


def test_calendar_start_defaults_after_the_data() -> None:
    code, out, err = run("calendar", "--prices", "sample", "--rebalance-aum", "1e12", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows[0]["date"] >= "2019-01-01"
    assert "2019-01-01" in err


def test_calendar_needs_a_start() -> None:
    code, _, err = run("calendar")
    assert code == 2
    assert "--start" in err
