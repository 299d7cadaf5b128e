r"""SEC Form N-PORT: a fund's monthly flows (Item B.6) and its classes' returns (Item B.5).

One row per series and month of the filing's three months (an extract of N-PORT-P filings,
columns ``series_id, series_name, rep_pd_date, net_assets, month, sales, reinvestment,
redemption``). Read as the ``fund_flows_reported`` kind:

- ``fund_id`` = ``series_id``; the month ``YYYY-MM`` becomes ``period_start`` (its first day)
  and ``date`` (its last day);
- ``redemptions`` are positive in the kind. Some filers (AST) report them negative: those rows
  are flipped and counted in the notes (``rows_redemptions_sign_flipped``), never silently;
- ``tna`` is ``net_assets``, which N-PORT gives at the report date only, so only the month
  holding ``rep_pd_date`` carries it;
- ``net_flow`` = sales + reinvestments − redemptions.

The class returns extract (``series_id, class_id, month, total_return_pct``) is read as the
``fund_returns`` kind: ``fund_id`` = ``class_id``, ``date`` = the month's last day and
``ret_total`` = ``total_return_pct`` / 100.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flowpressure.data.formats import FormatRead, SourceFormat
from flowpressure.data.formats._fileread import file_sql, require_columns, require_numbers

__all__ = ["FORMATS"]

_NEEDED = ("series_id", "month", "sales", "reinvestment", "redemption")
_NUMBERS = ("sales", "reinvestment", "redemption", "net_assets")


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, _NEEDED, "nport")
    have = set(con.sql(f"SELECT * FROM {file_sql(path)} LIMIT 0").columns)
    require_numbers(con, path, [c for c in _NUMBERS if c in have], ["series_id", "month"])
    name = "series_name" if "series_name" in have else "NULL"
    rep = "TRY_CAST(rep_pd_date AS DATE)" if "rep_pd_date" in have else "NULL::DATE"
    tna = "TRY_CAST(net_assets AS DOUBLE)" if "net_assets" in have else "NULL::DOUBLE"
    start = "TRY_CAST(trim(month) || '-01' AS DATE)"
    red = "TRY_CAST(redemption AS DOUBLE)"
    sql = f"""
        SELECT
            trim(series_id) AS fund_id,
            {start} AS period_start,
            last_day({start}) AS date,
            TRY_CAST(sales AS DOUBLE) AS sales,
            abs({red}) AS redemptions,
            TRY_CAST(reinvestment AS DOUBLE) AS reinvestments,
            TRY_CAST(sales AS DOUBLE) + coalesce(TRY_CAST(reinvestment AS DOUBLE), 0)
                - abs({red}) AS net_flow,
            CASE WHEN strftime({rep}, '%Y-%m') = trim(month) THEN {tna} END AS tna,
            'nport' AS source,
            trim(series_id) AS series_id,
            {name} AS fund_name,
            {red} < 0 AS _fp_flipped,
            {rep} AS _fp_rep_date
        FROM {file_sql(path)}
    """
    base = con.sql(sql)
    flipped = base.filter("_fp_flipped").aggregate("fund_id, count(*) AS n", "fund_id")
    per_fund = {str(f): int(n) for f, n in sorted(flipped.fetchall())}
    bad_month = base.filter("period_start IS NULL").count("*").fetchall()[0][0]
    if bad_month:
        from flowpressure._errors import DataError

        first = con.sql(
            f"SELECT series_id, month FROM {file_sql(path)} "
            f"WHERE {start} IS NULL ORDER BY series_id, month LIMIT 1"
        ).fetchall()[0]
        raise DataError(
            field="month",
            key={"series_id": first[0]},
            expected="a month YYYY-MM",
            got=first[1],
            others=int(bad_month) - 1,
        )
    tna_rows = base.filter("tna IS NOT NULL").aggregate(
        "count(*), count(*) FILTER (WHERE _fp_rep_date <> date)"
    )
    n_tna, off_end = tna_rows.fetchall()[0]
    notes: dict[str, object] = {
        "rows_redemptions_sign_flipped": sum(per_fund.values()),
        "period": "calendar month of the 'month' column (first to last day)",
        "tna": "net_assets at rep_pd_date, on that month's row only "
        f"({int(n_tna)} rows; {int(off_end)} dated before the month's last day)",
    }
    if per_fund:
        notes["redemptions_sign_flipped_by_fund"] = per_fund
    relation = base.project(
        "fund_id, period_start, date, sales, redemptions, reinvestments, net_flow, tna, "
        "source, series_id, fund_name"
    )
    return FormatRead(relation, notes)


def _read_returns(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, ("series_id", "class_id", "month", "total_return_pct"), "nport")
    require_numbers(con, path, ["total_return_pct"], ["class_id", "month"])
    start = "TRY_CAST(trim(month) || '-01' AS DATE)"
    base = con.sql(
        f"""
        SELECT
            trim(class_id) AS fund_id,
            coalesce(CAST(last_day({start}) AS VARCHAR), month) AS date,
            TRY_CAST(total_return_pct AS DOUBLE) / 100 AS ret_total,
            trim(series_id) AS series_id
        FROM {file_sql(path)}
        """
    )
    classes = con.sql(
        f"SELECT trim(series_id), count(DISTINCT trim(class_id)) FROM {file_sql(path)} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    notes = {
        "ret_total": "total_return_pct / 100 (N-PORT Item B.5 reports percent)",
        "fund_id": "class_id (one row per share class and month)",
        "classes_by_series": {str(s): int(n) for s, n in classes},
    }
    return FormatRead(base, notes)


FORMATS = (
    SourceFormat(
        name="nport",
        kind="fund_returns",
        description="SEC N-PORT Item B.5 monthly total return (percent) per share class",
        signature=("series_id", "class_id", "month", "total_return_pct"),
        read=_read_returns,
    ),
    SourceFormat(
        name="nport",
        kind="fund_flows_reported",
        description="SEC N-PORT Item B.6 monthly sales, reinvestment, redemption per series",
        signature=("series_id", "rep_pd_date", "month", "sales", "reinvestment", "redemption"),
        read=_read,
    ),
)
