"""The SEC Form 13F data-set loader: merges, amendments, units, PRN, notices and bad inputs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
import zipfile
from pathlib import Path

import duckdb
import pytest

from flowpressure import ConfigError, DataError, SchemaError
from flowpressure.data._sec13f import Holdings13F, load_13f
from tests.data.sec13f_fixture import MEMBERS, Filing, edgartools_sample, line, write_13f_zip

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
D = dt.date
Q4 = D(2024, 12, 31)
AAPL, MSFT, GOOGL, NVDA, UST = "037833100", "594918104", "02079K305", "67066G104", "912828YK0"


def scenario() -> tuple[list[Filing], list[dict[str, str]]]:
    """Five filers, one rule each (the letters match the brief's list)."""
    a1 = "0000001001-25-000001"
    b1, b_new, b_restated = "0000001002-25-000001", "0000001002-25-000002", "0000001002-25-000003"
    c1, c_new = "0000001003-25-000001", "0000001003-25-000002"
    d_2022, d_2023 = "0000001004-22-000001", "0000001004-23-000001"
    filings = [
        Filing(a1, "1001", Q4, D(2025, 2, 10)),
        Filing(b1, "1002", Q4, D(2025, 2, 1)),
        Filing(b_new, "1002", Q4, D(2025, 2, 15), "13F-HR/A", "NEW HOLDINGS", "1"),
        Filing(b_restated, "1002", Q4, D(2025, 3, 1), "13F-HR/A", "RESTATEMENT", "2"),
        Filing(c1, "1003", Q4, D(2025, 2, 5)),
        Filing(c_new, "1003", Q4, D(2025, 2, 20), "13F-HR/A", "NEW HOLDINGS", "1"),
        Filing(d_2022, "1004", D(2022, 9, 30), D(2022, 11, 14)),
        Filing(d_2023, "1004", D(2022, 12, 31), D(2023, 1, 3)),
        Filing(
            "0000001005-25-000001", "1005", Q4, D(2025, 2, 14), "13F-NT", report_type="13F NOTICE"
        ),
    ]
    lines = [
        # (a) one position split over two other managers; (e) a put and a call on the same CUSIP
        line(a1, 1, AAPL, 20000, 100, issuer="APPLE INC", other_manager="1"),
        line(a1, 2, AAPL, 10000, 50, issuer="APPLE INC", other_manager="2", discretion="DFND"),
        line(a1, 3, AAPL, 2000, 10, issuer="APPLE INC", title="PUT", put_call="Put"),
        line(a1, 4, AAPL, 4000, 20, issuer="APPLE INC", title="CALL", put_call="CALL"),
        # (f) principal amount of a Treasury note
        line(a1, 5, UST, 990000, 1000000, issuer="US TREASURY N/B", title="NOTE", sh_prn="PRN"),
        # (b) original, a NEW HOLDINGS filed before the restatement, then the restatement
        line(b1, 6, MSFT, 40000, 100, issuer="MICROSOFT CORP"),
        line(b1, 7, GOOGL, 1500, 10, issuer="ALPHABET INC"),
        line(b_new, 8, NVDA, 700, 5, issuer="NVIDIA CORPORATION"),
        line(b_restated, 9, MSFT, 48000, 120, issuer="MICROSOFT CORP"),
        # (c) original plus NEW HOLDINGS: one new CUSIP, one on a key already held
        line(c1, 10, MSFT, 4000, 10, issuer="MICROSOFT CORP"),
        line(c_new, 11, NVDA, 4200, 30, issuer="NVIDIA CORPORATION"),
        line(c_new, 12, MSFT, 2000, 5, issuer="MICROSOFT CORPORATION"),
        # (d) filed before 2023-01-03: thousands; filed on 2023-01-03: dollars
        line(d_2022, 13, AAPL, 15, 100, issuer="APPLE INC"),
        line(d_2023, 14, AAPL.lower(), 13000, 100, issuer="APPLE INC"),
    ]
    return filings, lines


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@pytest.fixture
def scenario_zip(tmp_path: Path) -> Path:
    filings, lines = scenario()
    return write_13f_zip(tmp_path / "2025q1_form13f.zip", filings, lines)


def panel(con: duckdb.DuckDBPyConnection, table: str = "_stage_13f") -> list[tuple[object, ...]]:
    return con.execute(
        f"SELECT investor_id, asset_id, date, shares, value, put_call, sh_prn FROM {table}"
    ).fetchall()


def test_scenario_panel(con: duckdb.DuckDBPyConnection, scenario_zip: Path) -> None:
    load_13f(scenario_zip, con)
    assert panel(con) == [
        ("0000001001", AAPL, Q4, 150.0, 30000.0, "", "SH"),  # (a) 100 + 50, 20000 + 10000
        ("0000001001", AAPL, Q4, 20.0, 4000.0, "CALL", "SH"),  # (e)
        ("0000001001", AAPL, Q4, 10.0, 2000.0, "PUT", "SH"),  # (e) 'Put' upper-cased
        ("0000001001", UST, Q4, 1_000_000.0, 990000.0, "", "PRN"),  # (f)
        ("0000001002", MSFT, Q4, 120.0, 48000.0, "", "SH"),  # (b) restated; GOOGL and NVDA gone
        ("0000001003", MSFT, Q4, 15.0, 6000.0, "", "SH"),  # (c) 10 + 5 on the same key
        ("0000001003", NVDA, Q4, 30.0, 4200.0, "", "SH"),  # (c) added
        ("0000001004", AAPL, D(2022, 9, 30), 100.0, 15000.0, "", "SH"),  # (d) 15 thousand
        ("0000001004", AAPL, D(2022, 12, 31), 100.0, 13000.0, "", "SH"),  # (d) dollars
    ]


def test_scenario_diagnostics(con: duckdb.DuckDBPyConnection, scenario_zip: Path) -> None:
    diag = load_13f(scenario_zip, con)
    assert diag == Holdings13F(
        rows=9,
        filers=4,
        periods=3,
        lines_read=14,
        merged_lines=2,  # (a) the second other-manager line, (c) MSFT added onto MSFT
        restatements_applied=1,
        new_holdings_applied=1,  # C's; B's was filed before B's restatement
        notices_skipped=1,  # (g)
        value_scaled_from_thousands=1,
        prn_rows=1,
        filings_superseded=2,  # B's original and B's early NEW HOLDINGS
        amendments_unknown_type=0,
        amendments_without_original=0,
        lines_dropped=3,  # GOOGL + MSFT of B's original, NVDA of B's early NEW HOLDINGS
    )
    assert diag.lines_read == diag.rows + diag.merged_lines + diag.lines_dropped


def test_last_contributing_filing(con: duckdb.DuckDBPyConnection, scenario_zip: Path) -> None:
    load_13f(scenario_zip, con)
    got = con.execute(
        "SELECT investor_id, asset_id, name_of_issuer, title_of_class, filing_date, "
        "accession_number FROM _stage_13f WHERE investor_id IN ('0000001002', '0000001003') "
    ).fetchall()
    assert got == [
        ("0000001002", MSFT, "MICROSOFT CORP", "COM", D(2025, 3, 1), "0000001002-25-000003"),
        (
            "0000001003",
            MSFT,
            "MICROSOFT CORPORATION",
            "COM",
            D(2025, 2, 20),
            "0000001003-25-000002",
        ),
        ("0000001003", NVDA, "NVIDIA CORPORATION", "COM", D(2025, 2, 20), "0000001003-25-000002"),
    ]


def test_output_columns_and_temp_table(con: duckdb.DuckDBPyConnection, scenario_zip: Path) -> None:
    load_13f(scenario_zip, con)
    described = con.execute("DESCRIBE _stage_13f").fetchall()
    assert [(r[0], r[1]) for r in described] == [
        ("investor_id", "VARCHAR"),
        ("asset_id", "VARCHAR"),
        ("date", "DATE"),
        ("shares", "DOUBLE"),
        ("value", "DOUBLE"),
        ("put_call", "VARCHAR"),
        ("sh_prn", "VARCHAR"),
        ("name_of_issuer", "VARCHAR"),
        ("title_of_class", "VARCHAR"),
        ("filing_date", "DATE"),
        ("accession_number", "VARCHAR"),
    ]
    tables = con.execute("SELECT table_name, temporary FROM duckdb_tables()").fetchall()
    assert tables == [("_stage_13f", True)]  # the intermediate tables are gone


def test_reload_replaces_and_custom_table(
    con: duckdb.DuckDBPyConnection, scenario_zip: Path
) -> None:
    load_13f(scenario_zip, con)
    load_13f(str(scenario_zip), con)
    assert con.execute("SELECT count(*) FROM _stage_13f").fetchone() == (9,)
    diag = load_13f(scenario_zip, con, table="q1")
    assert diag.rows == 9
    assert panel(con, "q1") == panel(con)


def test_temp_dir_removed(
    con: duckdb.DuckDBPyConnection,
    scenario_zip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    load_13f(scenario_zip, con)
    assert list(scratch.iterdir()) == []
    filings, lines = scenario()
    lines[0]["VALUE"] = "n/a"
    bad = write_13f_zip(tmp_path / "bad.zip", filings, lines)
    with pytest.raises(DataError):
        load_13f(bad, con)
    assert list(scratch.iterdir()) == []


def test_quotes_in_names_are_text(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    acc = "0000000007-25-000001"
    zpath = write_13f_zip(
        tmp_path / "q.zip",
        [Filing(acc, "7", Q4, D(2025, 2, 1))],
        [line(acc, 1, AAPL, 100, 1, issuer='THE "QUOTED" CO', title='CL "A"')],
    )
    load_13f(zpath, con)
    assert con.execute("SELECT name_of_issuer, title_of_class FROM _stage_13f").fetchall() == [
        ('THE "QUOTED" CO', 'CL "A"')
    ]


def test_amendment_without_original_and_unknown_type(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    added, unknown = "0000000008-25-000001", "0000000009-25-000001"
    filings = [
        Filing(added, "8", D(2024, 9, 30), D(2025, 1, 10), "13F-HR/A", "NEW HOLDINGS"),
        Filing(unknown, "9", Q4, D(2025, 2, 1), "13F-HR/A", ""),
    ]
    lines = [line(added, 1, MSFT, 500, 2), line(unknown, 2, MSFT, 700, 3)]
    diag = load_13f(write_13f_zip(tmp_path / "a.zip", filings, lines), con)
    assert panel(con) == [("0000000008", MSFT, D(2024, 9, 30), 2.0, 500.0, "", "SH")]
    assert (diag.amendments_without_original, diag.new_holdings_applied) == (1, 1)
    assert (diag.amendments_unknown_type, diag.lines_dropped, diag.rows) == (1, 1, 1)


def test_second_original_replaces_first(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    first, second = "0000000010-25-000001", "0000000010-25-000002"
    filings = [Filing(second, "10", Q4, D(2025, 2, 1)), Filing(first, "10", Q4, D(2025, 2, 1))]
    lines = [line(first, 1, MSFT, 100, 1), line(second, 2, MSFT, 300, 3)]
    diag = load_13f(write_13f_zip(tmp_path / "o.zip", filings, lines), con)
    # same filing date: the accession number orders them, so "-000002" is the later one
    assert panel(con) == [("0000000010", MSFT, Q4, 3.0, 300.0, "", "SH")]
    assert (diag.filings_superseded, diag.lines_dropped) == (1, 1)


# --- real reference material -------------------------------------------------------------


def test_fixture_columns_match_sec_metadata() -> None:
    meta_path = SHARED / "13f" / "SEC_FORM13F_metadata.json"
    if not meta_path.exists():
        pytest.skip("shared/data/13f/SEC_FORM13F_metadata.json is absent")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["dialect"]["delimiter"] == "\t"
    sec = {t["url"]: tuple(c["name"] for c in t["tableSchema"]["columns"]) for t in meta["tables"]}
    assert sec == MEMBERS


def test_edgartools_sample_round_trip(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    csv_path = SHARED / "13f" / "edgartools_13f_infotable_samples.csv"
    if not csv_path.exists():
        pytest.skip("shared/data/13f/edgartools_13f_infotable_samples.csv is absent")
    filings, lines = edgartools_sample(csv_path)
    assert len(lines) == 346
    diag = load_13f(write_13f_zip(tmp_path / "real.zip", filings, lines), con)
    # every (filer, CUSIP, put/call, SH/PRN) is distinct in the sample: nothing to merge
    assert (diag.rows, diag.merged_lines, diag.filers, diag.periods) == (346, 0, 3, 3)
    assert (diag.prn_rows, diag.value_scaled_from_thousands, diag.lines_dropped) == (3, 0, 0)
    assert con.execute("SELECT sum(value), sum(shares) FROM _stage_13f").fetchone() == (
        999_691_252.0,
        11_641_622.0,
    )
    by_filer = con.execute(
        "SELECT investor_id, date, count(*), sum(value) FROM _stage_13f GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert by_filer == [
        ("0000999999", D(2023, 3, 31), 255, 350_153_407.0),
        ("0001894188", D(2023, 9, 30), 14, 454_926_000.0),
        ("0001994827", D(2024, 12, 31), 77, 194_611_845.0),
    ]
    abbvie = con.execute(
        "SELECT name_of_issuer, title_of_class, shares, value, filing_date, accession_number "
        "FROM _stage_13f WHERE investor_id = '0001994827' AND asset_id = '00287Y109'"
    ).fetchall()
    assert abbvie == [
        ("ABBVIE INC", "COM", 2289.0, 406755.0, D(2025, 1, 22), "0001951757-25-000093")
    ]


def test_pre_2023_filer_reporting_dollars_is_not_scaled(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Issue 12 defect 6: the unidentified edgartools filer, filed before 2023-01-03.

    Its information table looks pre-2023 but is in dollars; the date rule alone made AT&T
    $27,010 a share. The implied prices of the filing decide: dollars.
    """
    csv_path = SHARED / "13f" / "edgartools_13f_infotable_samples.csv"
    if not csv_path.exists():
        pytest.skip("shared/data/13f/edgartools_13f_infotable_samples.csv is absent")
    filings, lines = edgartools_sample(csv_path)
    unidentified = "0000999999-23-000001"
    filings = [
        dataclasses.replace(f, period=D(2022, 3, 31), filing_date=D(2022, 5, 16))
        if f.accession == unidentified
        else f
        for f in filings
    ]
    diag = load_13f(write_13f_zip(tmp_path / "pre2023.zip", filings, lines), con)
    raw = duckdb.connect()
    src = f"read_csv('{csv_path}', all_varchar=true)"
    # computed on the raw file: AT&T's own implied price, the lines of the filing, and the
    # share lines whose price is outside $1-$5,000 in dollars (all three filings are dollars)
    att_value, att_shares = raw.execute(
        f"SELECT VALUE::DOUBLE, SSHPRNAMT::DOUBLE FROM {src} WHERE CUSIP = '00206R102'"
    ).fetchone()  # type: ignore[misc]
    n_unidentified, n_doubtful = raw.execute(
        f"SELECT count_if(CIK IS NULL), count_if(SSHPRNAMTTYPE = 'SH' AND PUTCALL IS NULL "
        f"AND (SSHPRNAMT::DOUBLE <= 0 OR NOT VALUE::DOUBLE / SSHPRNAMT::DOUBLE "
        f"BETWEEN 1 AND 5000)) FROM {src}"
    ).fetchone()  # type: ignore[misc]
    assert (att_value, att_shares, n_unidentified) == (1_805_042.0, 66_828.0, 255)
    price = con.execute(
        "SELECT value / shares FROM _stage_13f WHERE investor_id = '0000999999' "
        "AND asset_id = '00206R102'"
    ).fetchone()
    assert price is not None
    assert price[0] == pytest.approx(att_value / att_shares)  # $27.01, not $27,010
    assert 20 < price[0] < 35
    assert diag.units_corrected == {unidentified: "dollars"}
    assert (diag.filings_units_corrected, diag.rows_units_corrected) == (1, n_unidentified)
    assert diag.value_scaled_from_thousands == 0
    assert diag.rows_units_doubtful == n_doubtful
    # the panel's total is the raw file's total: nothing was multiplied by 1000
    assert con.execute("SELECT sum(value) FROM _stage_13f").fetchone() == (999_691_252.0,)


def test_post_2023_filer_reporting_thousands(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    dollars, thousands, both = "0000000021-25-000001", "0000000022-25-000001", "0000000023-25-1"
    filings = [
        Filing(dollars, "21", Q4, D(2025, 2, 1)),
        Filing(thousands, "22", Q4, D(2025, 2, 1)),
        Filing(both, "23", Q4, D(2025, 2, 1)),
    ]
    lines = [
        line(dollars, 1, MSFT, 40_000, 100),
        line(dollars, 2, NVDA, 5, 100),  # $0.05 a share: doubtful, kept
        line(thousands, 3, MSFT, 40, 100),  # $0.40 as dollars, $400 as thousands
        line(thousands, 4, NVDA, 14, 100),
        line(thousands, 5, UST, 990, 1_000_000, sh_prn="PRN"),  # not evidence, scaled too
        line(both, 6, AAPL, 300, 100),  # $3 or $3,000: both plausible, the rule decides
    ]
    diag = load_13f(write_13f_zip(tmp_path / "t.zip", filings, lines), con)
    values = con.execute("SELECT investor_id, asset_id, value FROM _stage_13f").fetchall()
    assert values == [
        ("0000000021", MSFT, 40_000.0),
        ("0000000021", NVDA, 5.0),
        ("0000000022", MSFT, 40_000.0),
        ("0000000022", NVDA, 14_000.0),
        ("0000000022", UST, 990_000.0),
        ("0000000023", AAPL, 300.0),
    ]
    assert diag.units_corrected == {thousands: "thousands"}
    assert (diag.filings_units_corrected, diag.rows_units_corrected) == (1, 3)
    assert (diag.rows_units_doubtful, diag.filings_units_ambiguous) == (1, 1)
    assert diag.value_scaled_from_thousands == 3


# --- bad inputs ---------------------------------------------------------------------------


def test_truncated_zip(con: duckdb.DuckDBPyConnection, scenario_zip: Path, tmp_path: Path) -> None:
    data = scenario_zip.read_bytes()
    cut = tmp_path / "cut_form13f.zip"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut_form13f\.zip.*truncated or not a zip"):
        load_13f(cut, con)


def test_corrupt_member(con: duckdb.DuckDBPyConnection, scenario_zip: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(scenario_zip) as zf:
        info = zf.getinfo("INFOTABLE.tsv")
    data = bytearray(scenario_zip.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(info.compress_size // 3, info.compress_size // 3 + 8):
        data[start + k] ^= 0xFF
    bad = tmp_path / "crc_form13f.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"crc_form13f\.zip.*truncated or not a zip"):
        load_13f(bad, con)


def test_not_a_zip(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    text = tmp_path / "INFOTABLE.tsv"
    text.write_text("ACCESSION_NUMBER\tINFOTABLE_SK\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"INFOTABLE\.tsv: truncated or not a zip"):
        load_13f(text, con)


def test_missing_path(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="path") as info:
        load_13f(tmp_path / "nope.zip", con)
    assert info.value.field == "path"


def test_bad_table_name(con: duckdb.DuckDBPyConnection, scenario_zip: Path) -> None:
    with pytest.raises(ConfigError, match="table"):
        load_13f(scenario_zip, con, table='x"; DROP TABLE y; --')


def test_missing_member(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    zpath = write_13f_zip(tmp_path / "m.zip", filings, lines, drop_members=["COVERPAGE.tsv"])
    with pytest.raises(SchemaError, match=r"'COVERPAGE\.tsv' is missing") as info:
        load_13f(zpath, con)
    assert info.value.field == "COVERPAGE.tsv"
    assert "'INFOTABLE.tsv'" in str(info.value)
    assert "'SUBMISSION.tsv'" in str(info.value)


def test_missing_column(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    zpath = write_13f_zip(
        tmp_path / "c.zip", filings, lines, drop_columns={"INFOTABLE.tsv": ["SSHPRNAMTTYPE"]}
    )
    with pytest.raises(SchemaError, match=r"INFOTABLE\.tsv: column 'SSHPRNAMTTYPE' is missing"):
        load_13f(zpath, con)


def test_text_in_value(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    lines[12]["VALUE"] = "1,5"  # sk 13
    lines[5]["VALUE"] = "n/a"  # sk 6, the smaller key: reported first
    with pytest.raises(DataError) as info:
        load_13f(write_13f_zip(tmp_path / "v.zip", filings, lines), con)
    err = info.value
    assert (err.field, err.got, err.others) == ("VALUE", "n/a", 1)
    assert err.key == {"accession_number": "0000001002-25-000001", "infotable_sk": "6"}
    assert "1 other row" in str(err)


def test_text_in_shares(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    lines[0]["SSHPRNAMT"] = "lots"
    with pytest.raises(DataError, match="SSHPRNAMT") as info:
        load_13f(write_13f_zip(tmp_path / "s.zip", filings, lines), con)
    assert (info.value.got, info.value.others) == ("lots", 0)


def test_bad_date(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    filings[2] = Filing(filings[2].accession, "1002", Q4, "31-FOO-2025", "13F-HR/A", "NEW HOLDINGS")
    with pytest.raises(DataError, match="FILING_DATE") as info:
        load_13f(write_13f_zip(tmp_path / "d.zip", filings, lines), con)
    assert info.value.key == {"accession_number": "0000001002-25-000002"}
    assert info.value.got == "31-FOO-2025"


def test_bad_period(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    filings[0] = Filing(filings[0].accession, "1001", "2024-13-45", D(2025, 2, 10))
    with pytest.raises(DataError, match="PERIODOFREPORT"):
        load_13f(write_13f_zip(tmp_path / "p.zip", filings, lines), con)


def test_short_cusip(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    lines[3]["CUSIP"] = "03783310"
    lines[4]["CUSIP"] = ""
    with pytest.raises(DataError, match="CUSIP") as info:
        load_13f(write_13f_zip(tmp_path / "u.zip", filings, lines), con)
    assert info.value.key == {"accession_number": "0000001001-25-000001", "infotable_sk": "4"}
    assert (info.value.got, info.value.others) == ("03783310", 1)


@pytest.mark.parametrize(
    ("column", "bad", "field"),
    [("SSHPRNAMTTYPE", "SHS", "SSHPRNAMTTYPE"), ("PUTCALL", "STRADDLE", "PUTCALL")],
)
def test_bad_codes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, column: str, bad: str, field: str
) -> None:
    filings, lines = scenario()
    lines[7][column] = bad
    with pytest.raises(DataError, match=field) as info:
        load_13f(write_13f_zip(tmp_path / "k.zip", filings, lines), con)
    assert info.value.got == bad


def test_line_of_unknown_filing(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    lines.append(line("0000009999-25-000001", 99, MSFT, 1, 1))
    with pytest.raises(DataError, match=r"SUBMISSION\.tsv"):
        load_13f(write_13f_zip(tmp_path / "x.zip", filings, lines), con)


def test_ragged_row(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    zpath = write_13f_zip(tmp_path / "r.zip", filings, lines)
    with zipfile.ZipFile(zpath) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["INFOTABLE.tsv"] += b"0000001001-25-000001\t77\tSHORT ROW\n"
    with zipfile.ZipFile(zpath, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(DataError, match=r"INFOTABLE\.tsv: not readable"):
        load_13f(zpath, con)


def test_connection_settings_restored(con: duckdb.DuckDBPyConnection, scenario_zip: Path) -> None:
    setting = "SELECT current_setting('enable_progress_bar')"
    before = con.execute(setting).fetchone()
    load_13f(scenario_zip, con)
    assert con.execute(setting).fetchone() == before


def test_cik_not_digits(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    filings[4] = Filing(filings[4].accession, "CIK1003", Q4, D(2025, 2, 5))
    with pytest.raises(DataError, match="CIK") as info:
        load_13f(write_13f_zip(tmp_path / "k.zip", filings, lines), con)
    assert info.value.key == {"accession_number": "0000001003-25-000001"}
    assert info.value.got == "CIK1003"


def test_repeated_accession(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    filings, lines = scenario()
    filings.append(filings[0])
    with pytest.raises(DataError, match=r"SUBMISSION\.tsv:ACCESSION_NUMBER") as info:
        load_13f(write_13f_zip(tmp_path / "r.zip", filings, lines), con)
    assert info.value.key == {"accession_number": "0000001001-25-000001"}
