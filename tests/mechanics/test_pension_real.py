"""Pension rebalancing with a real bond leg: the ICE BofA US Corporate total-return index.

Equities are SPY's raw Alpha Vantage closes (no dividend column, so a price-only return, said
in the notes); bonds are BAMLCC0A0CMTRIV read by the ``fred`` format (index level = close, no
dividends). The month-end trade is recomputed here from the two files with polars/DuckDB:
weights drift with the legs' returns and trade = (w_target - w_drifted) x assets.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import statistics
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure import ConfigError
from flowpressure.cli import app
from flowpressure.data import load_file, scan_source
from flowpressure.mechanics import estimate_pension_flows
from tests.conftest import SHARED_DATA

SPY = SHARED_DATA / "prices" / "alphavantage_etf_ohlcv_daily_unadjusted_1999_2024.csv"
ICE = SHARED_DATA / "rates" / "fred_ice_bofa_us_corp_hy_total_return_daily_1994_2024.parquet"
FRED = SHARED_DATA / "rates" / "fred_series_daily_monthly_1913_2026.parquet"
pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in (SPY, ICE, FRED)), reason="shared prices / FRED files absent"
)
BOND = "BAMLCC0A0CMTRIV"
runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pension_real")
    spy = tmp / "spy.csv"
    pl.read_csv(SPY).filter((pl.col("ticker") == "SPY") & (pl.col("date") >= "2023-12-01")).rename(
        {"ticker": "asset_id"}
    ).write_csv(spy)
    db = tmp / "fp.duckdb"
    for path in (spy, ICE):
        done = runner.invoke(app, ["ingest", "prices", str(path), "--db", str(db)])
        assert done.exit_code == 0, done.output
    return {"spy": spy, "db": db}


def pension_json(*args: str) -> dict[str, Any]:
    base = ["pension", "--aum", "1e12", "--equity-id", "SPY", "--bond-id", BOND]
    done = runner.invoke(app, [*base, *args, "--json"])
    assert done.exit_code == 0, done.output
    payload: dict[str, Any] = json.loads(done.stdout)
    return payload


def raw_close(asset: str, day: str) -> float:
    if asset == "SPY":
        got = pl.read_csv(SPY).filter((pl.col("ticker") == "SPY") & (pl.col("date") == day))
        return float(got["close"][0])
    value = duckdb.sql(
        f"SELECT value FROM '{ICE}' WHERE series_id = '{asset}' AND date = DATE '{day}'"
    ).fetchall()
    return float(value[0][0])


def test_july_2024_month_end_trade_from_the_two_real_legs(files: dict[str, Path]) -> None:
    # SPY went ex-dividend on 2024-06-21 and 2024-09-20: none inside (06-28, 07-31], so the
    # raw close's price return is the total return for this window.
    from_file = pension_json(
        "--prices", str(files["spy"]), "--prices", str(ICE), "--as-of", "2024-07-31"
    )
    month = from_file["windows"]["month"]
    assert (month["start"], month["end"]) == ("2024-06-28", "2024-07-31")
    r_e = raw_close("SPY", "2024-07-31") / raw_close("SPY", "2024-06-28") - 1
    r_b = raw_close(BOND, "2024-07-31") / raw_close(BOND, "2024-06-28") - 1
    w, aum = 0.6, 1e12
    r_p = w * r_e + (1 - w) * r_b
    assets = aum * (1 + r_p)
    drifted = w * (1 + r_e) / (1 + r_p)
    trade = (w - drifted) * assets  # bonds beat SPY in July 2024: buy equities
    assert month["equity_return"] == pytest.approx(r_e, rel=1e-12)
    assert month["bond_return"] == pytest.approx(r_b, rel=1e-12)
    assert month["equity_weight_before_trade"] == pytest.approx(drifted, rel=1e-12)
    assert month["mechanical_equity_trade"] == pytest.approx(trade, rel=1e-9)
    assert trade == pytest.approx(2.83e9, rel=0.01)
    assert from_file["notes"]["return_basis"] == {"SPY": "close_only", BOND: "close_only"}
    inputs = from_file["notes"]["inputs"][ICE.name]
    assert inputs["format"] == "fred"
    assert inputs["frequency"][BOND] == "daily"
    # the same files ingested into a store give the same windows
    stored = pension_json("--db", str(files["db"]), "--as-of", "2024-07-31")
    assert stored["windows"] == from_file["windows"]


def test_fred_format_counts_nan_holidays_and_non_sessions() -> None:
    nan_rows = duckdb.sql(
        f"SELECT count(*) FROM '{ICE}' WHERE series_id = '{BOND}' AND value IS NULL"
    ).fetchall()[0][0]
    assert nan_rows == 112
    scan = scan_source(duckdb.connect(), ICE, "prices")
    assert scan.format == "fred"
    assert scan.inferred
    assert scan.notes["rows_nan_dropped_by_series"][BOND] == nan_rows
    panel = load_file(ICE, "prices").filter(pl.col("asset_id") == BOND)
    total = duckdb.sql(f"SELECT count(*) FROM '{ICE}' WHERE series_id = '{BOND}'").fetchall()[0][0]
    dropped = scan.notes["rows_not_sessions_dropped_by_series"][BOND]
    assert panel.height == total - nan_rows - dropped
    # 1994-04-30 is a Saturday month-end ICE publishes: not a session, dropped
    assert dt.date(1994, 4, 30) not in set(panel["date"].to_list())
    assert panel["close"].null_count() == 0


def test_fred_format_keeps_native_dates_and_names_each_frequency() -> None:
    raw = pl.read_parquet(FRED).drop_nulls("value").sort("series_id", "date")
    scan = scan_source(duckdb.connect(), FRED, "prices")
    freq = scan.notes["frequency"]
    for series, expected in (("CPIAUCSL", "monthly"), ("ICSA", "weekly"), ("DGS10", "daily")):
        days = raw.filter(pl.col("series_id") == series)["date"].to_list()
        gap = statistics.median((b - a).days for a, b in itertools.pairwise(days))
        assert freq[series] == expected, (series, gap)
    set_aside = scan.notes["series_set_aside"]
    assert "monthly" in set_aside["CPIAUCSL"]
    low = float(raw.filter(pl.col("series_id") == "T10Y2Y")["value"].min())  # type: ignore[arg-type]
    assert low < 0
    assert "not a price level" in set_aside["T10Y2Y"]
    assert "DGS10" in scan.notes["series_kept"]


def test_bad_pension_inputs(files: dict[str, Path]) -> None:
    base = ["pension", "--aum", "1e12", "--equity-id", "SPY", "--bond-id", "NOPE"]
    done = runner.invoke(app, [*base, "--db", str(files["db"])])
    assert done.exit_code == 2
    assert "NOPE" in done.output
    done = runner.invoke(app, [*base, "--prices", str(files["spy"]), "--db", str(files["db"])])
    assert done.exit_code == 2
    assert "not both" in done.output
    spy = load_file(files["spy"], "prices")
    with pytest.raises(ConfigError, match="asset_id=SPY"):
        estimate_pension_flows([spy, spy], {"SPY": 0.6, BOND: 0.4}, 1e12)
