"""Index-event demand in days of ADV for real S&P 500 additions of 2013-2018.

Prices: the Kaggle S&P 500 members' split-adjusted (not dividend-adjusted) OHLCV (2013-02-08..2018-02-07, read by the
``kaggle_sp500`` format: ticker -> asset_id). Events: the fja05680 membership spells (read by
the ``fja_sp500`` format): an addition on each spell's start date, announced five sessions
before (inferred), weighted 1/N (N = spells covering the date) because the files hold no
market caps or shares outstanding. So the demand is what the verb takes: ``A x w_new`` with a
given A, here $15bn (about the assets of an equal-weighted S&P 500 fund in 2017).

Recomputed here with DuckDB on the files: ``days_of_adv = (A w_new / close at the trade
session) / mean(volume over the ADV window)``, the window ending the session before the
announcement (DESIGN.md "Contract conventions": share ADV, 20 sessions by default; 60 too).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure.cli import app
from flowpressure.data import load_file, scan_source
from tests.conftest import SHARED_DATA

KAGGLE = SHARED_DATA / "prices" / "kaggle_sp500_constituents_ohlcv_2013_2018.parquet"
SPELLS = SHARED_DATA / "sp500" / "fja05680_sp500_ticker_start_end.csv"
CHANGES = SHARED_DATA / "sp500" / "fja05680_sp500_changes_since_2019.csv"
pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in (KAGGLE, SPELLS, CHANGES)), reason="shared S&P 500 files absent"
)
A = 1.5e10
runner = CliRunner()


def run(*args: str) -> list[dict[str, object]]:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert isinstance(out, list)
    return out


LO, HI = dt.date(2013, 2, 8), dt.date(2018, 2, 7)  # the Kaggle window


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Kaggle rows of the tickers with an event in its window; a store with both files."""
    tmp = tmp_path_factory.mktemp("index_real")
    ev = load_file(SPELLS, "index_events").filter(pl.col("effective_date").is_between(LO, HI))
    events = tmp / "events_2013_2018.parquet"
    ev.write_parquet(events)
    prices = tmp / "kaggle_subset.parquet"  # the file's own columns: the format still applies
    duckdb.execute(
        f"COPY (SELECT * FROM read_parquet('{KAGGLE}') WHERE ticker IN "
        f"(SELECT asset_id FROM read_parquet('{events}')) ORDER BY ticker, date) "
        f"TO '{prices}' (FORMAT parquet)"
    )
    db = tmp / "store.duckdb"
    for kind, path in (("prices", prices), ("index_events", SPELLS)):  # the whole change list
        res = runner.invoke(app, ["ingest", kind, str(path), "--db", str(db)])
        assert res.exit_code == 0, res.output
    return {"events": events, "prices": prices, "db": db}


def expected(events: Path, window: int) -> dict[tuple[str, str], tuple[float, float]]:
    """(asset, effective date) -> (demand dollars, days_of_adv), from the files alone.

    Demand ``A (w_new - w_old P_trade / P_announce)``: Kaggle has no SPX series, so the index
    return is 0; the prices are split-adjusted and the file has no split column, so the asset's
    drift is the close ratio.
    """
    rows = duckdb.execute(
        f"""
        WITH ev AS (SELECT * FROM read_parquet('{events}')),
        k AS (SELECT ticker, date, close, volume FROM read_parquet('{KAGGLE}')),
        px AS (
            SELECT ev.asset_id, ev.effective_date,
                   arg_max(k.close, k.date) FILTER (WHERE k.date < ev.effective_date) AS p_t,
                   arg_max(k.close, k.date) FILTER (WHERE k.date <= ev.announce_date) AS p_a
            FROM ev JOIN k ON k.ticker = ev.asset_id GROUP BY ALL),
        win AS (    -- the ADV window: sessions before the announcement, the latest {window}
            SELECT ev.asset_id, ev.effective_date, k.volume,
                   row_number() OVER (PARTITION BY ev.asset_id, ev.effective_date
                                      ORDER BY k.date DESC) AS n
            FROM ev JOIN k ON k.ticker = ev.asset_id AND k.date < ev.announce_date),
        adv AS (
            SELECT asset_id, effective_date, avg(volume) AS v, count(*) AS m
            FROM win WHERE n <= {window} GROUP BY ALL)
        SELECT ev.asset_id, CAST(ev.effective_date AS VARCHAR),
               {A} * (ev.w_new - ev.w_old * px.p_t / px.p_a) AS demand, adv.v, px.p_t
        FROM ev JOIN px USING (asset_id, effective_date) JOIN adv USING (asset_id, effective_date)
        WHERE adv.m = {window} AND px.p_t IS NOT NULL AND px.p_a IS NOT NULL
        """
    ).fetchall()
    return {(str(a), str(e)): (float(d), abs(d) / p / v) for a, e, d, v, p in rows}


def test_the_real_additions(files: dict[str, Path]) -> None:
    ev = pl.read_parquet(files["events"])
    adds = ev.filter(pl.col("w_old") == 0.0)
    assert adds.height >= 100
    assert {"AMD", "ALGN", "CDNS", "HII", "NCLH"} <= set(adds["asset_id"])
    amd = adds.filter(asset_id="AMD").row(0, named=True)
    assert amd["effective_date"] == dt.date(2017, 3, 20)
    assert amd["announce_date"] == dt.date(2017, 3, 13)  # five sessions before
    members = duckdb.execute(
        f"SELECT count(*) FROM read_csv('{SPELLS}') WHERE start_date <= DATE '2017-03-20' "
        "AND (end_date IS NULL OR end_date >= DATE '2017-03-20')"
    ).fetchall()[0][0]
    assert amd["w_new"] == pytest.approx(1.0 / members, rel=1e-12)


