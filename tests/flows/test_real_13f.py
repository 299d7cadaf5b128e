"""Holdings flows on the real ceekay 13F panel: Berkshire and Elliott, figures computed here.

Every expected figure is computed in the test with DuckDB on the raw parquet (or taken from
the source's own filings CSV), never through flowpressure. The small file holds every row of
Berkshire (7 consecutive quarters) and Elliott (2024Q4, then 2025Q4 and 2026Q1: one gap, one
consecutive pair, options, a duplicate key), plus the 2025-12-31 and 2026-03-31 rows of the
other filers for the names Berkshire or Elliott held then, so that a close is priced, and a
price is judged against the other holders, as in the whole file.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure import DataError
from flowpressure.cli import app
from flowpressure.data import Store, load_file
from flowpressure.data._loaders import scan_source
from flowpressure.flows import holdings_flows, note_counts
from tests.conftest import SHARED_DATA

PANEL = SHARED_DATA / "13f" / "ceekay_13f_holdings_panel_2015_2026.parquet"
FILINGS = SHARED_DATA / "13f" / "ceekay_13f_holdings_panel_filings.csv"
BRK, ELLIOTT = 1067983, 1791786
BRK_ID, ELLIOTT_ID = f"{BRK:010d}", f"{ELLIOTT:010d}"
T0, T1 = dt.date(2025, 12, 31), dt.date(2026, 3, 31)

pytestmark = pytest.mark.skipif(not PANEL.exists(), reason="shared/data 13F panel is absent")

# the raw panel with the test's own asset key (issuer and ticker), summed over duplicate lines
_RAW = f"""
    SELECT cik, period, issuer_id || ':' || coalesce(ticker, '') AS a, upper(put_call) AS pc,
           sshprnamt_type AS sp, sum(sshprnamt)::DOUBLE AS n, sum(value_usd)::DOUBLE AS v
    FROM read_parquet('{PANEL}') GROUP BY ALL
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ceekay") / "ceekay_small.parquet"
    duckdb.execute(f"""
        COPY (
            WITH p AS (SELECT * FROM read_parquet('{PANEL}')),
            names AS (
                SELECT DISTINCT issuer_id, ticker FROM p
                WHERE cik IN ({BRK}, {ELLIOTT}) AND period IN (DATE '{T0}', DATE '{T1}')
                  AND put_call = ''
            )
            SELECT * FROM p WHERE cik IN ({BRK}, {ELLIOTT})
            UNION ALL
            SELECT p.* FROM p JOIN names c
              ON p.issuer_id = c.issuer_id AND p.ticker IS NOT DISTINCT FROM c.ticker
            WHERE p.period IN (DATE '{T0}', DATE '{T1}') AND p.cik NOT IN ({BRK}, {ELLIOTT})
        ) TO '{out}' (FORMAT parquet)
    """)
    return out


@pytest.fixture(scope="module")
def flows(small: Path) -> pl.DataFrame:
    panel = load_file(small, "13f")
    out = holdings_flows(panel)
    assert isinstance(out, pl.DataFrame)
    return out


