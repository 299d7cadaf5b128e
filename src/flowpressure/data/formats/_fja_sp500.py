r"""fja05680/sp500 change lists: S&P 500 additions and deletions, read as ``index_events``.

Two files of the curated list (GitHub ``fja05680/sp500``):

- ``fja_sp500``: membership spells ``ticker, start_date, end_date`` (``end_date`` empty for a
  current member). A spell's ``start_date`` is an addition effective that day (spells that
  start on the file's first date are the initial members, not events); its ``end_date`` a
  deletion effective that day, as the curator recorded it.
- ``fja_sp500_changes``: ``date, add, remove`` with comma-separated tickers on either side;
  each ticker is one addition or deletion effective on ``date`` (the curator's date, which
  may be the announcement: noted).

What the files do not say is filled in by rule and reported in the notes, never silently:

- ``index_id`` = ``SPX``; a date that is not an XNYS session moves to the next session;
- ``announce_date`` = five sessions before the effective date (S&P announces about a week
  ahead; the files have no announcement dates);
- weights: the files carry no market caps, so the weight is the **equal weight**
  :math:`1/N` of the :math:`N` members on the effective date (spells covering it; 500 for
  the changes file, which lists no members): an addition has ``w_old = 0, w_new = 1/N``, a
  deletion ``w_old = 1/N, w_new = 0``. With ``indexed_assets`` :math:`A` the demand is
  :math:`A/N`, that of an equal-weighted S&P 500; a cap-weighted demand needs each event's
  float cap and passive share, which these files lack;
- a ticker that leaves and another that joins on the same date may be one renamed company
  (the list is ticker-based): counted in the notes, not merged.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]

from flowpressure._errors import DataError
from flowpressure.data.formats import FormatRead, SourceFormat
from flowpressure.data.formats._fileread import file_sql, require_columns

__all__ = ["FORMATS"]

_LEAD = 5
_MEMBERS_NOMINAL = 500


def _sessions(con: duckdb.DuckDBPyConnection, lo: dt.date, hi: dt.date) -> str:
    """Register the XNYS sessions around [lo, hi] as a view; return its name."""
    from flowpressure.data._calendar import sessions

    days = sessions(lo - dt.timedelta(days=20), hi + dt.timedelta(days=10))
    table = pa.table({"session": pa.array(days.astype("datetime64[D]"), pa.date32())})
    name = "_fp_fja_sessions"
    con.register(name, table)
    return name


def _bounds(con: duckdb.DuckDBPyConnection, sql: str, what: str, path: Path) -> tuple[Any, Any]:
    lo, hi = con.sql(f"SELECT min(d), max(d) FROM ({sql})").fetchall()[0]
    if lo is None:
        raise DataError(f"{path.name}: no {what} dates", field="date", expected="dates YYYY-MM-DD")
    return lo, hi


def _events(
    con: duckdb.DuckDBPyConnection, raw: str, members: str, path: Path, notes: dict[str, object]
) -> FormatRead:
    """``raw``: rows (asset_id, d, kind); ``members``: SQL of (e, n), N members at date e."""
    lo, hi = _bounds(con, raw, "event", path)
    sess = _sessions(con, lo, hi)
    sql = f"""
        WITH r AS (SELECT session, row_number() OVER (ORDER BY session) AS k FROM {sess}),
        ev AS (
            SELECT x.asset_id, x.kind, x.d, min(r.session) AS e
            FROM ({raw}) x JOIN r ON r.session >= x.d GROUP BY ALL
        ),
        n AS ({members})
        SELECT 'SPX' AS index_id, ev.asset_id,
               a.session AS announce_date, ev.e AS effective_date,
               CASE WHEN kind = 'add' THEN 0.0 ELSE 1.0 / n.n END AS w_old,
               CASE WHEN kind = 'add' THEN 1.0 / n.n ELSE 0.0 END AS w_new,
               ev.d <> ev.e AS _fp_moved, kind AS _fp_kind
        FROM ev JOIN n ON n.e = ev.e JOIN r ON r.session = ev.e JOIN r a ON a.k = r.k - {_LEAD}
        ORDER BY ev.asset_id, ev.e
    """
    name = "_fp_fja_events"
    con.register(name, con.sql(sql).to_arrow_table())
    base = con.table(name)
    moved, adds, dels = base.aggregate(
        "count(*) FILTER (WHERE _fp_moved), count(*) FILTER (WHERE _fp_kind = 'add'), "
        "count(*) FILTER (WHERE _fp_kind = 'remove')"
    ).fetchall()[0]
    same_day = con.sql(
        f"SELECT count(*) FROM (SELECT effective_date FROM {name} "
        "GROUP BY effective_date HAVING count(DISTINCT _fp_kind) = 2)"
    ).fetchall()[0][0]
    notes.update(
        {
            "index_id": "SPX",
            "additions": int(adds),
            "deletions": int(dels),
            "announce_date": f"inferred: {_LEAD} sessions before the effective date",
            "effective_dates_moved_to_next_session": int(moved),
            "dates_with_deletions_and_additions": int(same_day),
        }
    )
    relation = base.project("index_id, asset_id, announce_date, effective_date, w_old, w_new")
    return FormatRead(relation, notes)


def _read_spells(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, ("ticker", "start_date", "end_date"), "fja_sp500")
    src = file_sql(path)
    spells = (
        "SELECT trim(CAST(ticker AS VARCHAR)) AS t, "
        "TRY_CAST(start_date AS DATE) AS s, TRY_CAST(NULLIF(trim(CAST(end_date AS VARCHAR)), '') "
        f"AS DATE) AS x, start_date AS _s, end_date AS _x FROM {src}"
    )
    bad = con.sql(
        f"SELECT t, _s, _x FROM ({spells}) WHERE s IS NULL OR (x IS NULL AND "
        "NULLIF(trim(CAST(_x AS VARCHAR)), '') IS NOT NULL) LIMIT 1"
    ).fetchall()
    if bad:
        raise DataError(
            field="start_date",
            key={"ticker": bad[0][0]},
            expected="dates YYYY-MM-DD (end_date may be empty)",
            got=f"{bad[0][1]} / {bad[0][2]}",
        )
    name = "_fp_fja_spells"
    con.register(name, con.sql(spells).to_arrow_table())
    first = con.sql(f"SELECT min(s) FROM {name}").fetchall()[0][0]
    raw = (
        f"SELECT t AS asset_id, s AS d, 'add' AS kind FROM {name} WHERE s > DATE '{first}' "
        f"UNION ALL SELECT t, x, 'remove' FROM {name} WHERE x IS NOT NULL"
    )
    members = (
        f"SELECT d.e, count(*) AS n FROM (SELECT DISTINCT e FROM ev) d JOIN {name} m "
        "ON m.s <= d.e AND (m.x IS NULL OR m.x >= d.e) GROUP BY d.e"
    )
    notes: dict[str, object] = {
        "weights": "equal weight 1/N, N = spells covering the effective date (those joining "
        "or leaving that day included); no market caps in the file",
        "initial_members_not_events": f"spells starting {first}",
    }
    return _events(con, raw, members, path, notes)


def _read_changes(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, ("date", "add", "remove"), "fja_sp500_changes")
    src = file_sql(path)
    bad = con.sql(
        f'SELECT "date" FROM {src} WHERE TRY_CAST("date" AS DATE) IS NULL LIMIT 1'
    ).fetchall()
    if bad:
        raise DataError(field="date", expected="a date YYYY-MM-DD", got=bad[0][0])
    sides = []
    for col, kind in (("add", "add"), ("remove", "remove")):
        sides.append(
            f"SELECT trim(unnest(string_split(CAST(\"{col}\" AS VARCHAR), ','))) AS asset_id, "
            f"TRY_CAST(\"date\" AS DATE) AS d, '{kind}' AS kind FROM {src} "
            f"WHERE NULLIF(trim(CAST(\"{col}\" AS VARCHAR)), '') IS NOT NULL"
        )
    raw = f"SELECT * FROM ({' UNION ALL '.join(sides)}) WHERE asset_id <> ''"
    notes: dict[str, object] = {
        "weights": f"equal weight 1/{_MEMBERS_NOMINAL} (the file lists no members or caps)",
        "effective_date": "the curator's date (effective or announcement, per the source)",
    }
    members = f"SELECT DISTINCT e, {_MEMBERS_NOMINAL} AS n FROM ev"
    return _events(con, raw, members, path, notes)


FORMATS = (
    SourceFormat(
        name="fja_sp500",
        kind="index_events",
        description="fja05680/sp500 membership spells (ticker, start_date, end_date): "
        "S&P 500 additions and deletions, equal weights",
        signature=("ticker", "start_date", "end_date"),
        read=_read_spells,
    ),
    SourceFormat(
        name="fja_sp500_changes",
        kind="index_events",
        description="fja05680/sp500 change list (date, add, remove): S&P 500 additions and "
        "deletions, equal weights",
        signature=("date", "add", "remove"),
        read=_read_changes,
    ),
)
