"""Write small SEC Form 13F data-set zips in the SEC's real layout, for tests.

The layout is the one of the quarterly zips the SEC publishes (``2024q4_form13f.zip``): one
tab-separated member per table, a header row with the SEC's column names in the SEC's order
(FORM13F_metadata.json), no quoting, blank for null, dates written DD-MON-YYYY (``31-DEC-2024``).
The column lists below are checked against the SEC's metadata file by test_sec13f.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: Members of a Form 13F data-set zip and their columns, in the SEC's order.
MEMBERS: dict[str, tuple[str, ...]] = {
    "SUBMISSION.tsv": (
        "ACCESSION_NUMBER",
        "FILING_DATE",
        "SUBMISSIONTYPE",
        "CIK",
        "PERIODOFREPORT",
    ),
    "COVERPAGE.tsv": (
        "ACCESSION_NUMBER",
        "REPORTCALENDARORQUARTER",
        "ISAMENDMENT",
        "AMENDMENTNO",
        "AMENDMENTTYPE",
        "CONFDENIEDEXPIRED",
        "DATEDENIEDEXPIRED",
        "DATEREPORTED",
        "REASONFORNONCONFIDENTIALITY",
        "FILINGMANAGER_NAME",
        "FILINGMANAGER_STREET1",
        "FILINGMANAGER_STREET2",
        "FILINGMANAGER_CITY",
        "FILINGMANAGER_STATEORCOUNTRY",
        "FILINGMANAGER_ZIPCODE",
        "REPORTTYPE",
        "FORM13FFILENUMBER",
        "CRDNUMBER",
        "SECFILENUMBER",
        "PROVIDEINFOFORINSTRUCTION5",
        "ADDITIONALINFORMATION",
    ),
    "OTHERMANAGER.tsv": (
        "ACCESSION_NUMBER",
        "OTHERMANAGER_SK",
        "CIK",
        "FORM13FFILENUMBER",
        "CRDNUMBER",
        "SECFILENUMBER",
        "NAME",
    ),
    "SIGNATURE.tsv": (
        "ACCESSION_NUMBER",
        "NAME",
        "TITLE",
        "PHONE",
        "SIGNATURE",
        "CITY",
        "STATEORCOUNTRY",
        "SIGNATUREDATE",
    ),
    "SUMMARYPAGE.tsv": (
        "ACCESSION_NUMBER",
        "OTHERINCLUDEDMANAGERSCOUNT",
        "TABLEENTRYTOTAL",
        "TABLEVALUETOTAL",
        "ISCONFIDENTIALOMITTED",
    ),
    "OTHERMANAGER2.tsv": (
        "ACCESSION_NUMBER",
        "SEQUENCENUMBER",
        "CIK",
        "FORM13FFILENUMBER",
        "CRDNUMBER",
        "SECFILENUMBER",
        "NAME",
    ),
    "INFOTABLE.tsv": (
        "ACCESSION_NUMBER",
        "INFOTABLE_SK",
        "NAMEOFISSUER",
        "TITLEOFCLASS",
        "CUSIP",
        "FIGI",
        "VALUE",
        "SSHPRNAMT",
        "SSHPRNAMTTYPE",
        "PUTCALL",
        "INVESTMENTDISCRETION",
        "OTHERMANAGER",
        "VOTING_AUTH_SOLE",
        "VOTING_AUTH_SHARED",
        "VOTING_AUTH_NONE",
    ),
}


def sec_date(value: dt.date | str) -> str:
    """Write a date the SEC's way; text passes through unchanged (to write bad dates).

    >>> sec_date(dt.date(2024, 12, 31))
    '31-DEC-2024'
    """
    if isinstance(value, dt.date):
        return value.strftime("%d-%b-%Y").upper()
    return value


@dataclass(frozen=True)
class Filing:
    """One submission: a row of SUBMISSION.tsv and of COVERPAGE.tsv (and SUMMARY/SIGNATURE)."""

    accession: str
    cik: str
    period: dt.date | str
    filing_date: dt.date | str
    submission_type: str = "13F-HR"
    amendment_type: str = ""  # "RESTATEMENT" or "NEW HOLDINGS" for a 13F-HR/A
    amendment_no: str = ""
    report_type: str = "13F HOLDINGS REPORT"
    manager: str = "TEST MANAGER LLC"

    def submission_row(self) -> dict[str, str]:
        return {
            "ACCESSION_NUMBER": self.accession,
            "FILING_DATE": sec_date(self.filing_date),
            "SUBMISSIONTYPE": self.submission_type,
            "CIK": self.cik,
            "PERIODOFREPORT": sec_date(self.period),
        }

    def coverpage_row(self) -> dict[str, str]:
        amended = self.submission_type.endswith("/A")
        return {
            "ACCESSION_NUMBER": self.accession,
            "REPORTCALENDARORQUARTER": sec_date(self.period),
            "ISAMENDMENT": "Y" if amended else "N",
            "AMENDMENTNO": self.amendment_no,
            "AMENDMENTTYPE": self.amendment_type,
            "FILINGMANAGER_NAME": self.manager,
            "FILINGMANAGER_STREET1": "1 MAIN ST",
            "FILINGMANAGER_CITY": "NEW YORK",
            "FILINGMANAGER_STATEORCOUNTRY": "NY",
            "FILINGMANAGER_ZIPCODE": "10001",
            "REPORTTYPE": self.report_type,
            "FORM13FFILENUMBER": "028-00000",
            "PROVIDEINFOFORINSTRUCTION5": "N",
        }

    def signature_row(self) -> dict[str, str]:
        return {
            "ACCESSION_NUMBER": self.accession,
            "NAME": "JANE DOE",
            "TITLE": "CCO",
            "PHONE": "212-555-0100",
            "SIGNATURE": "/s/ Jane Doe",
            "CITY": "NEW YORK",
            "STATEORCOUNTRY": "NY",
            "SIGNATUREDATE": sec_date(self.filing_date),
        }


def line(
    accession: str,
    sk: int | str,
    cusip: str,
    value: float | str,
    shares: float | str,
    *,
    issuer: str = "TEST ISSUER INC",
    title: str = "COM",
    sh_prn: str = "SH",
    put_call: str = "",
    discretion: str = "SOLE",
    other_manager: str = "",
    figi: str = "",
) -> dict[str, str]:
    """One INFOTABLE row (numbers may be given as text, to write bad values)."""
    return {
        "ACCESSION_NUMBER": accession,
        "INFOTABLE_SK": str(sk),
        "NAMEOFISSUER": issuer,
        "TITLEOFCLASS": title,
        "CUSIP": cusip,
        "FIGI": figi,
        "VALUE": str(value),
        "SSHPRNAMT": str(shares),
        "SSHPRNAMTTYPE": sh_prn,
        "PUTCALL": put_call,
        "INVESTMENTDISCRETION": discretion,
        "OTHERMANAGER": other_manager,
        "VOTING_AUTH_SOLE": str(shares),
        "VOTING_AUTH_SHARED": "0",
        "VOTING_AUTH_NONE": "0",
    }


def tsv(columns: Iterable[str], rows: Iterable[Mapping[str, str]]) -> str:
    """Tab-separated text with a header row, no quoting, blank for missing values."""
    cols = list(columns)
    out = ["\t".join(cols)]
    for row in rows:
        values = [row.get(c, "") for c in cols]
        assert not any(("\t" in v or "\n" in v) for v in values), values
        out.append("\t".join(values))
    return "\n".join(out) + "\n"


def write_13f_zip(
    path: Path,
    filings: Iterable[Filing],
    lines: Iterable[Mapping[str, str]],
    *,
    drop_members: Iterable[str] = (),
    drop_columns: Mapping[str, Iterable[str]] | None = None,
) -> Path:
    """Write a Form 13F data-set zip (deflated, members at the root) and return its path.

    ``drop_members`` leaves members out and ``drop_columns`` leaves columns out of a member,
    to build broken inputs.
    """
    filings = list(filings)
    lines = list(lines)
    dropped = set(drop_members)
    drop_cols = {k: set(v) for k, v in (drop_columns or {}).items()}
    summary = []
    for f in filings:
        own = [r for r in lines if r["ACCESSION_NUMBER"] == f.accession]
        managers = {r["OTHERMANAGER"] for r in own if r["OTHERMANAGER"]}
        summary.append(
            {
                "ACCESSION_NUMBER": f.accession,
                "OTHERINCLUDEDMANAGERSCOUNT": str(len(managers)),
                "TABLEENTRYTOTAL": str(len(own)),
                "TABLEVALUETOTAL": str(sum(_number(r["VALUE"]) for r in own)),
                "ISCONFIDENTIALOMITTED": "N",
            }
        )
    other2 = [
        {
            "ACCESSION_NUMBER": acc,
            "SEQUENCENUMBER": seq,
            "NAME": f"OTHER MANAGER {seq}",
            "FORM13FFILENUMBER": f"028-0000{seq}",
        }
        for acc, seq in sorted(
            {(r["ACCESSION_NUMBER"], r["OTHERMANAGER"]) for r in lines if r["OTHERMANAGER"]}
        )
    ]
    rows: dict[str, list[Mapping[str, str]]] = {
        "SUBMISSION.tsv": [f.submission_row() for f in filings],
        "COVERPAGE.tsv": [f.coverpage_row() for f in filings],
        "OTHERMANAGER.tsv": [],
        "SIGNATURE.tsv": [f.signature_row() for f in filings],
        "SUMMARYPAGE.tsv": summary,
        "OTHERMANAGER2.tsv": other2,
        "INFOTABLE.tsv": lines,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, columns in MEMBERS.items():
            if member in dropped:
                continue
            cols = [c for c in columns if c not in drop_cols.get(member, set())]
            zf.writestr(member, tsv(cols, rows[member]))
    return path


def _number(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return 0


def edgartools_sample(csv_path: Path) -> tuple[list[Filing], list[dict[str, str]]]:
    """Filings and INFOTABLE rows from the real edgartools information-table sample.

    The sample (shared/data MANIFEST section 3) holds three real information tables in the
    SEC's INFOTABLE column names. Two name their filer; the third does not, so it gets a
    synthetic CIK and a filing date after 2023-01-03 (its VALUE is in dollars).
    """
    with csv_path.open(newline="", encoding="utf-8") as fh:
        sample = list(csv.DictReader(fh))
    filings: dict[str, Filing] = {}
    out: list[dict[str, str]] = []
    for i, row in enumerate(sample, start=1):
        source = row["SOURCE_FILE"]
        if source not in filings:
            if row["CIK"]:
                filings[source] = Filing(
                    accession=row["ACCESSION_NUMBER"],
                    cik=row["CIK"],
                    period=dt.date.fromisoformat(row["PERIODOFREPORT"]),
                    filing_date=dt.date.fromisoformat(row["FILING_DATE"]),
                    manager=row["FILER_NAME"],
                )
            else:
                filings[source] = Filing(
                    accession="0000999999-23-000001",
                    cik="999999",
                    period=dt.date(2023, 3, 31),
                    filing_date=dt.date(2023, 5, 15),
                    manager="UNIDENTIFIED FILER (EDGARTOOLS SAMPLE)",
                )
        rec = {c: row.get(c, "") for c in MEMBERS["INFOTABLE.tsv"]}
        rec["ACCESSION_NUMBER"] = filings[source].accession
        rec["INFOTABLE_SK"] = str(i)
        out.append(rec)
    return list(filings.values()), out