def raw(sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW r AS {_RAW}")
    return con.execute(sql).fetchall()


def test_berkshire_flows_by_name(flows: pl.DataFrame) -> None:
    # flow = (n_t - n_{t-1}) * P_t with P_t = value_t / n_t, the filing's own price
    expected = raw(f"""
        SELECT b.a, (b.n - a.n) * b.v / b.n
        FROM (SELECT * FROM r WHERE cik = {BRK} AND period = DATE '{T0}' AND pc = '') a
        JOIN (SELECT * FROM r WHERE cik = {BRK} AND period = DATE '{T1}' AND pc = '') b
          USING (a, sp)
        WHERE b.a LIKE '%:AAPL' OR b.a LIKE '%:GOOGL' OR b.a LIKE '%:CVX' OR b.a LIKE '%:OXY'
        ORDER BY b.a
    """)
    assert len(expected) == 4
    got = (
        flows.filter((pl.col("investor_id") == BRK_ID) & (pl.col("date") == T1))
        .filter(pl.col("asset_id").is_in([a for a, _ in expected]))
        .sort("asset_id")
    )
    assert got["asset_id"].to_list() == [a for a, _ in expected]
    assert got["flow"].to_list() == pytest.approx([f for _, f in expected], rel=1e-12)
    assert got["flow_note"].null_count() == 4
    googl = dict(expected)[next(a for a, _ in expected if a.endswith(":GOOGL"))]
    assert googl > 1e10  # Berkshire bought about $10.5bn of Alphabet in 2026Q1


def test_berkshire_totals_match_the_filings_csv(flows: pl.DataFrame) -> None:
    reported = dict(
        duckdb.execute(
            f"SELECT DISTINCT period, reported_total_usd FROM read_csv('{FILINGS}') "
            f"WHERE cik = {BRK} AND period IN (DATE '{T0}', DATE '{T1}')"
        ).fetchall()
    )
    q1 = flows.filter((pl.col("investor_id") == BRK_ID) & (pl.col("date") == T1))
    assert q1["flow"].null_count() == 0  # every share position priced, closes included
    assert q1["value"].sum() == reported[T1] == 263_095_703_570
    assert q1["value_prev"].sum() == reported[T0] == 274_160_086_701


def test_flow_plus_return_effect_is_the_value_change(flows: pl.DataFrame) -> None:
    # return effect n_{t-1} (P_t - P_{t-1}); a close's P_t is the median implied price of the
    # asset among the filers that hold it at t (all of them are in the small file)
    ((ret, dvalue, n_closes),) = raw(f"""
        WITH a AS (SELECT * FROM r WHERE cik = {BRK} AND period = DATE '{T0}'),
        b AS (SELECT * FROM r WHERE cik = {BRK} AND period = DATE '{T1}'),
        med AS (
            SELECT a, median(v / n) AS px FROM r
            WHERE period = DATE '{T1}' AND pc = '' AND sp = 'SH' AND n > 0 AND v > 0
            GROUP BY a
        )
        SELECT sum(CASE WHEN b.a IS NULL THEN a.n * (m.px - a.v / a.n)
                        WHEN a.a IS NULL THEN 0 ELSE a.n * (b.v / b.n - a.v / a.n) END),
               sum(coalesce(b.v, 0) - coalesce(a.v, 0)),
               count_if(b.a IS NULL)
        FROM a FULL JOIN b USING (a, pc, sp) LEFT JOIN med m ON m.a = coalesce(a.a, b.a)
    """)
    q1 = flows.filter((pl.col("investor_id") == BRK_ID) & (pl.col("date") == T1))
    assert n_closes == note_counts(q1)["close"] == 16
    assert dvalue == pytest.approx(263_095_703_570 - 274_160_086_701, abs=0.5)
    assert q1["flow"].sum() + ret == pytest.approx(dvalue, abs=1.0)
    assert (q1["value"] - q1["value_prev"]).sum() == pytest.approx(dvalue, abs=0.5)


def test_options_gap_and_duplicates(flows: pl.DataFrame) -> None:
    elliott = flows.filter(pl.col("investor_id") == ELLIOTT_ID)
    ((options_t1, keys_t0, dup_lines),) = raw(f"""
        SELECT
          (SELECT count(*) FROM r WHERE cik = {ELLIOTT} AND period = DATE '{T1}' AND pc <> ''),
          (SELECT count(*) FROM r WHERE cik = {ELLIOTT} AND period = DATE '{T0}'),
          (SELECT count(*) FROM read_parquet('{PANEL}') WHERE cik = {ELLIOTT})
            - (SELECT count(*) FROM r WHERE cik = {ELLIOTT})
    """)
    assert dup_lines == 1  # one duplicate line, summed into its key
    # options carry the underlying's value: kept apart, no share flow
    t1 = elliott.filter(pl.col("date") == T1)
    opts = t1.filter(pl.col("put_call") != "")
    assert opts.height >= options_t1 > 0
    assert set(opts["flow_note"]) == {"not_shares"}
    assert opts["flow"].null_count() == opts.height
    # 2024-12-31 -> 2025-12-31 skips three quarters: no flow, every row a gap (or an option)
    t0 = elliott.filter(pl.col("date") == T0)
    assert t0["flow"].null_count() == t0.height >= keys_t0
    assert set(t0["flow_note"]) <= {"gap", "not_shares"}
    # the consecutive pair has flows
    shares_t1 = t1.filter(pl.col("put_call") == "")
    assert shares_t1["flow"].null_count() < shares_t1.height


def test_format_is_recognised_and_named(small: Path) -> None:
    con = duckdb.connect()
    scan = scan_source(con, small, "13f")
    named = scan_source(con, small, "holdings", fmt="ceekay13f")
    assert (scan.format, scan.inferred, named.inferred) == ("ceekay13f", True, False)
    ((lines, keys),) = raw(
        f"SELECT (SELECT count(*) FROM read_parquet('{small}')), "
        f"(SELECT count(*) FROM (SELECT DISTINCT cik, period, issuer_id, ticker, put_call, "
        f"sshprnamt_type FROM read_parquet('{small}')))"
    )
    assert scan.notes["rows_read"] == lines
    assert scan.notes["rows_summed"] == lines - keys
    assert scan.relation.count("*").fetchall() == [(keys,)]


def test_bad_shares_name_the_filing(tmp_path: Path, small: Path) -> None:
    bad = tmp_path / "bad.parquet"
    duckdb.execute(
        f"COPY (SELECT * REPLACE (CASE WHEN ticker = 'AAPL' AND cik = {BRK} THEN NULL "
        f"ELSE sshprnamt END AS sshprnamt) FROM read_parquet('{small}')) TO '{bad}'"
    )
    with pytest.raises(DataError, match=r"field 'sshprnamt'.*cik=0001067983.*expected a number"):
        load_file(bad, "13f")


def test_file_and_store_agree(tmp_path: Path, small: Path) -> None:
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", "13f", str(small), "--db", str(db), "--json"])
    assert ingest.exit_code == 0, ingest.output
    notes = json.loads(ingest.stdout)["notes"]
    assert notes["format"] == "ceekay13f"
    assert notes["format_inferred"] is True
    by_values = ["--prices", "values", "--json"]
    from_file = runner.invoke(app, ["flows", "holdings", str(small), *by_values])
    from_store = runner.invoke(app, ["flows", "holdings", "holdings", "--db", str(db), *by_values])
    assert from_file.exit_code == 0, from_file.output
    assert from_store.exit_code == 0, from_store.output
    assert "priced by the holdings' own values" in from_file.stderr

    def rows(text: str) -> list[dict[str, Any]]:
        key = ("investor_id", "asset_id", "date", "put_call", "sh_prn")
        return sorted(json.loads(text), key=lambda r: tuple(str(r[k]) for k in key))

    a, b = rows(from_file.stdout), rows(from_store.stdout)
    assert len(a) == len(b) > 0
    assert a == b


@pytest.mark.slow
def test_whole_panel_through_the_store(tmp_path: Path) -> None:
    ((filers, pair_filers, corrected_rows),) = duckdb.execute(f"""
        WITH p AS (SELECT * FROM read_parquet('{PANEL}')),
        med AS (
            SELECT cik, period, median(value_usd / sshprnamt) AS m, count(*) AS n FROM p
            WHERE put_call = '' AND sshprnamt_type = 'SH' AND sshprnamt > 0 GROUP BY ALL
        )
        SELECT (SELECT count(DISTINCT cik) FROM p),
               (SELECT count(*) FROM (SELECT cik FROM p WHERE period = DATE '{T0}'
                                      INTERSECT SELECT cik FROM p WHERE period = DATE '{T1}')),
               (SELECT count(*) FROM p JOIN med USING (cik, period) WHERE m > 5000)
    """).fetchall()
    assert (filers, pair_filers) == (225, 200)  # MANIFEST says 208 filers with both quarters
    with Store(tmp_path / "all.duckdb") as store:
        result = store.ingest("13f", PANEL)
        stored = store.con.execute(
            "SELECT count(DISTINCT investor_id), count(*) FROM holdings"
        ).fetchall()
        gtx = store.con.execute(
            "SELECT value / shares FROM holdings WHERE investor_id = '0001484836' "
            "AND date = DATE '2024-12-31' AND asset_id LIKE '%:GTX'"
        ).fetchall()
    assert stored[0][0] == 225
    assert stored[0][1] == result.rows
    assert result.notes["filers"] == 225
    assert result.notes["filers_with_consecutive_pair"] >= pair_filers
    # Centerbridge 2024Q4 and Sculptor 2025Q1 were multiplied by 1000 once too often
    assert result.notes["rows_units_corrected"] == corrected_rows == 15
    assert sorted(result.notes["units_corrected"]) == [
        "0001054587 2025-03-31",
        "0001484836 2024-12-31",
    ]
    assert gtx[0][0] == pytest.approx(9.03, abs=1e-6)  # Garrett Motion at $9.03, not $9,030
