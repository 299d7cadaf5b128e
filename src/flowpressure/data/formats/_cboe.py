r"""CBOE delayed-quote option chains (``*_quotedata.csv``), one row per contract, as ``options``.

CBOE's download puts calls and puts side by side around the strike under a three-line
preamble (underlying, quote time, last price). This format reads the long layout of that
download, one row per contract and snapshot, with the preamble in columns:
``snapshot_id, underlying, quote_datetime_local, underlying_last, expiration, option_type
(C/P), contract (OCC symbol), strike, iv, gamma, open_interest`` (plus quote columns that
pass through). It maps them to the ``options`` kind:

- ``asset_id`` = ``underlying``; ``expiry`` = ``expiration``; ``type`` = call/put;
  ``underlying_price`` = ``underlying_last``; ``gamma`` = CBOE's gamma per contract unit;
  ``multiplier`` = 100 (SPX, SPY and XSP options; set in the notes);
- ``contract`` and ``snapshot`` (= ``snapshot_id``) join the key: SPX (AM-settled) and SPXW
  (PM-settled) series share expirations and strikes, and one file holds several snapshots;
- ``date`` is the quote's local date, moved back to the last session on or before it when the
  snapshot was taken on a weekend or holiday (it then carries that session's close); each move
  is listed in the notes (``dates_moved``).

Rows that carry no gamma are set aside and counted, never silently: ``rows_zero_greeks``
(gamma 0: expired, same-day or far from the money, 20-30 % of a chain; they add nothing to
:math:`\sum \Gamma \cdot OI`), ``rows_zero_iv`` (gamma given without an implied volatility,
which the ``options`` kind requires) and ``rows_expired`` (expiration before the snapshot's
session). CBOE open interest is the start-of-day figure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import duckdb

from flowpressure._errors import DataError, SchemaError
from flowpressure.data._calendar import DEFAULT_CALENDAR, sessions
from flowpressure.data.formats import FormatRead, SourceFormat

__all__ = ["FORMATS", "session_on_or_before"]

MULTIPLIER = 100.0

_NEEDED = (
    "snapshot_id",
    "underlying",
    "quote_datetime_local",
    "underlying_last",
    "expiration",
    "option_type",
    "contract",
    "strike",
    "iv",
    "gamma",
    "open_interest",
)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return f"read_parquet({_lit(str(path))})"
    return f"read_csv({_lit(str(path))}, header = true, all_varchar = true)"


def session_on_or_before(day: dt.date, name: str = DEFAULT_CALENDAR) -> dt.date:
    """Return ``day`` if it is a session of ``name``, else the last session before it.

    Examples
    --------
    >>> session_on_or_before(dt.date(2024, 1, 7))  # a Sunday
    datetime.date(2024, 1, 5)
    >>> session_on_or_before(dt.date(2024, 1, 5))
    datetime.date(2024, 1, 5)
    """
    got = sessions(day - dt.timedelta(days=14), day, name)
    if got.size == 0:
        raise DataError(field="date", expected=f"a {name} session on or before", got=day)
    last: dt.date = got[-1].astype("datetime64[D]").astype(dt.date)
    return last


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    src = _source(path)
    have = list(con.sql(f"SELECT * FROM {src} LIMIT 0").columns)
    missing = [c for c in _NEEDED if c not in have]
    if missing:
        raise SchemaError(
            f"{path.name}: the cboe format needs the columns {', '.join(_NEEDED)}; "
            f"missing {', '.join(missing)}",
            field=missing[0],
            expected=", ".join(_NEEDED),
        )
    stamp = "try_strptime(trim(CAST(quote_datetime_local AS VARCHAR)), '%Y-%m-%d %H:%M')"
    snaps = con.sql(
        f"SELECT snapshot_id, min(underlying), count(DISTINCT underlying), "
        f"min(CAST({stamp} AS DATE)), count(*) FILTER (WHERE {stamp} IS NULL), "
        f"min(quote_datetime_local), count(DISTINCT TRY_CAST(underlying_last AS DOUBLE)) "
        f"FROM {src} GROUP BY snapshot_id ORDER BY snapshot_id"
    ).fetchall()
    if not snaps:
        raise DataError(f"{path.name} has no rows", field="file", expected="option rows")
    for sid, und, n_und, _day, n_bad, raw, n_spot in snaps:
        if sid is None:
            raise DataError(field="snapshot_id", expected="a snapshot id on every row", got=None)
        if n_bad:
            raise DataError(
                field="quote_datetime_local",
                key={"snapshot_id": sid},
                expected="a local quote time YYYY-MM-DD HH:MM",
                got=raw,
            )
        if n_und != 1 or n_spot != 1:
            raise DataError(
                field="underlying" if n_und != 1 else "underlying_last",
                key={"snapshot_id": sid, "underlying": und},
                expected="one underlying and one underlying_last per snapshot",
                got=f"{n_und} underlyings, {n_spot} prices",
            )
    moved: dict[str, str] = {}
    values = []
    session_of: dict[str, dt.date] = {}
    for sid, _und, _n, day, *_ in snaps:
        session = session_on_or_before(day)
        session_of[str(sid)] = session
        if session != day:
            moved[str(sid)] = f"{day.isoformat()} -> {session.isoformat()}"
        values.append(f"({_lit(str(sid))}, DATE '{session.isoformat()}')")
    table = f"_fp_cboe_sessions_{uuid.uuid4().hex}"  # one per read: relations stay valid
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT * FROM (VALUES "
        f"{', '.join(values)}) AS v(snapshot_id, session)"
    )
    num = {c: f"TRY_CAST({c} AS DOUBLE)" for c in ("gamma", "iv", "open_interest")}
    expiry = "TRY_CAST(expiration AS DATE)"
    base = f"SELECT r.*, s.session AS _fp_date FROM {src} r JOIN {table} s USING (snapshot_id)"
    expired = f"{expiry} < _fp_date"
    zero_g = f"NOT ({expired}) AND {num['gamma']} = 0"
    zero_iv = f"NOT ({expired}) AND {num['gamma']} > 0 AND {num['iv']} <= 0"
    oi = f"coalesce({num['open_interest']}, 0)"
    counts = con.sql(
        f"SELECT count(*), count(*) FILTER (WHERE {expired}), "
        f"count(*) FILTER (WHERE {zero_g}), sum({oi}) FILTER (WHERE {zero_g}), "
        f"count(*) FILTER (WHERE {zero_iv}), sum({oi}) FILTER (WHERE {zero_iv}) FROM ({base})"
    ).fetchall()[0]
    n_rows, n_expired, n_zero, oi_zero, n_zero_iv, oi_zero_iv = counts
    drop = f"({expired}) OR ({zero_g}) OR ({zero_iv})"
    kind = "upper(trim(CAST(option_type AS VARCHAR)))"
    relation = con.sql(
        f"""
        SELECT
            trim(CAST(underlying AS VARCHAR)) AS asset_id,
            _fp_date AS date,
            {expiry} AS expiry,
            TRY_CAST(strike AS DOUBLE) AS strike,
            CASE {kind} WHEN 'C' THEN 'call' WHEN 'P' THEN 'put'
                 ELSE CAST(option_type AS VARCHAR) END AS type,
            {num["open_interest"]} AS open_interest,
            {num["iv"]} AS iv,
            {MULTIPLIER!r} AS multiplier,
            TRY_CAST(underlying_last AS DOUBLE) AS underlying_price,
            {num["gamma"]} AS gamma,
            trim(CAST(contract AS VARCHAR)) AS contract,
            CAST(snapshot_id AS VARCHAR) AS snapshot,
            CAST(quote_datetime_local AS VARCHAR) AS quote_time_local
        FROM ({base})
        WHERE NOT coalesce({drop}, false)
        """
    )
    per_day: dict[str, list[str]] = {}
    for sid, und, *_ in snaps:
        key = f"{und} {session_of[str(sid)].isoformat()}"
        per_day.setdefault(key, []).append(str(sid))
    notes: dict[str, Any] = {
        "snapshots": len(snaps),
        "rows_read": int(n_rows),
        "rows_zero_greeks": int(n_zero),
        "open_interest_zero_greeks": float(oi_zero or 0.0),
        "rows_zero_iv": int(n_zero_iv),
        "open_interest_zero_iv": float(oi_zero_iv or 0.0),
        "rows_expired": int(n_expired),
        "multiplier": MULTIPLIER,
        "open_interest_timing": "start of day (CBOE)",
        "gamma": "CBOE's, per unit of underlying",
    }
    if moved:
        notes["dates_moved"] = moved
    several = {k: v for k, v in per_day.items() if len(v) > 1}
    if several:
        notes["several_snapshots"] = several
    return FormatRead(relation, notes)


FORMATS = (
    SourceFormat(
        name="cboe",
        kind="options",
        description="CBOE delayed-quote option chains (quotedata), one row per contract "
        "and snapshot, with CBOE's iv, gamma and start-of-day open interest",
        signature=("snapshot_id", "contract", "option_type", "expiration", "underlying_last"),
        read=_read,
    ),
)
