"""Pension flows: closed form, N-asset form, estimates from prices with ranges, CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flowpressure import ConfigError, DataError
from flowpressure.cli import app
from flowpressure.data import sessions
from flowpressure.mechanics import (
    PensionAssumptions,
    estimate_pension_flows,
    pension_flows,
    two_asset_trade,
)

runner = CliRunner()
DAYS = [d.astype(object) for d in sessions(dt.date(2023, 12, 1), dt.date(2024, 5, 15))]


def test_design_example_sells_48bn() -> None:
    assert two_asset_trade(1e12, 0.6, 0.20, 0.0) == pytest.approx(-48e9, rel=1e-15)
    trades = pension_flows(1e12, {"EQ": 0.6, "BOND": 0.4}, {"EQ": 0.2, "BOND": 0.0})
    assert trades == pytest.approx({"EQ": -48e9, "BOND": 48e9}, rel=1e-15)


def test_signs_follow_relative_performance() -> None:
    assert two_asset_trade(1e9, 0.6, 0.05, 0.05) == 0.0
    assert two_asset_trade(1e9, 0.6, -0.10, -0.20) < 0  # both down, bonds more: sell equities
    assert two_asset_trade(1e9, 0.6, -0.10, 0.02) > 0  # weak equity year: buy equities


@settings(max_examples=200, deadline=None)
@given(
    w=st.floats(0.0, 1.0),
    r_e=st.floats(-0.9, 2.0),
    r_b=st.floats(-0.9, 2.0),
)
def test_n_asset_form_reduces_to_the_closed_form(w: float, r_e: float, r_b: float) -> None:
    general = pension_flows(1e12, {"EQ": w, "BOND": 1 - w}, {"EQ": r_e, "BOND": r_b})
    assert general["EQ"] == pytest.approx(two_asset_trade(1e12, w, r_e, r_b), abs=1e-3)
    assert general["EQ"] + general["BOND"] == pytest.approx(0.0, abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(2, 6))
def test_trades_restore_the_targets(data: st.DataObject, n: int) -> None:
    w = np.array(data.draw(st.lists(st.floats(0.01, 1), min_size=n, max_size=n)))
    w /= w.sum()
    r = np.array(data.draw(st.lists(st.floats(-0.5, 1.0), min_size=n, max_size=n)))
    ids = [f"A{i}" for i in range(n)]
    trades = pension_flows(1e9, dict(zip(ids, w, strict=True)), dict(zip(ids, r, strict=True)))
    after = 1e9 * w * (1 + r) + np.array([trades[a] for a in ids])
    np.testing.assert_allclose(after / after.sum(), w, atol=1e-12)


def test_bad_formula_input_names_the_field() -> None:
    with pytest.raises(ConfigError, match="'aum'"):
        two_asset_trade(0.0, 0.6, 0.1, 0.0)
    with pytest.raises(ConfigError, match="'target_equity'"):
        two_asset_trade(1e9, 60.0, 0.1, 0.0)
    with pytest.raises(ConfigError, match="'equity_return'"):
        two_asset_trade(1e9, 0.6, -1.5, 0.0)
    with pytest.raises(ConfigError, match=r"'returns' at asset_id=BOND"):
        pension_flows(1e9, {"EQ": 0.6, "BOND": 0.4}, {"EQ": 0.1})
    with pytest.raises(ConfigError, match="'targets'"):
        pension_flows(1e9, {"EQ": 0.6, "BOND": 0.3}, {"EQ": 0.1, "BOND": 0.0})


def test_assumptions_scale_the_mechanical_trade() -> None:
    a = PensionAssumptions(
        share_rebalancing=(0.5, 0.8, 1.0), band=(0.0, 0.01, 0.05), traded_early=(0.0, 0.5, 0.5)
    )
    assert a.scale(0.03) == (0.0, 0.4, 1.0)  # the 5-point band leaves a 3-point drift alone
    assert a.scale(0.06) == (0.25, 0.4, 1.0)
    with pytest.raises(ConfigError, match="'share_rebalancing'"):
        PensionAssumptions(share_rebalancing=(0.9, 0.5, 1.0))
    with pytest.raises(ConfigError, match="'traded_early'"):
        PensionAssumptions(traded_early=(0.0, 0.5, 1.5))


def prices() -> pl.DataFrame:
    t = np.arange(len(DAYS))
    eq = 100 * (1 + 0.002) ** t  # steady rise
    bond = 100 * (1 - 0.0002) ** t
    return pl.DataFrame(
        {
            "asset_id": ["EQ"] * len(DAYS) + ["BOND"] * len(DAYS),
            "date": DAYS * 2,
            "close": np.r_[eq, bond],
        }
    )


def test_estimate_reads_month_quarter_and_year_to_date_returns() -> None:
    frame = prices()
    est = estimate_pension_flows(frame, {"EQ": 0.6, "BOND": 0.4}, 1e12, days=3)
    assert est.as_of == dt.date(2024, 5, 15)
    starts = {name: w.start for name, w in est.windows.items()}
    ends = {name: w.end for name, w in est.windows.items()}
    assert starts == {
        "month": dt.date(2024, 4, 30),
        "quarter": dt.date(2024, 3, 28),
        "year": dt.date(2023, 12, 29),
    }
    assert ends == {
        "month": dt.date(2024, 5, 31),
        "quarter": dt.date(2024, 6, 28),
        "year": dt.date(2024, 12, 31),
    }
    close = dict(
        zip(zip(frame["asset_id"], frame["date"], strict=True), frame["close"], strict=True)
    )
    for w in est.windows.values():
        r = {a: close[(a, est.as_of)] / close[(a, w.start)] - 1 for a in ("EQ", "BOND")}
        assert w.returns == pytest.approx(r, rel=1e-12)
        assert w.trade == pytest.approx(pension_flows(1e12, {"EQ": 0.6, "BOND": 0.4}, r))
        assert w.low["EQ"] <= w.central["EQ"] < 0  # equities rose: sell
        assert w.high["EQ"] == (0.0 if w.drift < 0.02 else pytest.approx(0.25 * w.trade["EQ"]))
        assert w.low["BOND"] >= 0
        assert w.days == [d for d in DAYS if d <= w.end][-3:] or w.end > DAYS[-1]
        assert len(w.days) == 3
        assert w.per_day["EQ"] * 3 == pytest.approx(w.central["EQ"])
    year = est.windows["year"]
    k_low, k_mid, k_high = PensionAssumptions().scale(year.drift)
    assert year.central["EQ"] == pytest.approx(k_mid * year.trade["EQ"])
    assert year.low["EQ"] == pytest.approx(k_high * year.trade["EQ"])  # the biggest sale
    assert year.high["EQ"] == pytest.approx(k_low * year.trade["EQ"])


def test_as_of_uses_the_last_date_with_prices_on_or_before_it() -> None:
    est = estimate_pension_flows(
        prices(), {"EQ": 0.6, "BOND": 0.4}, 1e12, as_of="2024-03-30", windows=["quarter"]
    )
    q = est.windows["quarter"]
    assert (est.as_of, q.start, q.end) == (
        dt.date(2024, 3, 28),
        dt.date(2023, 12, 29),
        dt.date(2024, 3, 28),
    )


def test_estimate_errors_name_the_field() -> None:
    frame = prices()
    with pytest.raises(DataError, match=r"field 'date' at date=2023-11-30"):
        estimate_pension_flows(frame, {"EQ": 0.6, "BOND": 0.4}, 1e12, as_of="2023-12-15")
    with pytest.raises(ConfigError, match=r"'targets' at asset_id=SPX"):
        estimate_pension_flows(frame, {"SPX": 0.6, "BOND": 0.4}, 1e12)
    with pytest.raises(ConfigError, match="'windows'"):
        estimate_pension_flows(frame, {"EQ": 0.6, "BOND": 0.4}, 1e12, windows=["week"])
    with pytest.raises(ConfigError, match="'days'"):
        estimate_pension_flows(frame, {"EQ": 0.6, "BOND": 0.4}, 1e12, days=0)


# CLI -----------------------------------------------------------------------------------------


def test_cli_closed_form_json() -> None:
    result = runner.invoke(
        app,
        [
            "pension",
            "--aum",
            "1e12",
            "--target-equity",
            "0.6",
            "--equity-return",
            "0.20",
            "--bond-return",
            "0.0",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["equity_trade"] == pytest.approx(-48e9)
    assert payload["bond_trade"] == pytest.approx(48e9)
    text = runner.invoke(
        app, ["pension", "--aum", "1e12", "--equity-return", "0.2", "--bond-return", "0"]
    )
    assert "sell 48.00bn of equities, buy 48.00bn of bonds" in text.stdout


def test_cli_from_prices(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    prices().write_csv(path)
    args = [
        "pension",
        "--aum",
        "1e12",
        "--prices",
        str(path),
        "--equity-id",
        "EQ",
        "--bond-id",
        "BOND",
        "--share",
        "0.4,0.6,0.8",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2024-05-15"
    assert set(payload["windows"]) == {"month", "quarter", "year"}
    year = payload["windows"]["year"]
    assert year["start"] == "2023-12-29"
    t = year["equity_trade"]
    assert t["low"] <= t["central"] <= t["high"] < 0
    assert year["bond_trade"]["central"] == pytest.approx(-t["central"])
    table = runner.invoke(app, args[:-1])
    assert table.exit_code == 0
    assert "quarter" in table.stdout


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--aum", "1e12"], "'--equity-return'"),
        (["--aum", "-1", "--equity-return", "0.1", "--bond-return", "0"], "'aum'"),
        (["--aum", "1e12", "--prices", "x.csv"], "'--equity-id'"),
        (
            [
                "--aum",
                "1e12",
                "--equity-return",
                "0.1",
                "--bond-return",
                "0",
                "--target-equity",
                "1.5",
            ],
            "'target_equity'",
        ),
    ],
)
def test_cli_errors_are_one_line_exit_2(args: list[str], field: str) -> None:
    result = runner.invoke(app, ["pension", *args])
    assert result.exit_code == 2
    assert field in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
