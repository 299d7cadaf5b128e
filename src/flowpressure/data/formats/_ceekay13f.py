r"""The ceekay 13F holdings panel (``ceekay-munshot/13F``): many filers, many quarters.

One row per information-table line a filer reported for a quarter, already folded over
amendments: ``cik, filer_name, period, issuer_id, ticker, issuer_name, title_of_class,
put_call, sshprnamt_type, value_usd, sshprnamt``. Read as a holdings panel:

- ``investor_id`` is the CIK padded to 10 digits (as the SEC loader writes it), ``date`` the
  period; ``shares`` is ``sshprnamt`` and ``value`` is ``value_usd`` (dollars);
- ``asset_id`` is ``issuer_id:ticker``. The source publishes no CUSIP: ``issuer_id`` is a hash
  of the 6-character issuer prefix, so two classes of one issuer (HEICO and HEICO class A,
  two ETFs of one sponsor) share it and the ticker tells them apart. ``title_of_class`` and
  ``issuer_name`` are not part of the key: a filer's spelling of them changes from quarter to
  quarter ("ETF", then "Equity") and would open and close the same position;
- lines that remain on one key (same issuer and ticker, or no ticker: bonds, foreign lines)
  are summed, shares and value, and counted (``rows_summed``, ``keys_summed``);
- ``put_call`` is upper-cased (``''``, ``CALL``, ``PUT``) and ``sh_prn`` is ``sshprnamt_type``.
  Option lines carry the underlying's value and principal-amount lines a bond's: both are kept
  as their own rows and get no share flow (``flow_note`` ``not_shares``); they are counted
  (``option_rows``, ``prn_rows``);
- **units per filing**: ``value_usd`` is dollars by the source's own conversion, but a filer's
  units are checked against its implied prices
  (:func:`flowpressure.data._units13f.choose_units`):
  a filing (CIK, period) whose median price per share is outside $1–$5,000 and plausible
  after dividing (or multiplying) by 1000 is corrected, named in ``units_corrected`` and
  counted; share lines whose own implied price stays outside the range are counted in
  ``rows_units_doubtful``;
- the quarters each filer reported are described: ``consecutive_pairs`` (a report whose
  previous report is the quarter before: a holdings flow), ``non_consecutive_pairs`` (the
  previous report is older: a gap, no flow) and ``filers_with_consecutive_pair``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from flowpressure._errors import DataError
from flowpressure.data._units13f import PRICE_RANGE, choose_units
from flowpressure.data.formats import FormatRead, SourceFormat
from flowpressure.data.formats._fileread import file_sql, require_columns

__all__ = ["COLUMNS", "FORMATS"]

#: The columns the format reads (the source's names).
COLUMNS = (
    "cik",
    "period",
    "issuer_id",
    "ticker",
    "put_call",
    "sshprnamt_type",
    "value_usd",
    "sshprnamt",
)

_UNITS = "_fp_ceekay_units"
_PANEL = "_fp_ceekay_panel"
_LINES = "_fp_ceekay_lines"


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, COLUMNS, "ceekay13f")
    extra = [c for c in ("filer_name", "issuer_name") if c in _columns(con, path)]
    lines = f"""
        SELECT lpad(trim(CAST(cik AS VARCHAR)), 10, '0') AS investor_id,
            TRY_CAST(period AS DATE) AS date, CAST(period AS VARCHAR) AS period_text,
            trim(CAST(issuer_id AS VARCHAR)) AS issuer_id,
            nullif(trim(CAST(ticker AS VARCHAR)), '') AS ticker,
            upper(coalesce(trim(CAST(put_call AS VARCHAR)), '')) AS put_call,
            upper(trim(CAST(sshprnamt_type AS VARCHAR))) AS sh_prn,
            TRY_CAST(value_usd AS DOUBLE) AS value, TRY_CAST(sshprnamt AS DOUBLE) AS shares,
            CAST(value_usd AS VARCHAR) AS value_text, CAST(sshprnamt AS VARCHAR) AS shares_text
            {"".join(f", CAST({c} AS VARCHAR) AS {c}" for c in extra)}
        FROM {file_sql(path)}"""
    # The file is read once; every check, count and the panel then work from memory.
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_LINES} AS {lines}")
    lines = f"SELECT * FROM {_LINES}"
    _check(con, lines)
    choose_units(
        con,
        f"({lines})",
        ["investor_id", "date"],
        table=_UNITS,
        preferred="1.0",
        candidates=(1.0, 1000.0, 0.001),
        share_line="sh_prn = 'SH' AND put_call = ''",
    )
    lo, hi = PRICE_RANGE
    scaled = f"""
        SELECT l.*, l.issuer_id || ':' || coalesce(l.ticker, '') AS asset_id,
               l.value * u.unit_factor AS value_dollars
        FROM ({lines}) l JOIN {_UNITS} u USING (investor_id, date)"""
    names = "".join(f", arg_max({c}, value_dollars) AS {c}" for c in extra)
    # Materialised once: validation and the store then scan the panel, not the file again.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_PANEL} AS
        SELECT investor_id, asset_id, date, sum(shares) AS shares, sum(value_dollars) AS value,
               put_call, sh_prn, any_value(ticker) AS ticker{names}
        FROM ({scaled})
        GROUP BY investor_id, asset_id, date, put_call, sh_prn
    """)
    # The panel's columns only: a verb reading the file answers as it does from the store.
    relation = con.sql(
        f"SELECT investor_id, asset_id, date, shares, value, put_call, sh_prn FROM {_PANEL}"
    )
    notes = _notes(con, lines, scaled, lo, hi)
    return FormatRead(relation, notes)


