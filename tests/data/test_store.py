"""The store: atomic, idempotent ingests; overlaps refused; a killed ingest leaves no trace."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flowpressure import ConfigError, DataError, OverlapError, SchemaError, StoreError
from flowpressure.data import Store, default_db_path, sessions
from tests.conftest import SHARED_DATA


def write_prices(path: Path, rows: dict[str, list[Any]]) -> Path:
    pl.DataFrame(rows).write_csv(path)
    return path


PRICES = {
    "asset_id": ["SPY", "SPY", "QQQ", "QQQ"],
    "date": ["2024-03-27", "2024-03-28", "2024-03-27", "2024-03-28"],
    "close": [524.0, 523.1, 444.0, 445.0],
    "volume": [1.1e7, 9e6, 5e6, 5e6],
}


def snapshot(db: Path) -> dict[str, Any]:
    """Everything observable about a store: per-kind info and every row."""
    if not db.exists():
        return {}
    with Store(db, read_only=True) as store:
        info = store.info()
        rows = {k: sorted(store.table(k).fetchall()) for k in info}
        return {"info": info, "rows": rows, "provenance": store.provenance()}


def test_ingest_then_info(tmp_path: Path) -> None:
    src = write_prices(tmp_path / "p.csv", PRICES)
    with Store(tmp_path / "s.duckdb") as store:
        result = store.ingest("prices", src)
        info = store.info()
    assert result.status == "ingested"
    assert result.rows == 4
    assert info["prices"]["rows"] == 4
    assert info["prices"]["entities"] == 2
    assert (info["prices"]["first_date"], info["prices"]["last_date"]) == (
        "2024-03-27",
        "2024-03-28",
    )
    assert info["prices"]["ingests"][0]["rows"] == 4


def test_ingest_twice_keeps_one_copy(tmp_path: Path) -> None:
    src = write_prices(tmp_path / "p.csv", PRICES)
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("prices", src)
    before = snapshot(db)
    with Store(db) as store:
        again = store.ingest("prices", src)
    assert again.status == "unchanged"
    assert again.rows == 0
    assert snapshot(db) == before
    assert before["info"]["prices"]["rows"] == 4


def test_same_file_read_another_way_is_a_new_ingest(tmp_path: Path) -> None:
    src = tmp_path / "one.csv"
    src.write_text("date,close\n2024-03-28,1.0\n")
    with Store(tmp_path / "s.duckdb") as store:
        assert store.ingest("prices", src, constants={"asset_id": "A"}).status == "ingested"
        assert store.ingest("prices", src, constants={"asset_id": "B"}).status == "ingested"
        assert store.ingest("prices", src, constants={"asset_id": "B"}).status == "unchanged"
        assert store.info()["prices"]["rows"] == 2


def test_overlap_from_another_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("prices", write_prices(tmp_path / "a.csv", PRICES))
    before = snapshot(db)
    other = {**PRICES, "close": [1.0, 2.0, 3.0, 4.0]}
    with Store(db) as store, pytest.raises(OverlapError) as info:
        store.ingest("prices", write_prices(tmp_path / "b.csv", other))
    message = str(info.value)
    assert "key asset_id=QQQ, date=2024-03-27 is already stored from a.csv" in message
    assert "3 other overlapping rows" in message
    assert snapshot(db) == before


def test_replace_overwrites_overlapping_keys(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("prices", write_prices(tmp_path / "a.csv", PRICES))
        newer = {
            "asset_id": ["SPY", "SPY"],
            "date": ["2024-03-28", "2024-04-01"],
            "close": [600.0, 601.0],
        }
        result = store.ingest("prices", write_prices(tmp_path / "b.csv", newer), replace=True)
        rows = dict(
            store.con.sql(
                "SELECT date::VARCHAR, close FROM prices WHERE asset_id = 'SPY'"
            ).fetchall()
        )
    assert result.replaced == 1
    assert rows == {"2024-03-27": 524.0, "2024-03-28": 600.0, "2024-04-01": 601.0}


def test_rows_are_stored_in_key_order(tmp_path: Path) -> None:
    shuffled = {k: [v[i] for i in (3, 0, 2, 1)] for k, v in PRICES.items()}
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest("prices", write_prices(tmp_path / "p.csv", shuffled))
        order = store.con.sql("SELECT asset_id, date::VARCHAR FROM prices").fetchall()
    assert order == sorted(order)


# A catalogue of bad files: each gives its clear error and leaves the store exactly as it was.
BAD_FILES: list[tuple[str, str, str, dict[str, Any], type[Exception], str]] = [
    (
        "text in a number column",
        "prices",
        "a,b",
        {"close": ["1", "x", "3", "4"]},
        DataError,
        "field 'close' at asset_id=SPY, date=2024-03-28: expected a number, got 'x'",
    ),
    (
        "weekend date",
        "prices",
        "",
        {"date": ["2024-03-27", "2024-03-30", "2024-03-27", "2024-03-28"]},
        DataError,
        "field 'date' at asset_id=SPY, date=2024-03-30: expected a trading session",
    ),
    (
        "negative close",
        "prices",
        "",
        {"close": [1.0, -2.0, 3.0, 4.0]},
        DataError,
        "field 'close' at asset_id=SPY, date=2024-03-28: expected a finite number > 0, got -2.0",
    ),
    (
        "duplicate key",
        "prices",
        "",
        {"date": ["2024-03-27", "2024-03-27", "2024-03-27", "2024-03-28"]},
        DataError,
        "at asset_id=SPY, date=2024-03-27: expected one row per key, got '2 rows'",
    ),
    ("missing column", "fund", "", {}, SchemaError, "fund panel: missing columns 'fund_id', 'tna'"),
]


@pytest.mark.parametrize(
    ("kind", "spoil", "error", "message"),
    [(c[1], c[3], c[4], c[5]) for c in BAD_FILES],
    ids=[c[0] for c in BAD_FILES],
)
def test_bad_file_leaves_store_unchanged(
    tmp_path: Path, kind: str, spoil: dict[str, Any], error: type[Exception], message: str
) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest(
            "prices",
            write_prices(
                tmp_path / "good.csv",
                {**PRICES, "date": ["2024-03-20", "2024-03-21", "2024-03-20", "2024-03-21"]},
            ),
        )
    before = snapshot(db)
    bad = write_prices(tmp_path / "bad.csv", {**PRICES, **spoil})
    with Store(db) as store, pytest.raises(error) as info:
        store.ingest(kind, bad)
    assert message in str(info.value)
    assert snapshot(db) == before


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(DataError, match="is empty"):
        store.ingest("prices", empty)


def test_header_only_file(tmp_path: Path) -> None:
    header = tmp_path / "header.csv"
    header.write_text("asset_id,date,close\n")
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(DataError, match="no rows"):
        store.ingest("prices", header)


def test_wrong_delimiter(tmp_path: Path) -> None:
    semi = tmp_path / "semi.csv"
    semi.write_text("asset_id;date;close\nSPY;2024-03-28;523.1\n")
    with Store(tmp_path / "s.duckdb") as store:
        # Detected by itself when no delimiter is given ...
        assert store.ingest("prices", semi).rows == 1
    with Store(tmp_path / "t.duckdb") as store, pytest.raises(SchemaError) as info:
        # ... and explained when the user insists on the wrong one.
        store.ingest("prices", semi, delimiter=",")
    assert "is its delimiter ';'?" in str(info.value)


def test_unknown_kind_mapping_and_scale(tmp_path: Path) -> None:
    src = write_prices(tmp_path / "p.csv", PRICES)
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(ConfigError, match="field 'kind'"):
            store.ingest("bonds", src)
        with pytest.raises(ConfigError, match="mapping names column 'Close'"):
            store.ingest("prices", src, mapping={"Close": "close"})
        with pytest.raises(ConfigError, match="field 'scale'"):
            store.ingest("prices", src, scale={"close": -1.0})
        with pytest.raises(ConfigError, match="field 'file'"):
            store.ingest("prices", tmp_path / "missing.csv")
        assert store.info() == {}


def test_scale_and_constants(tmp_path: Path) -> None:
    src = tmp_path / "spy.csv"
    src.write_text("Date,Close,Volume\n2024-03-28,523.07,1.5\n")
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest("prices", src, constants={"asset_id": "SPY"}, scale={"volume": 1e6})
        stored = store.con.sql("SELECT asset_id, date::VARCHAR, close, volume FROM prices")
        assert stored.fetchall() == [("SPY", "2024-03-28", 523.07, 1.5e6)]


def test_read_only_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="an existing store file"):
        Store(tmp_path / "none.duckdb", read_only=True)
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("prices", write_prices(tmp_path / "p.csv", PRICES))
    with Store(db, read_only=True) as store, pytest.raises(StoreError, match="opened for writing"):
        store.ingest("prices", tmp_path / "p.csv")


def test_default_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWPRESSURE_DB", str(tmp_path / "env.duckdb"))
    assert default_db_path() == tmp_path / "env.duckdb"
    monkeypatch.delenv("FLOWPRESSURE_DB")
    assert default_db_path() == Path("flowpressure.duckdb")


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from flowpressure.data import Store

    db, src, marker = sys.argv[1:4]

    def hold():
        Path(marker).write_text("in transaction")
        time.sleep(120)

    with Store(db) as store:
        store.ingest("prices", src, before_commit=hold)
    """
)


