"""Benchmark: load a full-size SEC Form 13F quarter (about 3,000,000 INFOTABLE lines).

Run with ``.venv/bin/python benchmarks/bench_13f.py`` (``--lines`` / ``--filers`` to resize).
A child process writes a synthetic quarter in the SEC's layout (DuckDB ``COPY`` to TSV, then a
deflated zip) into a temporary directory; this process then times :func:`load_13f` into an
on-disk DuckDB file and prints the rows, the seconds and its own peak RSS (the generator's
memory is not counted: it ran in the child).

The quarter looks like a 2025 Q1 data set: ~8,000 holdings filers with a skewed number of
lines (the largest ~33,000), 1,000 13F-NT notices, NEW HOLDINGS amendments (1 filer in 20),
restatements (1 in 25), late amendments of the previous period, other-manager splits (one line
in five repeats a key), puts and calls (2 in 53 lines) and PRN lines (1 in 97).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb

from flowpressure.data import Store
from flowpressure.data._sec13f import load_13f

MEMBERS = {
    "SUBMISSION.tsv": "ACCESSION_NUMBER FILING_DATE SUBMISSIONTYPE CIK PERIODOFREPORT",
    "COVERPAGE.tsv": (
        "ACCESSION_NUMBER REPORTCALENDARORQUARTER ISAMENDMENT AMENDMENTNO AMENDMENTTYPE "
        "CONFDENIEDEXPIRED DATEDENIEDEXPIRED DATEREPORTED REASONFORNONCONFIDENTIALITY "
        "FILINGMANAGER_NAME FILINGMANAGER_STREET1 FILINGMANAGER_STREET2 FILINGMANAGER_CITY "
        "FILINGMANAGER_STATEORCOUNTRY FILINGMANAGER_ZIPCODE REPORTTYPE FORM13FFILENUMBER "
        "CRDNUMBER SECFILENUMBER PROVIDEINFOFORINSTRUCTION5 ADDITIONALINFORMATION"
    ),
    "OTHERMANAGER.tsv": "ACCESSION_NUMBER OTHERMANAGER_SK CIK FORM13FFILENUMBER CRDNUMBER "
    "SECFILENUMBER NAME",
    "SIGNATURE.tsv": "ACCESSION_NUMBER NAME TITLE PHONE SIGNATURE CITY STATEORCOUNTRY "
    "SIGNATUREDATE",
    "SUMMARYPAGE.tsv": "ACCESSION_NUMBER OTHERINCLUDEDMANAGERSCOUNT TABLEENTRYTOTAL "
    "TABLEVALUETOTAL ISCONFIDENTIALOMITTED",
    "OTHERMANAGER2.tsv": "ACCESSION_NUMBER SEQUENCENUMBER CIK FORM13FFILENUMBER CRDNUMBER "
    "SECFILENUMBER NAME",
    "INFOTABLE.tsv": (
        "ACCESSION_NUMBER INFOTABLE_SK NAMEOFISSUER TITLEOFCLASS CUSIP FIGI VALUE SSHPRNAMT "
        "SSHPRNAMTTYPE PUTCALL INVESTMENTDISCRETION OTHERMANAGER VOTING_AUTH_SOLE "
        "VOTING_AUTH_SHARED VOTING_AUTH_NONE"
    ),
}

SEC_DATE = "upper(strftime({}, '%d-%b-%Y'))"


def generate(out: Path, n_lines: int, n_filers: int, n_notices: int = 1000) -> Path:
    """Write a synthetic quarter as ``out/2025q1_form13f.zip``; return the zip's path."""
    work = out / "tsv"
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"""
        CREATE TABLE filing AS
        WITH filer AS (
            SELECT k, 1000000 + k * 13 AS cik, DATE '2025-01-02' + (k % 80)::INTEGER AS day
            FROM range({n_filers}) t(k)
        )
        SELECT k, cik, 1 AS seq, '13F-HR' AS stype, '' AS atype, DATE '2024-12-31' AS period,
               day AS filed, '13F HOLDINGS REPORT' AS rtype FROM filer
        UNION ALL SELECT k, cik, 2, '13F-HR/A', 'NEW HOLDINGS', DATE '2024-12-31', day + 10,
               '13F HOLDINGS REPORT' FROM filer WHERE k % 20 = 3
        UNION ALL SELECT k, cik, 3, '13F-HR/A', 'RESTATEMENT', DATE '2024-12-31', day + 20,
               '13F HOLDINGS REPORT' FROM filer WHERE k % 25 = 4
        UNION ALL SELECT k, cik, 4, '13F-HR/A', 'NEW HOLDINGS', DATE '2024-09-30', day + 5,
               '13F HOLDINGS REPORT' FROM filer WHERE k % 40 = 7
        UNION ALL SELECT {n_filers} + j, 9000000 + j, 1, '13F-NT', '', DATE '2024-12-31',
               DATE '2025-01-02' + (j % 80)::INTEGER, '13F NOTICE' FROM range({n_notices}) t(j)
    """)
    acc = "printf('%010d-25-%06d', cik, seq)"
    sub = f"""SELECT {acc} AS ACCESSION_NUMBER, {SEC_DATE.format("filed")} AS FILING_DATE,
                     stype AS SUBMISSIONTYPE, cik::VARCHAR AS CIK,
                     {SEC_DATE.format("period")} AS PERIODOFREPORT FROM filing ORDER BY 1"""
    cover = f"""SELECT {acc} AS ACCESSION_NUMBER,
                       {SEC_DATE.format("period")} AS REPORTCALENDARORQUARTER,
                       CASE WHEN seq > 1 THEN 'Y' ELSE 'N' END AS ISAMENDMENT,
                       CASE WHEN seq > 1 THEN (seq - 1)::VARCHAR END AS AMENDMENTNO,
                       nullif(atype, '') AS AMENDMENTTYPE,
                       NULL AS CONFDENIEDEXPIRED, NULL AS DATEDENIEDEXPIRED,
                       NULL AS DATEREPORTED, NULL AS REASONFORNONCONFIDENTIALITY,
                       'MANAGER ' || k || ' LLC' AS FILINGMANAGER_NAME,
                       k || ' MAIN ST' AS FILINGMANAGER_STREET1, NULL AS FILINGMANAGER_STREET2,
                       'NEW YORK' AS FILINGMANAGER_CITY, 'NY' AS FILINGMANAGER_STATEORCOUNTRY,
                       '10001' AS FILINGMANAGER_ZIPCODE, rtype AS REPORTTYPE,
                       '028-' || lpad(k::VARCHAR, 5, '0') AS FORM13FFILENUMBER,
                       NULL AS CRDNUMBER, NULL AS SECFILENUMBER,
                       'N' AS PROVIDEINFOFORINSTRUCTION5, NULL AS ADDITIONALINFORMATION
                FROM filing ORDER BY 1"""
    # line i belongs to filer floor(F * u^2), u = (i + 0.5) / N: a few filers hold many lines
    info = f"""
        WITH l AS (
            SELECT i, least({n_filers - 1},
                            floor({n_filers} * pow((i + 0.5) / {n_lines}, 2)))::BIGINT AS k
            FROM range({n_lines}) t(i)
        ),
        a AS (
            SELECT i, k, 1000000 + k * 13 AS cik,
                   CASE WHEN k % 40 = 7 AND i % 60 = 11 THEN 4
                        WHEN k % 25 = 4 AND i % 2 = 1 THEN 3
                        WHEN k % 20 = 3 AND i % 50 = 7 THEN 2
                        ELSE 1 END AS seq,
                   (k * 7919 + (i * 4) // 5) % 25000 AS c,
                   1 + hash(i) % 100000 AS sh
            FROM l
        )
        SELECT {acc} AS ACCESSION_NUMBER, (i + 1)::VARCHAR AS INFOTABLE_SK,
               'ISSUER ' || c || ' INC' AS NAMEOFISSUER,
               CASE WHEN i % 97 = 5 THEN 'NOTE 4.25% 2030' ELSE 'COM' END AS TITLEOFCLASS,
               lpad(c::VARCHAR, 6, '0') || chr(65 + (c % 26)::INTEGER) || '10' AS CUSIP,
               NULL AS FIGI, (sh * (5 + c % 500))::VARCHAR AS VALUE, sh::VARCHAR AS SSHPRNAMT,
               CASE WHEN i % 97 = 5 THEN 'PRN' ELSE 'SH' END AS SSHPRNAMTTYPE,
               CASE i % 53 WHEN 0 THEN 'Put' WHEN 1 THEN 'Call' END AS PUTCALL,
               CASE WHEN i % 5 = 0 THEN 'DFND' ELSE 'SOLE' END AS INVESTMENTDISCRETION,
               CASE WHEN i % 5 IN (0, 1) THEN ((i % 3) + 1)::VARCHAR END AS OTHERMANAGER,
               sh::VARCHAR AS VOTING_AUTH_SOLE, '0' AS VOTING_AUTH_SHARED,
               '0' AS VOTING_AUTH_NONE
        FROM a ORDER BY i"""
    queries = {"SUBMISSION.tsv": sub, "COVERPAGE.tsv": cover, "INFOTABLE.tsv": info}
    for member, columns in MEMBERS.items():
        target = work / member
        if member in queries:
            con.execute(
                f"COPY ({queries[member]}) TO '{target}' "
                "(FORMAT csv, DELIMITER '\t', HEADER true, QUOTE '', ESCAPE '')"
            )
        else:
            target.write_text("\t".join(columns.split()) + "\n", encoding="utf-8")
    con.close()
    zpath = out / "2025q1_form13f.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for member in MEMBERS:
            zf.write(work / member, arcname=member)
            (work / member).unlink()
    return zpath