@pytest.mark.parametrize("window", [20, 60])
def test_days_of_adv_match_the_files_and_the_store(files: dict[str, Path], window: int) -> None:
    want = expected(files["events"], window)
    common = ["--indexed-assets", str(A), "--adv-window", str(window), "--keep-unpriced"]
    rng = ["--start", LO.isoformat(), "--end", HI.isoformat()]
    from_file = run("index-demand", str(SPELLS), "--prices", str(files["prices"]), *common, *rng)
    from_store = run(
        "index-demand",
        "index_events",
        "--prices",
        "prices",
        "--db",
        str(files["db"]),
        *common,
        *rng,
    )
    assert from_file == from_store
    n_events = pl.read_parquet(files["events"]).height
    assert len(from_file) == n_events  # unpriced events keep their rows
    priced = {
        (str(r["asset_id"]), str(r["effective_date"])): r
        for r in from_file
        if r["days_of_adv"] is not None
    }
    assert priced.keys() == want.keys()
    for key, (demand, days) in want.items():
        assert float(str(priced[key]["demand"])) == pytest.approx(demand, rel=1e-9), key
        assert float(str(priced[key]["days_of_adv"])) == pytest.approx(days, rel=1e-9), key
    kinds = {str(priced[k]["kind"]) for k in priced}
    assert "addition" in kinds
    for r in from_file:
        if r["days_of_adv"] is None:
            assert "not priced: " in str(r["notes"])
    # AMD, March 2017: $15bn / N at ~$14 against tens of millions of shares a day.
    assert 0.0 < float(str(priced[("AMD", "2017-03-20")]["days_of_adv"])) < 0.5


def test_unpriced_events_are_an_error_by_default(files: dict[str, Path]) -> None:
    res = runner.invoke(
        app,
        [
            "index-demand",
            str(SPELLS),
            "--prices",
            str(files["prices"]),
            "--indexed-assets",
            str(A),
            "--start",
            LO.isoformat(),
            "--end",
            HI.isoformat(),
        ],
    )
    assert res.exit_code != 0
    assert "asset_id" in res.output or "volume" in res.output


def test_formats_are_recognised_and_say_what_they_inferred() -> None:
    con = duckdb.connect()
    px = scan_source(con, KAGGLE, "prices")
    assert (px.format, px.inferred) == ("kaggle_sp500", True)
    rows, tickers = con.execute(
        f"SELECT count(*), count(DISTINCT ticker) FROM read_parquet('{KAGGLE}')"
    ).fetchall()[0]
    assert (px.notes["rows"], px.notes["tickers"]) == (rows, tickers) == (619_040, 505)
    n_missing = con.execute(
        f"SELECT count(*) FROM read_parquet('{KAGGLE}') "
        "WHERE open IS NULL OR high IS NULL OR low IS NULL"
    ).fetchall()[0][0]
    assert px.notes["rows_missing_open_high_or_low"] == n_missing
    spells = scan_source(con, SPELLS, "index_events")
    assert spells.format == "fja_sp500"
    assert "5 sessions" in str(spells.notes["announce_date"])
    n_adds = con.execute(
        f"SELECT count(*) FROM read_csv('{SPELLS}') "
        f"WHERE start_date > (SELECT min(start_date) FROM read_csv('{SPELLS}'))"
    ).fetchall()[0][0]
    assert spells.notes["additions"] == n_adds
    changes = load_file(CHANGES, "index_events")
    n_changes = con.execute(
        f"SELECT sum(len(string_split(\"add\", ','))) FILTER (WHERE trim(\"add\") <> '') "
        f"FROM read_csv('{CHANGES}', all_varchar = true)"
    ).fetchall()[0][0]
    assert changes.filter(pl.col("w_old") == 0.0).height == n_changes
    assert changes["w_new"].max() == pytest.approx(1 / 500)


def test_date_range_and_unpriced_bad_input() -> None:
    from flowpressure import ConfigError, DataError
    from flowpressure.mechanics import index_demand

    ev = pl.DataFrame(
        {
            "asset_id": ["NEW"],
            "announce_date": [dt.date(2024, 3, 8)],
            "effective_date": [dt.date(2024, 3, 18)],
            "w_old": [0.0],
            "w_new": [0.001],
        }
    )
    px = pl.DataFrame(
        {"asset_id": ["OLD"], "date": [dt.date(2024, 3, 15)], "close": [10.0], "volume": [1e6]}
    )
    with pytest.raises(ConfigError, match="end"):
        index_demand(ev, indexed_assets=1e9, start="2024-03-20", end="2024-03-01")
    with pytest.raises(DataError, match="effective_date"):
        index_demand(ev, indexed_assets=1e9, start="2024-04-01")
    with pytest.raises(ConfigError, match="unpriced"):
        index_demand(ev, px, indexed_assets=1e9, unpriced="keep", complete=True)
    with pytest.raises(DataError, match="asset_id"):
        index_demand(ev, px, indexed_assets=1e9)
    kept = index_demand(ev, px, indexed_assets=1e9, unpriced="keep").row(0, named=True)
    assert kept["demand"] == pytest.approx(1e6)  # A x w_new, no drift
    assert kept["days_of_adv"] is None
    assert "not priced: no prices for the asset" in kept["notes"]
