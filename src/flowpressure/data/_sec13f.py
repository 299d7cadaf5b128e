"""Loader for the SEC Form 13F data sets: the quarterly zip of tab-separated tables → holdings.

The SEC's quarterly zip (``2024q4_form13f.zip``) flattens the Form 13F XML filings into tables:
SUBMISSION.tsv (filing date, type, CIK, period), COVERPAGE.tsv (amendment flags, report type),
INFOTABLE.tsv (information-table lines keyed by ACCESSION_NUMBER, INFOTABLE_SK) and others this
loader does not need. Each has a header row, no quoting, blank for null and DD-MON-YYYY dates
(the data sets' readme, FORM13F_readme.htm, and FORM13F_metadata.json). Members are streamed to
a temporary directory and read by DuckDB; the transformation is SQL, so a full quarter (about
three million lines) never passes through Python objects.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import duckdb

from flowpressure._errors import ConfigError, DataError, SchemaError
from flowpressure.data._units13f import PRICE_RANGE, choose_units

__all__ = ["REQUIRED_COLUMNS", "Holdings13F", "load_13f"]

#: The columns read from each member (SEC names); other columns of the member are ignored.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    member: tuple(names.split())
    for member, names in {
        "SUBMISSION.tsv": "ACCESSION_NUMBER FILING_DATE SUBMISSIONTYPE CIK PERIODOFREPORT",
        "COVERPAGE.tsv": "ACCESSION_NUMBER REPORTCALENDARORQUARTER ISAMENDMENT AMENDMENTTYPE "
        "REPORTTYPE",
        "INFOTABLE.tsv": "ACCESSION_NUMBER INFOTABLE_SK NAMEOFISSUER TITLEOFCLASS CUSIP VALUE "
        "SSHPRNAMT SSHPRNAMTTYPE PUTCALL",
    }.items()
}

#: First filing date whose VALUE is in dollars; earlier filings report thousands of dollars.
DOLLARS_FROM = "2023-01-03"

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE_TEXT = "a date written DD-MON-YYYY, like 31-DEC-2024"
_NUMBER_TEXT = "a finite number"


@dataclass(frozen=True)
class Holdings13F:
    """What :func:`load_13f` did: the panel's size and every line it merged or left out.

    The counts add up: ``lines_read = rows + merged_lines + lines_dropped``.

    Parameters
    ----------
    rows, filers, periods
        Rows (distinct keys), distinct investors (CIKs) and distinct periods of the panel.
    lines_read
        INFOTABLE lines in the zip.
    merged_lines
        Lines summed into another line's key: other-manager / discretion / voting splits of a
        position, and NEW HOLDINGS lines on a key the filer already reported.
    restatements_applied
        RESTATEMENT amendments that are the latest base of their CIK and period.
    new_holdings_applied
        NEW HOLDINGS amendments added to the current holdings.
    notices_skipped
        Notice filings (13F-NT, 13F-NT/A, report type 13F NOTICE) without information table.
    value_scaled_from_thousands
        Lines whose VALUE was read as thousands of dollars (multiplied by 1000).
    prn_rows
        Panel rows of principal amounts (``sh_prn == 'PRN'``).
    filings_superseded
        Filings replaced by a later original or restatement of the same CIK and period.
    amendments_unknown_type
        Amendments whose AMENDMENTTYPE is neither RESTATEMENT nor NEW HOLDINGS (left out).
    amendments_without_original
        Applied amendments with no original 13F-HR of their CIK and period in this zip (it
        was filed in an earlier quarter's data set).
    lines_dropped
        Lines of superseded filings and of amendments of unknown type.
    filings_units_corrected
        Filings whose units were chosen against the filing-date rule, by the evidence of
        their implied prices (see :func:`choose_units`).
    rows_units_corrected
        Lines of those filings.
    rows_units_doubtful
        Share lines (SH, no put/call) whose own implied price, in the units chosen for their
        filing, is outside :data:`PRICE_RANGE` (kept as they are, counted).
    filings_units_ambiguous
        Filings whose implied prices are plausible in both units (the date rule decided).
    units_corrected
        ``{accession number: "dollars" | "thousands"}``: the unit chosen for each corrected
        filing (every other filing follows the date rule).
    """

    rows: int
    filers: int
    periods: int
    lines_read: int
    merged_lines: int
    restatements_applied: int
    new_holdings_applied: int
    notices_skipped: int
    value_scaled_from_thousands: int
    prn_rows: int
    filings_superseded: int
    amendments_unknown_type: int
    amendments_without_original: int
    lines_dropped: int
    filings_units_corrected: int = 0
    rows_units_corrected: int = 0
    rows_units_doubtful: int = 0
    filings_units_ambiguous: int = 0
    units_corrected: Mapping[str, str] = _field(default_factory=dict, kw_only=True)


def load_13f(
    path: str | Path, con: duckdb.DuckDBPyConnection, *, table: str = "_stage_13f"
) -> Holdings13F:
    r"""Load one SEC Form 13F data-set zip into a TEMP table of holdings in ``con``.

    The table ``table`` is created or replaced; it has the holdings panel columns
    ``investor_id`` (filer CIK zero-padded to 10 digits), ``asset_id`` (CUSIP, upper case,
    9 characters), ``date`` (period of report), ``shares`` (SSHPRNAMT), ``value`` (dollars),
    ``put_call`` (``''``, ``'PUT'`` or ``'CALL'``), ``sh_prn`` (``'SH'`` or ``'PRN'``), then
    ``name_of_issuer``, ``title_of_class``, ``filing_date`` and ``accession_number`` of the
    last filing that contributed to the row. Rows are ordered by key.

    Parameters
    ----------
    path
        The data-set zip as the SEC publishes it (``2024q4_form13f.zip``).
    con
        DuckDB connection that receives the table.
    table
        Name of the TEMP table to create or replace (a plain identifier).

    Returns
    -------
    Holdings13F
        Counts of rows, merges, amendments, notices and scaled values.

    Raises
    ------
    ConfigError
        ``path`` does not exist or cannot be opened, or ``table`` is not a plain identifier.
    DataError
        The file is truncated or not a zip; a member is not tab-separated text; a value is
        not a number, a date is not DD-MON-YYYY, a CUSIP is not 9 characters, SSHPRNAMTTYPE
        is not SH/PRN, PUTCALL is not blank/PUT/CALL, a CIK is not digits, an accession number
        repeats or a line's filing is not in SUBMISSION.tsv. The key named is the smallest
        offending (accession_number, infotable_sk), the count is of the other rows.
    SchemaError
        A member (INFOTABLE.tsv, SUBMISSION.tsv, COVERPAGE.tsv) or a column of it is missing.

    Notes
    -----
    Rules, with the data sets' readme and metadata as the source of each convention:

    1. **Key** ``(investor_id, asset_id, date, put_call, sh_prn)``. Lines of one filing that
       differ only by OTHERMANAGER, INVESTMENTDISCRETION or voting authority are one position
       split by manager; they are summed (shares and value) and counted in ``merged_lines``.
    2. **Period** is PERIODOFREPORT (SUBMISSION), or REPORTCALENDARORQUARTER (COVERPAGE)
       where the former is blank. Dates are read as DD-MON-YYYY (ISO ``YYYY-MM-DD`` is also
       accepted).
    3. **Amendments** (submission types 13F-HR/A; COVERPAGE ISAMENDMENT = 'Y', AMENDMENTTYPE
       "restatement or adds new holdings entries"). Per (CIK, period), filings are ordered by
       FILING_DATE then ACCESSION_NUMBER. The base is the latest original 13F-HR or
       RESTATEMENT: a restatement replaces all the filer's holdings of the period (a second
       original does too). NEW HOLDINGS amendments filed after the base add their lines,
       summed on identical keys; those filed before it are superseded. With the sequence
       ``H`` (holdings of the base) and additions ``N_1..N_k``:

       .. math:: \text{holdings}_{i,t} = H_{\text{latest restatement or original}}
                 + \sum_{j:\ \text{filed after it}} N_j

    4. **Units**: VALUE is in thousands of dollars for filings before 2023-01-03 (readme:
       "Starting on January 3, 2023, market value is reported rounded to the nearest dollar.
       Previously, market value was reported in thousands"). Many filers did not follow the
       rule, so the rule is only the default: each filing's units are chosen by the median
       implied price of its share lines (:func:`choose_units`), with :math:`u_f` the factor
       chosen for filing :math:`f`

       .. math:: \text{value} = \text{VALUE} \times u_f, \qquad u_f \in \{1, 1000\},
                 \quad u_f^{\text{rule}} = 1000 \text{ iff FILING\_DATE} < 2023\text{-}01\text{-}03

       Filings whose units go against the rule are counted (``rows_units_corrected``) and
       named (``units_corrected``); share lines whose own price stays implausible are
       counted in ``rows_units_doubtful``.

    5. **PRN** lines (SSHPRNAMTTYPE = 'PRN', principal amount of debt) are kept; ``sh_prn`` in
       the key keeps them apart from shares. Puts and calls are apart through ``put_call``.
    6. **Notices** (13F-NT, 13F-NT/A, report type 13F NOTICE) carry no holdings: skipped and
       counted. A notice that does carry lines is loaded like a holdings report.
    7. Nothing is dropped silently: lines of superseded filings and of amendments of unknown
       type are counted in ``lines_dropped``; every other bad value is an error.

    Examples
    --------
    >>> import duckdb, tempfile, zipfile
    >>> from pathlib import Path
    >>> acc = "0000000001-25-000001"
    >>> tables = {
    ...     "SUBMISSION.tsv": [
    ...         ["ACCESSION_NUMBER", "FILING_DATE", "SUBMISSIONTYPE", "CIK", "PERIODOFREPORT"],
    ...         [acc, "14-FEB-2025", "13F-HR", "1234", "31-DEC-2024"]],
    ...     "COVERPAGE.tsv": [
    ...         ["ACCESSION_NUMBER", "REPORTCALENDARORQUARTER", "ISAMENDMENT",
    ...          "AMENDMENTTYPE", "REPORTTYPE"],
    ...         [acc, "31-DEC-2024", "N", "", "13F HOLDINGS REPORT"]],
    ...     "INFOTABLE.tsv": [
    ...         ["ACCESSION_NUMBER", "INFOTABLE_SK", "NAMEOFISSUER", "TITLEOFCLASS", "CUSIP",
    ...          "VALUE", "SSHPRNAMT", "SSHPRNAMTTYPE", "PUTCALL", "OTHERMANAGER"],
    ...         [acc, "1", "APPLE INC", "COM", "037833100", "25000", "100", "SH", "", "1"],
    ...         [acc, "2", "APPLE INC", "COM", "037833100", "12500", "50", "SH", "", "2"]],
    ... }
    >>> con = duckdb.connect()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     zpath = Path(tmp) / "2025q1_form13f.zip"
    ...     with zipfile.ZipFile(zpath, "w") as zf:
    ...         for name, rows in tables.items():
    ...             zf.writestr(name, "".join("\t".join(r) + "\n" for r in rows))
    ...     diag = load_13f(zpath, con)
    >>> diag.rows, diag.merged_lines
    (1, 1)
    >>> con.sql("SELECT investor_id, asset_id, date, shares, value FROM _stage_13f").fetchall()
    [('0000001234', '037833100', datetime.date(2024, 12, 31), 150.0, 37500.0)]
    """
    if not isinstance(table, str) or not _IDENT.fullmatch(table):
        raise ConfigError(
            field="table", expected="a plain SQL identifier (letters, digits, _)", got=table
        )
    zpath = Path(path)
    names = _Names(*(f"{table}__{part}" for part in _Names._fields))
    with tempfile.TemporaryDirectory(prefix="flowpressure-13f-") as tmp:
        files = _extract(zpath, Path(tmp))
        # library code never prints: DuckDB's progress bar is off while we run, then restored
        bar = _one(con, "SELECT current_setting('enable_progress_bar')")[0]
        con.execute("SET enable_progress_bar = false")
        try:
            _stage(con, files, zpath.name, names)
            _check(con, names)
            _build_filings(con, names)
            return _fold(con, table, names)
        finally:
            for name in names:
                con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')
            con.execute(f"SET enable_progress_bar = {'true' if bar else 'false'}")


class _Names(NamedTuple):
    """Names of the intermediate TEMP tables of one load."""

    sub: str
    cover: str
    line: str
    filing: str


def _bad_zip(zpath: Path, exc: BaseException) -> DataError:
    return DataError(f"{zpath}: truncated or not a zip file ({exc}); download it again")


def _extract(zpath: Path, tmp: Path) -> dict[str, Path]:
    """Stream the three members the loader needs into ``tmp``; return their paths by name."""
    try:
        zf = zipfile.ZipFile(zpath)
    except zipfile.BadZipFile as exc:
        raise _bad_zip(zpath, exc) from None
    except OSError as exc:
        raise ConfigError(
            field="path",
            expected="a readable SEC Form 13F data-set zip",
            got=f"{zpath} ({exc.strerror or exc})",
        ) from None
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in reversed(members):  # the first of two same-named members wins
            by_name[PurePosixPath(info.filename).name.upper()] = info
        files: dict[str, Path] = {}
        for member in REQUIRED_COLUMNS:
            found = by_name.get(member.upper())
            if found is None:
                raise SchemaError(
                    f"{zpath.name}: member {member!r} is missing; the zip has "
                    f"{sorted(i.filename for i in members)}. Expected an SEC Form 13F data set "
                    "(SUBMISSION.tsv, COVERPAGE.tsv, INFOTABLE.tsv, …)",
                    field=member,
                )
            files[member] = tmp / member
            try:
                with zf.open(found) as src, files[member].open("wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise _bad_zip(zpath, exc) from None
            except NotImplementedError as exc:
                raise DataError(f"{zpath}: member {member!r} cannot be unpacked ({exc})") from None
    return files


def _reader(file: Path, member: str, zname: str) -> str:
    """Return a ``read_csv`` call reading every column as text, as the SEC writes them.

    The header row is read here, so a missing column is a SchemaError naming it; DuckDB then
    reads the file with those columns, no quoting and no type sniffing.
    """
    with file.open("rb") as fh:
        text = fh.readline().decode("utf-8-sig", errors="replace")
    cols = [c.strip() for c in text.rstrip("\r\n").split("\t")] if text.strip() else []
    missing = [c for c in REQUIRED_COLUMNS[member] if c not in cols]
    if missing:
        raise SchemaError(
            f"{zname}/{member}: column {missing[0]!r} is missing"
            + (f" (and {missing[1:]})" if len(missing) > 1 else "")
            + f"; the header has {cols}. Expected the SEC's tab-separated layout",
            field=missing[0],
        )
    spec = ", ".join(f"'{_lit(c)}': 'VARCHAR'" for c in cols)
    return (
        f"read_csv('{_lit(str(file))}', delim='\\t', header=true, auto_detect=false, "
        f"quote='', escape='', strict_mode=true, columns={{{spec}}})"
    )


def _lit(text: str) -> str:
    return text.replace("'", "''")


def _date(col: str) -> str:
    text = f"nullif(trim({col}), '')"
    return f"coalesce(try_strptime({text}, '%d-%b-%Y'), try_strptime({text}, '%Y-%m-%d'))::DATE"


def _number(col: str) -> tuple[str, str]:
    """Return SQL for a number column, and for its text where it is not a finite number."""
    num = f"try_cast(trim({col}) AS DOUBLE)"
    return num, f"CASE WHEN {num} IS NULL OR NOT isfinite({num}) THEN coalesce({col}, '') END"


def _stage(con: duckdb.DuckDBPyConnection, files: dict[str, Path], zname: str, n: _Names) -> None:
    """Read the three members into typed TEMP tables (one pass over each file)."""
    value, value_bad = _number("VALUE")
    shares, shares_bad = _number("SSHPRNAMT")
    queries = {
        "SUBMISSION.tsv": f"""
            CREATE OR REPLACE TEMP TABLE "{n.sub}" AS SELECT
                nullif(trim(ACCESSION_NUMBER), '') AS accession_number,
                nullif(trim(FILING_DATE), '') AS filing_date_raw,
                {_date("FILING_DATE")} AS filing_date,
                coalesce(upper(trim(SUBMISSIONTYPE)), '') AS submission_type,
                nullif(trim(CIK), '') AS cik,
                nullif(trim(PERIODOFREPORT), '') AS period_raw,
                {_date("PERIODOFREPORT")} AS period
            FROM {{reader}}""",
        "COVERPAGE.tsv": f"""
            CREATE OR REPLACE TEMP TABLE "{n.cover}" AS SELECT
                nullif(trim(ACCESSION_NUMBER), '') AS accession_number,
                nullif(trim(REPORTCALENDARORQUARTER), '') AS rcq_raw,
                {_date("REPORTCALENDARORQUARTER")} AS rcq,
                coalesce(upper(trim(ISAMENDMENT)), '') = 'Y' AS is_amendment,
                coalesce(upper(trim(AMENDMENTTYPE)), '') AS amendment_type,
                coalesce(upper(trim(REPORTTYPE)), '') AS report_type
            FROM {{reader}}""",
        "INFOTABLE.tsv": f"""
            CREATE OR REPLACE TEMP TABLE "{n.line}" AS SELECT
                nullif(trim(ACCESSION_NUMBER), '') AS accession_number,
                trim(INFOTABLE_SK) AS infotable_sk,
                trim(NAMEOFISSUER) AS name_of_issuer,
                trim(TITLEOFCLASS) AS title_of_class,
                upper(trim(CUSIP)) AS asset_id,
                {value} AS value, {value_bad} AS value_bad,
                {shares} AS shares, {shares_bad} AS shares_bad,
                upper(trim(SSHPRNAMTTYPE)) AS sh_prn,
                coalesce(upper(trim(PUTCALL)), '') AS put_call
            FROM {{reader}}""",
    }
    for member, sql in queries.items():
        reader = _reader(files[member], member, zname)
        try:
            con.execute(sql.format(reader=reader))
        except duckdb.Error as exc:
            detail = " ".join(str(exc).split("\n")[:3])
            raise DataError(
                f"{zname}/{member}: not readable as the SEC's tab-separated UTF-8 layout: {detail}"
            ) from None


#: (field, SQL condition of a bad row, what was expected, SQL of the value shown as "got")
_Check = tuple[str, str, str, str]


def _check_rows(
    con: duckdb.DuckDBPyConnection, table: str, checks: list[_Check], key: tuple[str, ...]
) -> None:
    """Count every check's offenders in one scan; raise for the first check that has any.

    The row named is the one with the smallest key (INFOTABLE_SK compared as a number).
    """
    counts = ", ".join(f"count_if({where})" for _, where, _, _ in checks)
    found = _one(con, f'SELECT {counts} FROM "{table}"')
    order = ", ".join(
        "try_cast(infotable_sk AS HUGEINT) NULLS LAST, infotable_sk" if k == "infotable_sk" else k
        for k in key
    )
    for (field, where, expected, got), count in zip(checks, found, strict=True):
        if count:
            row = _one(
                con,
                f'SELECT {", ".join(key)}, {got} FROM "{table}" WHERE {where} '
                f"ORDER BY {order} LIMIT 1",
            )
            raise DataError(
                field=field,
                key=dict(zip(key, row[:-1], strict=True)),
                expected=expected,
                got=row[-1],
                others=int(count) - 1,
            )


def _check(con: duckdb.DuckDBPyConnection, n: _Names) -> None:
    """Every rule a staged value must obey; the first broken one raises with the smallest key."""
    acc = ("ACCESSION_NUMBER", "accession_number IS NULL", "a non-blank accession number", "NULL")

    def unique(table: str, member: str) -> _Check:
        return (
            f"{member}:ACCESSION_NUMBER",
            f'accession_number IN (SELECT accession_number FROM "{table}" GROUP BY ALL '
            "HAVING count(*) > 1)",
            "one row per filing",
            "'repeated'",
        )

    date = _DATE_TEXT
    _check_rows(
        con,
        n.sub,
        [
            acc,
            unique(n.sub, "SUBMISSION.tsv"),
            ("FILING_DATE", "filing_date IS NULL", date, "coalesce(filing_date_raw, '')"),
            ("PERIODOFREPORT", "period_raw IS NOT NULL AND period IS NULL", date, "period_raw"),
            ("CIK", "NOT regexp_full_match(coalesce(cik, ''), '\\d{1,10}')", "digits", "cik"),
        ],
        ("accession_number",),
    )
    rcq_bad = "rcq_raw IS NOT NULL AND rcq IS NULL"
    cover = [
        unique(n.cover, "COVERPAGE.tsv"),
        ("REPORTCALENDARORQUARTER", rcq_bad, date, "rcq_raw"),
    ]
    _check_rows(con, n.cover, cover, ("accession_number",))
    known = f'(SELECT accession_number FROM "{n.sub}" WHERE accession_number IS NOT NULL)'
    _check_rows(
        con,
        n.line,
        [
            acc,
            ("VALUE", "value_bad IS NOT NULL", _NUMBER_TEXT, "value_bad"),
            ("SSHPRNAMT", "shares_bad IS NOT NULL", _NUMBER_TEXT, "shares_bad"),
            ("CUSIP", "coalesce(length(asset_id), 0) <> 9", "9 characters", "asset_id"),
            ("SSHPRNAMTTYPE", "coalesce(sh_prn, '') NOT IN ('SH', 'PRN')", "SH or PRN", "sh_prn"),
            ("PUTCALL", "put_call NOT IN ('', 'PUT', 'CALL')", "blank, PUT or CALL", "put_call"),
            (
                "ACCESSION_NUMBER",
                f"accession_number NOT IN {known}",
                "a filing in SUBMISSION.tsv",
                "accession_number",
            ),
        ],
        ("accession_number", "infotable_sk"),
    )


def _build_filings(con: duckdb.DuckDBPyConnection, n: _Names) -> None:
    """One row per filing: its kind, its rank within (CIK, period) and whether it contributes."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE "{n.filing}" AS
        WITH lines AS (
            SELECT accession_number, count(*) AS n_lines FROM "{n.line}" GROUP BY ALL
        ),
        f AS (
            SELECT s.accession_number, s.filing_date, lpad(s.cik, 10, '0') AS investor_id,
                   coalesce(s.period, c.rcq) AS period, coalesce(l.n_lines, 0) AS n_lines,
                   CASE
                     WHEN (s.submission_type LIKE '13F-NT%' OR c.report_type = '13F NOTICE')
                          AND coalesce(l.n_lines, 0) = 0 THEN 'NOTICE'
                     WHEN coalesce(c.is_amendment, false) OR s.submission_type LIKE '%/A' THEN
                       CASE c.amendment_type
                         WHEN 'RESTATEMENT' THEN 'RESTATEMENT'
                         WHEN 'NEW HOLDINGS' THEN 'NEW HOLDINGS'
                         ELSE 'UNKNOWN' END
                     ELSE 'ORIGINAL' END AS kind
            FROM "{n.sub}" s
            LEFT JOIN "{n.cover}" c USING (accession_number)
            LEFT JOIN lines l USING (accession_number)
        ),
        o AS (
            SELECT *, row_number() OVER (
                PARTITION BY investor_id, period ORDER BY filing_date, accession_number
            ) AS ord
            FROM f
        ),
        b AS (
            SELECT *,
                max(CASE WHEN kind IN ('ORIGINAL', 'RESTATEMENT') THEN ord END)
                    OVER (PARTITION BY investor_id, period) AS base_ord,
                bool_or(kind = 'ORIGINAL') OVER (PARTITION BY investor_id, period)
                    AS has_original
            FROM o
        )
        SELECT *,
            coalesce((kind IN ('ORIGINAL', 'RESTATEMENT') AND ord = base_ord)
            OR (kind = 'NEW HOLDINGS' AND ord > coalesce(base_ord, 0)), false) AS contributes
        FROM b
    """)
    no_period = (
        "PERIODOFREPORT",
        "period IS NULL AND kind <> 'NOTICE'",
        "a PERIODOFREPORT (SUBMISSION.tsv) or REPORTCALENDARORQUARTER (COVERPAGE.tsv)",
        "''",
    )
    _check_rows(con, n.filing, [no_period], ("accession_number",))


def _fold(con: duckdb.DuckDBPyConnection, table: str, n: _Names) -> Holdings13F:
    """Sum contributing lines into the panel table and count what happened."""
    units = f"{n.filing}__units"
    lo, hi = PRICE_RANGE
    try:
        choose_units(
            con,
            f'(SELECT l.*, f.filing_date FROM "{n.line}" l JOIN "{n.filing}" f '
            "USING (accession_number))",
            ["accession_number"],
            table=units,
            preferred=f"CASE WHEN filing_date < DATE '{DOLLARS_FROM}' THEN 1000 ELSE 1 END",
            share_line="sh_prn = 'SH' AND put_call = ''",
        )
        return _fold_units(con, table, n, units, lo, hi)
    finally:
        con.execute(f'DROP TABLE IF EXISTS temp.main."{units}"')


def _fold_units(
    con: duckdb.DuckDBPyConnection, table: str, n: _Names, units: str, lo: float, hi: float
) -> Holdings13F:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE "{table}" AS
        SELECT f.investor_id, l.asset_id, f.period AS date,
               sum(l.shares)::DOUBLE AS shares,
               sum(l.value * u.unit_factor)::DOUBLE AS value,
               l.put_call, l.sh_prn,
               arg_max(l.name_of_issuer, (f.ord::BIGINT << 40) + l.rowid) AS name_of_issuer,
               arg_max(l.title_of_class, (f.ord::BIGINT << 40) + l.rowid) AS title_of_class,
               max(f.filing_date) AS filing_date,
               arg_max(f.accession_number, f.ord) AS accession_number
        FROM "{n.line}" l JOIN "{n.filing}" f USING (accession_number)
        JOIN "{units}" u USING (accession_number)
        WHERE f.contributes
        GROUP BY f.investor_id, l.asset_id, f.period, l.put_call, l.sh_prn
        ORDER BY investor_id, asset_id, date, put_call, sh_prn
    """)
    # one value per int field of Holdings13F, in its order
    stats = _one(
        con,
        f"""WITH p AS (
            SELECT count(*) AS n_rows, count(DISTINCT investor_id) AS n_filers,
                   count(DISTINCT date) AS n_periods, count_if(sh_prn = 'PRN') AS n_prn
            FROM "{table}"
        ),
        fu AS (
            SELECT f.*, u.unit_factor, u.evidence
            FROM "{n.filing}" f LEFT JOIN "{units}" u USING (accession_number)
        ),
        doubt AS (
            SELECT count(*) AS n FROM "{n.line}" l JOIN fu USING (accession_number)
            WHERE fu.contributes AND l.sh_prn = 'SH' AND l.put_call = ''
              AND (l.shares <= 0 OR NOT (l.value * fu.unit_factor / l.shares
                   BETWEEN {lo!r} AND {hi!r}))
        )
        SELECT any_value(p.n_rows), any_value(p.n_filers), any_value(p.n_periods),
            coalesce(sum(fu.n_lines), 0),
            coalesce(sum(fu.n_lines) FILTER (WHERE contributes), 0) - any_value(p.n_rows),
            count_if(kind = 'RESTATEMENT' AND contributes),
            count_if(kind = 'NEW HOLDINGS' AND contributes),
            count_if(kind = 'NOTICE'),
            coalesce(sum(fu.n_lines) FILTER (WHERE contributes AND unit_factor = 1000), 0),
            any_value(p.n_prn),
            count_if(kind IN ('ORIGINAL', 'RESTATEMENT', 'NEW HOLDINGS') AND NOT contributes),
            count_if(kind = 'UNKNOWN'),
            count_if(kind IN ('RESTATEMENT', 'NEW HOLDINGS') AND contributes AND NOT has_original),
            coalesce(sum(fu.n_lines) FILTER (WHERE NOT contributes), 0),
            count_if(contributes AND evidence = 'corrected'),
            coalesce(sum(fu.n_lines) FILTER (WHERE contributes AND evidence = 'corrected'), 0),
            any_value(doubt.n),
            count_if(contributes AND evidence = 'ambiguous')
        FROM fu, p, doubt""",
    )
    corrected = con.execute(
        f"""SELECT accession_number,
                   CASE WHEN unit_factor = 1000 THEN 'thousands' ELSE 'dollars' END
            FROM "{n.filing}" JOIN "{units}" USING (accession_number)
            WHERE contributes AND evidence = 'corrected' ORDER BY accession_number"""
    ).fetchall()
    counts = [int(v) for v in stats]
    return Holdings13F(*counts, units_corrected={str(a): str(u) for a, u in corrected})


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None
    return tuple(row)