def _generate_child(out: str, n_lines: int, n_filers: int) -> None:
    generate(Path(out), n_lines, n_filers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3_000_000)
    parser.add_argument("--filers", type=int, default=8_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-13f-") as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        child = mp.get_context("spawn").Process(
            target=_generate_child, args=(tmp, args.lines, args.filers)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            sys.exit(f"generator failed with exit code {child.exitcode}")
        zpath = out / "2025q1_form13f.zip"
        with zipfile.ZipFile(zpath) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
        print(
            f"generated {args.lines:,} INFOTABLE lines, {args.filers:,} filers: "
            f"{zpath.stat().st_size / 2**20:,.0f} MiB zip ({unpacked / 2**20:,.0f} MiB of TSV) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        con = duckdb.connect(str(out / "bench.duckdb"))
        t1 = time.perf_counter()
        diag = load_13f(zpath, con)
        seconds = time.perf_counter() - t1
        rows = con.execute("SELECT count(*) FROM _stage_13f").fetchone()
        con.close()
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"load_13f: {diag.lines_read:,} lines -> {rows[0] if rows else 0:,} rows")
        print(f"seconds: {seconds:.2f}   peak RSS: {peak_mib:,.0f} MiB")
        print(diag)
        # The whole ingest as `flowpressure ingest 13f` runs it: load, validate, overlap check,
        # ordered insert and provenance, in one transaction into a new on-disk store.
        t2 = time.perf_counter()
        with Store(out / "store.duckdb") as store:
            result = store.ingest("13f", zpath)
        ingest_s = time.perf_counter() - t2
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"Store.ingest('13f'): {result.rows:,} rows in {ingest_s:.2f} s "
            f"(target < 60 s; load_13f alone {seconds:.2f} s)   peak RSS: {peak_mib:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
