"""Public source formats on the real files: CBOE option chains (cboe), SPDR gold trust (spdr_gld).

Figures are computed here with DuckDB directly on the files and compared with what the
formats, the store and the verbs make of them.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import duckdb
import exchange_calendars as xc
import polars as pl
import pytest
from polars.testing import assert_series_equal
from typer.testing import CliRunner

from flowpressure import DataError, SchemaError
from flowpressure.cli import app
from flowpressure.data import Store, load_file, scan_source
from flowpressure.data.formats import formats_for, get_format
from flowpressure.flows import etf_flows
from tests.conftest import SHARED_DATA

CBOE = SHARED_DATA / "options" / "cboe_delayed_option_chains_spx_spy_xsp_2022_2025.parquet"
GLD = SHARED_DATA / "etf" / "spdr_gld_daily_archive_2004_2025.csv"

need_cboe = pytest.mark.skipif(not CBOE.exists(), reason="../shared/data not present")
need_gld = pytest.mark.skipif(not GLD.exists(), reason="../shared/data not present")
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "140"})
    return result.exit_code, result.stdout, result.stderr


def sql(query: str) -> list[tuple[Any, ...]]:
    return duckdb.connect().sql(query).fetchall()


def session_on_or_before(day: dt.date) -> dt.date:
    with warnings.catch_warnings():  # exchange_calendars' own pandas deprecation
        warnings.simplefilter("ignore")
        cal = xc.get_calendar("XNYS", start="2020-01-01", end="2026-12-31")
        got = cal.date_to_session(day.isoformat(), direction="previous")
    return dt.date(got.year, got.month, got.day)


def test_the_formats_are_registered_with_their_kind() -> None:
    assert "cboe" in [f.name for f in formats_for("options")]
    assert "spdr_gld" in [f.name for f in formats_for("etf")]
    assert get_format("options", "cboe").signature[0] == "snapshot_id"
    code, out, err = run("formats", "--json")
    assert code == 0, err
    names = {(r["kind"], r["format"]) for r in json.loads(out)}
    assert {("options", "cboe"), ("etf", "spdr_gld")} <= names


# ------------------------------------------------------------------ CBOE option chains
@pytest.fixture(scope="module")
def chains() -> pl.DataFrame:
    df = load_file(CBOE, "options", fmt="cboe")
    assert isinstance(df, pl.DataFrame)
    return df


@pytest.fixture(scope="module")
def cboe_notes() -> dict[str, Any]:
    scan = scan_source(duckdb.connect(), CBOE, "options")
    return dict(scan.describe())


@pytest.fixture(scope="module")
def cboe_truth() -> dict[str, Any]:
    """Per snapshot: its session date (the calendar's, not the format's) and the row counts."""
    f = str(CBOE)
    snaps = sql(
        f"SELECT snapshot_id, min(CAST(left(quote_datetime_local, 10) AS DATE)) "
        f"FROM '{f}' GROUP BY 1"
    )
    day = {sid: session_on_or_before(d) for sid, d in snaps}
    values = ", ".join(f"('{s}', DATE '{d}')" for s, d in day.items())
    base = f"SELECT r.*, v.d FROM '{f}' r JOIN (VALUES {values}) v(s, d) ON v.s = r.snapshot_id"
    expired, zero_g, zero_iv, kept = sql(
        f"SELECT count(*) FILTER (WHERE expiration < d), "
        f"count(*) FILTER (WHERE expiration >= d AND gamma = 0), "
        f"count(*) FILTER (WHERE expiration >= d AND gamma > 0 AND iv <= 0), "
        f"count(*) FILTER (WHERE expiration >= d AND gamma > 0 AND iv > 0) FROM ({base})"
    )[0]
    return {"day": day, "expired": expired, "zero_g": zero_g, "zero_iv": zero_iv, "kept": kept}


@need_cboe
def test_cboe_rows_kept_and_set_aside_add_up_to_the_file(
    chains: pl.DataFrame, cboe_truth: dict[str, Any], cboe_notes: dict[str, Any]
) -> None:
    notes = cboe_notes
    assert (notes["format"], notes["format_inferred"]) == ("cboe", True)  # from its columns
    (n_file,) = sql(f"SELECT count(*) FROM '{CBOE}'")[0]
    assert n_file == 249_216
    assert notes["rows_read"] == n_file
    assert notes["rows_expired"] == cboe_truth["expired"]
    assert notes["rows_zero_greeks"] == cboe_truth["zero_g"]
    assert notes["rows_zero_iv"] == cboe_truth["zero_iv"]
    assert chains.height == cboe_truth["kept"]
    assert (
        chains.height + notes["rows_expired"] + notes["rows_zero_greeks"] + notes["rows_zero_iv"]
        == n_file
    )
    # the zero-gamma lines are 20-30 % of a chain, as the manifest says
    assert 0.20 < notes["rows_zero_greeks"] / n_file < 0.30


@need_cboe
def test_cboe_dates_are_sessions_and_weekend_snapshots_move_back(
    chains: pl.DataFrame, cboe_truth: dict[str, Any], cboe_notes: dict[str, Any]
) -> None:
    got = dict(chains.group_by("snapshot").agg(pl.col("date").unique()).iter_rows())
    for sid, days in got.items():
        assert days == [cboe_truth["day"][sid]], sid
    notes = cboe_notes
    assert notes["dates_moved"]["SPX_2024-01-07_1052"] == "2024-01-07 -> 2024-01-05"
    assert notes["dates_moved"]["SPY_2025-09-01_1850"] == "2025-09-01 -> 2025-08-29"  # Labor Day
    assert notes["several_snapshots"]["SPY 2025-05-06"] == [
        "SPY_2025-05-06_0913",
        "SPY_2025-05-06_1809",
        "SPY_2025-05-06_1814",
    ]


@need_cboe
def test_cboe_key_keeps_spx_and_spxw_apart_and_values_map(chains: pl.DataFrame) -> None:
    spx = chains.filter(pl.col("snapshot") == "SPX_2024-01-07_1052")
    shared = (
        spx.group_by("expiry", "strike", "type")
        .agg(pl.col("contract"))
        .filter(pl.col("contract").list.len() > 1)
    )
    assert shared.height > 0  # (expiry, strike, type) is not a key of an SPX chain
    roots = {c[:4] for c in shared["contract"].explode().to_list()}
    assert roots == {"SPX2", "SPXW"}
    assert set(chains["type"].unique()) == {"call", "put"}
    assert set(chains["multiplier"].unique()) == {100.0}
    assert spx["underlying_price"].unique().to_list() == [4697.2402]
    row = spx.filter(pl.col("contract") == "SPXW240119C04700000").row(0, named=True)
    raw = sql(
        f"SELECT gamma, iv, open_interest, strike, expiration FROM '{CBOE}' "
        "WHERE snapshot_id = 'SPX_2024-01-07_1052' AND contract = 'SPXW240119C04700000'"
    )[0]
    assert (row["gamma"], row["iv"], row["open_interest"], row["strike"], row["expiry"]) == raw


def test_cboe_refuses_a_file_without_its_columns(tmp_path: Path) -> None:
    f = tmp_path / "chain.csv"
    f.write_text(
        "snapshot_id,contract,option_type,expiration,underlying_last\nA,B,C,2024-01-19,1\n"
    )
    with pytest.raises(SchemaError, match="missing underlying, quote_datetime_local"):
        load_file(f, "options")


def test_cboe_refuses_an_unreadable_quote_time(tmp_path: Path) -> None:
    f = tmp_path / "chain.csv"
    head = (
        "snapshot_id,underlying,quote_datetime_local,underlying_last,expiration,option_type,"
        "contract,strike,iv,gamma,open_interest\n"
    )
    f.write_text(head + "S1,SPX,January 5,4700,2024-01-19,C,SPXW240119C04700000,4700,0.1,0.002,5\n")
    with pytest.raises(DataError, match=r"quote_datetime_local.*snapshot_id=S1"):
        load_file(f, "options", fmt="cboe")


# ------------------------------------------------------------------ SPDR gold trust
@pytest.fixture(scope="module")
def gld_csv() -> pl.DataFrame:
    rows = sql(
        f"SELECT date, shares_outstanding_est, nav_per_share_1030, trust_ounces, trust_nav_usd "
        f"FROM read_csv('{GLD}') ORDER BY date"
    )
    return pl.DataFrame(rows, schema=["date", "so", "nav", "oz", "aum"], orient="row")


@pytest.fixture(scope="module")
def gld_panel() -> pl.DataFrame:
    df = load_file(GLD, "etf")  # recognised by its columns
    assert isinstance(df, pl.DataFrame)
    return df


@need_gld
def test_gld_maps_shares_nav_aum_and_sets_aside_closed_days(
    gld_csv: pl.DataFrame, gld_panel: pl.DataFrame
) -> None:
    df = gld_panel
    assert gld_csv.height == 5162
    notes = scan_source(duckdb.connect(), GLD, "etf").notes
    assert notes["dates_no_data"] == ["2012-10-29", "2012-10-30"]  # hurricane Sandy
    assert notes["dates_not_session"] == ["2018-12-05"]  # national day of mourning
    assert df.height == 5162 - 3
    assert df["fund_id"].unique().to_list() == ["GLD"]
    got = df.sort("date").select("date", "shares_outstanding", "nav", "aum")
    want = gld_csv.filter(
        ~pl.col("date").is_in([dt.date(2012, 10, 29), dt.date(2012, 10, 30), dt.date(2018, 12, 5)])
    ).select("date", shares_outstanding="so", nav="nav", aum="aum")
    assert got.equals(want)


@need_gld
def test_gld_flows_file_and_store_match_the_csv_and_the_gold(
    tmp_path: Path, gld_csv: pl.DataFrame, gld_panel: pl.DataFrame
) -> None:
    db = tmp_path / "g.duckdb"
    code, _, err = run("ingest", "etf", str(GLD), "--format", "spdr_gld", "--db", str(db))
    assert code == 0, err
    assert "rows_not_session: 1" in err
    with Store(db, read_only=True) as store:
        stored = pl.from_arrow(store.table("etf").to_arrow_table())
    cols = ["date", "flow", "flow_pct", "flow_note"]

    def flows(panel: Any) -> pl.DataFrame:
        out = etf_flows(panel).select(cols).with_columns(pl.col("date").cast(pl.String))
        return out.sort("date")

    from_file, from_db = flows(gld_panel), flows(stored)
    assert from_file.height == from_db.height == 5159
    assert from_file["date"].equals(from_db["date"])
    assert from_file["flow_note"].equals(from_db["flow_note"])
    assert_series_equal(from_file["flow"], from_db["flow"], rel_tol=1e-12, abs_tol=1e-6)

    # DESIGN.md: F_t = (SO_t - SO_{t-1}) NAV_t; flow_pct = F_t / (SO_{t-1} NAV_{t-1}),
    # computed here from the CSV over the 2020 window (consecutive sessions, no gap in it).
    csv = gld_csv.filter(pl.col("so").is_not_null() & (pl.col("date") != dt.date(2018, 12, 5)))
    csv = csv.with_columns(
        flow=(pl.col("so") - pl.col("so").shift()) * pl.col("nav"),
        base=pl.col("so").shift() * pl.col("nav").shift(),
        gold=(pl.col("oz") - pl.col("oz").shift()) * pl.col("aum") / pl.col("oz"),
        aum0=pl.col("aum").shift(),
    ).with_columns(date=pl.col("date").cast(pl.String))
    lo, hi = "2020-01-01", "2020-12-31"
    win = csv.filter(pl.col("date").is_between(pl.lit(lo), pl.lit(hi)))
    mine = from_file.filter(pl.col("date").is_between(pl.lit(lo), pl.lit(hi)))
    assert mine.height == win.height == 253
    assert mine["flow"].to_list() == pytest.approx(win["flow"].to_list(), rel=1e-12, abs=1e-6)
    assert mine["flow_pct"].to_list() == pytest.approx(
        (win["flow"] / win["base"]).to_list(), rel=1e-12
    )
    total = float(mine["flow"].sum())
    assert total == pytest.approx(15_424_946_698.69, rel=1e-9)  # +$15.4bn into GLD in 2020

    # Gold identity: the trust's change in ounces x the gold price (trust NAV / ounces) is the
    # flow up to the sponsor fee (0.40 % a year, accrued daily by cutting the ounces per share)
    # and the rounding of the share estimate: each day within 1e-4 of the prior AUM, the year
    # within 0.5 % of the average AUM.
    assert ((win["flow"] - win["gold"]).abs() / win["aum0"]).max() < 1e-4
    gold_total = float(win["gold"].sum())
    assert abs(total - gold_total) < 0.005 * float(win["aum"].mean())
    assert gold_total == pytest.approx(total, rel=0.02)

    # Sessions the archive lacks are gaps: no flow is bridged across them.
    gaps = from_file.filter(pl.col("flow_note") == "gap")["date"].to_list()
    assert gaps == ["2005-01-03", "2007-11-13"]  # 2004-12-31 and 2007-11-12 are missing
    assert from_file.filter(pl.col("flow_note") == "gap")["flow"].is_null().all()
