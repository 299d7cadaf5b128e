r"""SPDR Gold Trust (GLD) daily archive, as the ``etf`` kind.

The trust publishes, per day, the ounces of gold it holds, the ounces behind 1,000 shares, the
NAV per share and the trust's NAV. The archive's columns (``date, gld_close,
nav_oz_per_1000_shares, nav_per_share_1030, trust_ounces, trust_nav_usd,
shares_outstanding_est, …``) map to the ``etf`` kind as

- ``fund_id`` = ``"GLD"``; ``shares_outstanding`` = ``shares_outstanding_est``
  (:math:`= \text{ounces} / (\text{oz per 1,000 shares} / 1000)`);
- ``nav`` = ``nav_per_share_1030`` (the trust's NAV per share); ``aum`` = ``trust_nav_usd``;
- extra columns ``trust_ounces`` and ``gold_usd_oz`` = ``trust_nav_usd / trust_ounces``, so
  the flow can be checked in gold: :math:`\Delta \text{ounces}_t \times \text{gold}_t \approx
  (SO_t - SO_{t-1})\,NAV_t`, the gap being the trust's fee accrual (ounces per share fall
  slowly) and the rounding of the share estimate.

Rows that carry no holdings figures (the archive keeps 2012-10-29 and -30, when NYSE was
shut by hurricane Sandy, with a NAV per share but no ounces or shares) and rows on dates
that are not XNYS sessions (2018-12-05, a market closure on which the trust repeated the
previous day's figures) are set aside and listed in the notes (``rows_no_data``,
``rows_not_session``). Sessions the archive lacks are gaps for the flow (no flow is bridged
across them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from flowpressure._errors import SchemaError
from flowpressure.data._calendar import DEFAULT_CALENDAR, non_sessions
from flowpressure.data.formats import FormatRead, SourceFormat

__all__ = ["FORMATS"]

FUND_ID = "GLD"

_NEEDED = (
    "date",
    "nav_oz_per_1000_shares",
    "nav_per_share_1030",
    "trust_ounces",
    "trust_nav_usd",
    "shares_outstanding_est",
)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return f"read_parquet({_lit(str(path))})"
    return f"read_csv({_lit(str(path))}, header = true, all_varchar = true)"


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    src = _source(path)
    have = list(con.sql(f"SELECT * FROM {src} LIMIT 0").columns)
    missing = [c for c in _NEEDED if c not in have]
    if missing:
        raise SchemaError(
            f"{path.name}: the spdr_gld format needs the columns {', '.join(_NEEDED)}; "
            f"missing {', '.join(missing)}",
            field=missing[0],
            expected=", ".join(_NEEDED),
        )
    num = {c: f"TRY_CAST(nullif(trim(CAST({c} AS VARCHAR)), '') AS DOUBLE)" for c in _NEEDED[1:]}
    day = "TRY_CAST(trim(CAST(date AS VARCHAR)) AS DATE)"
    # No holdings figures: neither the ounces nor the share count (a NAV alone is no row).
    empty = f"{num['shares_outstanding_est']} IS NULL AND {num['trust_ounces']} IS NULL"
    no_data = [
        r[0]
        for r in con.sql(
            f"SELECT CAST(date AS VARCHAR) FROM {src} WHERE {empty} ORDER BY 1"
        ).fetchall()
    ]
    dates = [
        r[0]
        for r in con.sql(
            f"SELECT DISTINCT {day} FROM {src} WHERE NOT ({empty}) AND {day} IS NOT NULL"
        ).fetchall()
    ]
    closed: list[dt.date] = non_sessions(dates, DEFAULT_CALENDAR) if dates else []
    skip = ", ".join(f"DATE '{d.isoformat()}'" for d in closed)
    not_session = f"{day} IN ({skip})" if closed else "false"
    close = "TRY_CAST(nullif(trim(CAST(gld_close AS VARCHAR)), '') AS DOUBLE)"
    relation = con.sql(
        f"""
        SELECT
            {_lit(FUND_ID)} AS fund_id,
            trim(CAST(date AS VARCHAR)) AS date,
            {num["shares_outstanding_est"]} AS shares_outstanding,
            {num["nav_per_share_1030"]} AS nav,
            {num["trust_nav_usd"]} AS aum,
            {num["trust_ounces"]} AS trust_ounces,
            {num["trust_nav_usd"]} / {num["trust_ounces"]} AS gold_usd_oz,
            {num["nav_oz_per_1000_shares"]} AS nav_oz_per_1000_shares,
            {close if "gld_close" in have else "NULL::DOUBLE"} AS gld_close
        FROM {src}
        WHERE NOT ({empty}) AND NOT coalesce({not_session}, false)
        """
    )
    notes: dict[str, Any] = {
        "fund_id": FUND_ID,
        "shares_outstanding": "shares_outstanding_est (trust ounces / ounces per share)",
        "nav": "nav_per_share_1030",
        "aum": "trust_nav_usd",
        "rows_no_data": len(no_data),
        "rows_not_session": len(closed),
        "calendar": DEFAULT_CALENDAR,
    }
    if no_data:
        notes["dates_no_data"] = no_data
    if closed:
        notes["dates_not_session"] = [d.isoformat() for d in closed]
    return FormatRead(relation, notes)


FORMATS = (
    SourceFormat(
        name="spdr_gld",
        kind="etf",
        description="SPDR Gold Trust (GLD) daily archive: trust ounces, NAV per share, "
        "trust NAV and shares outstanding (estimated from ounces per share)",
        signature=("nav_oz_per_1000_shares", "trust_ounces", "shares_outstanding_est"),
        read=_read,
    ),
)
