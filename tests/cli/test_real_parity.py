"""A file and the same file ingested into the store give the same answer, for every verb.

The prices are real Alpha Vantage closes (SPY, QQQ, TLT; raw, so without ``split_factor`` or
``dividend`` columns): the store keeps those absent columns as null, which once turned every
return null (vol targeting failed, index-event drift became zero, holdings flows crashed).
Each verb runs twice, on the file and on the store, and the JSON answers must be equal; one
figure per verb is then recomputed here from the raw closes, not by the code under test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure.cli import app
from tests.conftest import SHARED_DATA

PRICES = SHARED_DATA / "prices" / "alphavantage_etf_ohlcv_daily_unadjusted_1999_2024.csv"
pytestmark = pytest.mark.skipif(not PRICES.exists(), reason="shared Alpha Vantage prices absent")

runner = CliRunner()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real closes as a user's file (ticker renamed asset_id), events, buybacks, holdings."""
    tmp = tmp_path_factory.mktemp("parity")
    raw = pl.read_csv(PRICES)
    px = raw.filter(
        pl.col("ticker").is_in(["SPY", "QQQ", "TLT"]) & (pl.col("date") >= "2023-01-01")
    ).rename({"ticker": "asset_id"})
    files = {"prices": tmp / "prices.csv"}
    px.write_csv(files["prices"])
    files["events"] = tmp / "events.csv"
    pl.DataFrame(
        {
            "asset_id": ["QQQ"],
            "index_id": ["SPX"],
            "announce_date": ["2024-06-07"],
            "effective_date": ["2024-06-24"],
            "w_old": [0.02],
            "w_new": [0.025],
            "float_mcap": [2.5e11],
            "passive_share": [0.2],
        }
    ).write_csv(files["events"])
    files["buybacks"] = tmp / "buybacks.csv"
    pl.DataFrame(
        {
            "asset_id": ["QQQ", "QQQ"],
            "date": ["2024-03-31", "2024-06-30"],
            "repurchases": [2e9, 2.5e9],
            "shares_outstanding": [5.6e8, 5.5e8],
        }
    ).write_csv(files["buybacks"])
    files["holdings"] = tmp / "holdings.csv"
    pl.DataFrame(
        {
            "investor_id": ["I1"] * 4,
            "asset_id": ["SPY", "QQQ", "SPY", "QQQ"],
            "date": ["2024-03-31", "2024-03-31", "2024-06-30", "2024-06-30"],
            "shares": [1000.0, 500.0, 1200.0, 400.0],
        }
    ).write_csv(files["holdings"])
    db = tmp / "store.duckdb"
    done = runner.invoke(app, ["ingest", "prices", str(files["prices"]), "--db", str(db)])
    assert done.exit_code == 0, done.output
    files["db"] = db
    return files


def closes(asset: str) -> pl.DataFrame:
    """One asset's raw closes and volumes, in date order, straight from the shared file."""
    raw = pl.read_csv(PRICES)
    return raw.filter(pl.col("ticker") == asset).sort("date").select("date", "close", "volume")


CAL = ["--equity", "SPY", "--bond", "TLT", "--rebalance-aum", "1e10"]
CAL += ["--start", "2024-10-01", "--end", "2024-12-31"]

# verb -> (arguments with the file, arguments with the store); {p} is the prices file.
VERBS: dict[str, tuple[list[str], list[str]]] = {
    "vol-target": (
        ["vol-target", "{p}", "--asset", "SPY", "--target", "0.1"],
        ["vol-target", "prices", "--asset", "SPY", "--target", "0.1", "--db", "{db}"],
    ),
    "cta": (
        ["cta", "{p}", "--asset", "SPY", "--aum", "3e11"],
        ["cta", "prices", "--asset", "SPY", "--aum", "3e11", "--db", "{db}"],
    ),
    "rebalance": (
        ["rebalance", "{p}", "-t", "SPY=0.6", "-t", "TLT=0.4"],
        ["rebalance", "--db", "{db}", "-t", "SPY=0.6", "-t", "TLT=0.4"],
    ),
    "pension": (
        ["pension", "--aum", "1e9", "--prices", "{p}", "--equity-id", "SPY", "--bond-id", "TLT"],
        ["pension", "--aum", "1e9", "--db", "{db}", "--equity-id", "SPY", "--bond-id", "TLT"],
    ),
    "index-demand": (
        ["index-demand", "{events}", "--prices", "{p}", "--index-asset", "SPY"],
        ["index-demand", "{events}", "--prices", "prices", "--index-asset", "SPY", "--db", "{db}"],
    ),
    "buyback": (
        ["buyback", "{buybacks}", "--prices", "{p}"],
        ["buyback", "{buybacks}", "--prices", "prices", "--db", "{db}"],
    ),
    "calendar": (
        ["calendar", "--prices", "{p}", *CAL],
        ["calendar", "--prices", "prices", "--db", "{db}", *CAL],
    ),
    "flows holdings": (
        ["flows", "holdings", "{holdings}", "--prices", "{p}"],
        ["flows", "holdings", "{holdings}", "--prices", "prices", "--db", "{db}"],
    ),
}