def _columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    return list(con.sql(f"SELECT * FROM {file_sql(path)} LIMIT 0").columns)


def _check(con: duckdb.DuckDBPyConnection, lines: str) -> None:
    """Refuse a line whose key, shares or value is missing or unreadable (smallest key first)."""
    checks = [
        ("cik", "investor_id IS NULL OR investor_id = ''", "a CIK", "investor_id"),
        ("period", "date IS NULL", "a quarter-end date", "period_text"),
        ("issuer_id", "issuer_id IS NULL OR issuer_id = ''", "an issuer id", "issuer_id"),
        ("sshprnamt_type", "coalesce(sh_prn, '') NOT IN ('SH', 'PRN')", "SH or PRN", "sh_prn"),
        ("put_call", "put_call NOT IN ('', 'CALL', 'PUT')", "blank, Call or Put", "put_call"),
        ("value_usd", "value IS NULL OR NOT isfinite(value)", "a number", "value_text"),
        ("sshprnamt", "shares IS NULL OR NOT isfinite(shares)", "a number", "shares_text"),
    ]
    counts = con.execute(
        f"SELECT {', '.join(f'count_if({w})' for _, w, _, _ in checks)} FROM ({lines})"
    ).fetchall()[0]
    assert counts is not None
    for (field, where, expected, got), count in zip(checks, counts, strict=True):
        if count:
            row = con.execute(
                f"SELECT investor_id, period_text, issuer_id, {got} FROM ({lines}) "
                f"WHERE {where} ORDER BY ALL NULLS FIRST LIMIT 1"
            ).fetchall()[0]
            assert row is not None
            raise DataError(
                field=field,
                key={"cik": row[0], "period": row[1], "issuer_id": row[2]},
                expected=expected,
                got=row[3] if row[3] is not None else "",
                others=int(count) - 1,
            )