def _ingest_and_kill(tmp_path: Path, db: Path, src: Path) -> None:
    marker = tmp_path / "marker"
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(db), str(src), str(marker)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):  # up to 60 s for the child to reach the point before commit
            if marker.exists() or proc.poll() is not None:
                break
            subprocess.run(["sleep", "0.1"], check=True)
        assert marker.exists(), proc.stderr.read().decode() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_during_first_ingest_leaves_empty_store(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    Store(db).close()
    before = snapshot(db)
    days = [str(d) for d in sessions(dt.date(2020, 1, 1), dt.date(2021, 12, 31))]
    frame = pl.DataFrame(
        {
            "asset_id": [f"A{i:02d}" for i in range(50) for _ in days],
            "date": days * 50,
            "close": [100.0] * (50 * len(days)),
        }
    )
    src = tmp_path / "big.csv"
    frame.write_csv(src)
    _ingest_and_kill(tmp_path, db, src)
    assert snapshot(db) == before


def test_sigkill_during_second_ingest_keeps_first(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("prices", write_prices(tmp_path / "a.csv", PRICES))
    before = snapshot(db)
    later = {
        "asset_id": ["SPY", "QQQ"],
        "date": ["2024-04-01", "2024-04-01"],
        "close": [1.0, 2.0],
    }
    _ingest_and_kill(tmp_path, db, write_prices(tmp_path / "b.csv", later))
    assert snapshot(db) == before
    with Store(db) as store:  # and the store still takes the file afterwards
        assert store.ingest("prices", tmp_path / "b.csv").rows == 2


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data not present")
def test_real_price_files_agree(tmp_path: Path) -> None:
    """TradingView's 14:30 UTC stamps map to the session date; SPY closes match Alpha Vantage."""
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        av = store.ingest(
            "prices",
            SHARED_DATA / "prices" / "alphavantage_etf_ohlcv_daily_unadjusted_1999_2024.csv",
            mapping={"ticker": "asset_id"},
        )
        tv = store.ingest(
            "prices",
            SHARED_DATA / "prices" / "SPY_ohlcv_daily_2017_2021_tradingview.csv",
            constants={"asset_id": "SPY_TV"},
        )
        assert (av.rows, tv.rows) == (84_030, 1_258)
        joined = store.con.sql(
            """
            SELECT count(*), max(abs(a.close - b.close)), sum((abs(a.close - b.close) < 0.005)::INT)
            FROM prices a JOIN prices b ON a.date = b.date
            WHERE a.asset_id = 'SPY' AND b.asset_id = 'SPY_TV'
            """
        ).fetchall()[0]
    n, worst, equal = joined
    assert n == 1_258  # every TradingView session found its Alpha Vantage twin
    assert equal == n - 1  # one session differs, by 7 cents
    assert worst < 0.10


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data not present")
def test_real_etf_file_reports_missing_shares(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(DataError) as info:
        store.ingest(
            "etf",
            SHARED_DATA / "etf" / "stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv",
            mapping={
                "ticker": "fund_id",
                "snapshot_date_et": "date",
                "shares_out_m": "shares_outstanding",
                "assets_musd": "aum",
            },
        )
    # The first offending row is the file's first data row (line 2, under the header).
    assert str(info.value).startswith(
        "stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv line 2: "
        "field 'shares_outstanding' at fund_id=AGG, date=2021-07-07: expected a value"
    )
    assert "other rows with the same problem" in str(info.value)


def test_absent_adjustment_columns_read_back_as_no_corporate_action(tmp_path: Path) -> None:
    # Stored as null (what the file said), read back as split 1 and dividend 0 (what it means).
    src = write_prices(tmp_path / "p.csv", PRICES)
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest("prices", src)
        raw = store.con.execute("SELECT count(*) FROM prices WHERE split_factor IS NULL").fetchone()
        assert raw == (4,)
        back = store.table("prices").pl()
    assert back["split_factor"].to_list() == [1.0] * 4
    assert back["dividend"].to_list() == [0.0] * 4


def test_impossible_date_names_file_line_and_leaves_store_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest("prices", write_prices(tmp_path / "ok.csv", PRICES))
    before = snapshot(db)
    bad = dict(PRICES, date=["2024-04-01", "2024-04-02", "2024-02-30", "2024-04-02"])
    with Store(db) as store, pytest.raises(DataError) as err:
        store.ingest("prices", write_prices(tmp_path / "bad.csv", bad))
    assert (err.value.source, err.value.row, err.value.field) == ("bad.csv", 4, "date")
    assert str(err.value).startswith("bad.csv line 4: field 'date' at asset_id=QQQ")
    assert snapshot(db) == before