def run(args: list[str], files: dict[str, Path]) -> Any:
    subst = {"p": files["prices"], **files}
    filled = [a.format(**{k: str(v) for k, v in subst.items()}) for a in args]
    result = runner.invoke(app, [*filled, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def canonical(value: Any) -> Any:
    """Lists of records sorted by their content, so row order is not a difference."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical(v) for v in value]
        if items and all(isinstance(v, dict) for v in items):
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return items
    return value


@pytest.mark.parametrize("verb", list(VERBS))
def test_file_and_store_give_the_same_answer(verb: str, real: dict[str, Path]) -> None:
    from_file, from_store = VERBS[verb]
    a = canonical(run(from_file, real))
    b = canonical(run(from_store, real))
    assert a == b


def test_vol_target_from_the_store_matches_raw_closes(real: dict[str, Path]) -> None:
    out = run(VERBS["vol-target"][1], real)
    c = closes("SPY")["close"].to_numpy()
    r = c[1:] / c[:-1] - 1
    vol = math.sqrt(float(np.mean(r[-20:] ** 2)) * 252)  # rolling 20, zero-mean, annualised
    assert out["as_of"] == "2024-11-08"
    assert out["realized_vol"] == pytest.approx(vol, rel=1e-12)
    assert out["exposure"] == pytest.approx(min(2.0, 0.1 / vol), rel=1e-12)


def test_index_drift_from_the_store_is_the_real_drift(real: dict[str, Path]) -> None:
    (event,) = run(VERBS["index-demand"][1], real)
    qqq = closes("QQQ").to_dicts()
    spy = closes("SPY").to_dicts()

    def close(rows: list[dict[str, Any]], day: str) -> float:
        return next(float(r["close"]) for r in rows if r["date"] == day)

    # The drift runs from the announcement close to the close before the effective date.
    r_a = close(qqq, "2024-06-21") / close(qqq, "2024-06-07") - 1
    r_i = close(spy, "2024-06-21") / close(spy, "2024-06-07") - 1
    assert r_a != 0
    assert r_i != 0
    big_a = 0.2 * 2.5e11 / 0.025
    demand = big_a * (0.025 - 0.02 * (1 + r_a) / (1 + r_i))
    assert event["r_asset"] == pytest.approx(r_a, rel=1e-12)
    assert event["demand"] == pytest.approx(demand, rel=1e-9)
    assert event["demand"] > 0  # QQQ outran SPY: a reweight up is bought


def test_holdings_flows_without_split_factor(real: dict[str, Path]) -> None:
    rows = run(VERBS["flows holdings"][1], real)
    spy = next(r for r in rows if r["asset_id"] == "SPY" and r["date"] == "2024-06-30")
    # Quarter-end 2024-06-30 is a Sunday: priced on Friday 2024-06-28.
    p = next(float(r["close"]) for r in closes("SPY").to_dicts() if r["date"] == "2024-06-28")
    assert spy["flow"] == pytest.approx((1200 - 1000) * p, rel=1e-12)


@pytest.mark.parametrize("bad", ["2024-02-30", "2024-13-45"])
def test_impossible_date_is_one_clear_line_and_the_store_is_untouched(
    bad: str, real: dict[str, Path], tmp_path: Path
) -> None:
    rows = pl.read_csv(real["prices"], infer_schema=False).head(5)
    rows = rows.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit(bad))
        .otherwise(pl.col("date"))
        .alias("date")
    )
    path = tmp_path / "bad.csv"
    rows.write_csv(path)
    before = runner.invoke(app, ["info", "--db", str(real["db"]), "--json"]).stdout
    result = runner.invoke(app, ["ingest", "prices", str(path), "--db", str(real["db"])])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line
    # file, line (header is line 1, so the fourth row is line 5), column and value
    assert line.startswith("error: bad.csv line 5: field 'date'")
    assert repr(bad) in line
    assert runner.invoke(app, ["info", "--db", str(real["db"]), "--json"]).stdout == before
    verb = runner.invoke(app, ["vol-target", str(path), "--asset", "QQQ", "--target", "0.1"])
    assert verb.exit_code == 2
    assert verb.stderr.startswith("error: bad.csv line 5: field 'date'")
    fresh = tmp_path / "new.duckdb"
    first = runner.invoke(app, ["ingest", "prices", str(path), "--db", str(fresh)])
    assert first.exit_code == 2
    assert not fresh.exists()  # a failed first ingest leaves no store behind