def _notes(
    con: duckdb.DuckDBPyConnection, lines: str, scaled: str, lo: float, hi: float
) -> dict[str, Any]:
    stats = con.execute(f"""
        WITH k AS (
            SELECT investor_id, asset_id, date, put_call, sh_prn, count(*) AS n
            FROM ({scaled}) GROUP BY ALL
        ), q AS (
            SELECT investor_id, date,
                (year(date) * 4 + (month(date) - 1) // 3)
                - lag(year(date) * 4 + (month(date) - 1) // 3)
                  OVER (PARTITION BY investor_id ORDER BY date) AS step
            FROM (SELECT DISTINCT investor_id, date FROM ({lines}))
        )
        SELECT
            (SELECT count(*) FROM ({lines})),
            (SELECT count(*) FROM k),
            (SELECT count(*) FILTER (WHERE n > 1) FROM k),
            (SELECT count(*) FROM ({lines}) WHERE put_call <> ''),
            (SELECT count(*) FROM ({lines}) WHERE sh_prn = 'PRN'),
            (SELECT count(DISTINCT investor_id) FROM q),
            (SELECT count(*) FROM q),
            (SELECT count(DISTINCT date) FROM q),
            (SELECT count_if(step = 1) FROM q),
            (SELECT count_if(step > 1) FROM q),
            (SELECT count(DISTINCT investor_id) FILTER (WHERE step = 1) FROM q),
            (SELECT count_if(evidence = 'corrected') FROM {_UNITS}),
            (SELECT coalesce(sum(n_lines) FILTER (WHERE evidence = 'corrected'), 0)
               FROM {_UNITS}),
            (SELECT count_if(evidence = 'ambiguous') FROM {_UNITS}),
            (SELECT count(*) FROM ({scaled}) WHERE sh_prn = 'SH' AND put_call = ''
               AND (shares <= 0 OR NOT (value_dollars / shares BETWEEN {lo!r} AND {hi!r})))
    """).fetchall()[0]
    assert stats is not None
    (
        rows_read,
        keys,
        keys_summed,
        option_rows,
        prn_rows,
        filers,
        filings,
        periods,
        consecutive,
        non_consecutive,
        filers_consecutive,
        filings_corrected,
        rows_corrected,
        ambiguous,
        doubtful,
    ) = (int(v) for v in stats)
    corrected = con.sql(
        f"SELECT investor_id, date, unit_factor, median_price FROM {_UNITS} "
        "WHERE evidence = 'corrected' ORDER BY investor_id, date"
    ).fetchall()
    return {
        "units": "dollars (value_usd), checked per filing against implied prices "
        f"${lo:,.0f}-${hi:,.0f} a share",
        "asset_id": "issuer_id:ticker (the source has no CUSIP)",
        "rows_read": rows_read,
        "rows_summed": rows_read - keys,
        "keys_summed": keys_summed,
        "option_rows": option_rows,
        "prn_rows": prn_rows,
        "options_and_prn": "kept as their own rows; no share flow (not_shares)",
        "filers": filers,
        "filings": filings,
        "periods": periods,
        "consecutive_pairs": consecutive,
        "non_consecutive_pairs": non_consecutive,
        "filers_with_consecutive_pair": filers_consecutive,
        "filings_units_corrected": filings_corrected,
        "rows_units_corrected": rows_corrected,
        "rows_units_doubtful": doubtful,
        "filings_units_ambiguous": ambiguous,
        "units_corrected": {
            f"{cik} {day.isoformat()}": ("value_usd / 1000" if factor < 1 else "value_usd x 1000")
            + f" (median price ${price:,.2f} as given)"
            for cik, day, factor, price in corrected
        },
    }


_DESCRIPTION = (
    "ceekay-munshot/13F holdings panel (cik, period, issuer_id, ticker, put_call, "
    "sshprnamt_type, value_usd, sshprnamt): 13F holdings of many filers and quarters"
)
_SIGNATURE = ("cik", "period", "issuer_id", "value_usd", "sshprnamt", "sshprnamt_type")

FORMATS = (
    SourceFormat("ceekay13f", "13f", _DESCRIPTION, _SIGNATURE, _read),
    SourceFormat("ceekay13f", "holdings", _DESCRIPTION, _SIGNATURE, _read),
)
