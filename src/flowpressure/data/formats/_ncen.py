r"""SEC Form N-CEN, Item E.2: what each authorized participant bought from and sold to an ETF.

One row per ETF × authorized participant for the registrant's fiscal year (columns
``etf_series_id, fund_name, ap_name, purchase_value_usd, redeem_value_usd,
period_of_report (YYYYMMDD)``). Read as the ``fund_flows_reported`` kind, one row per ETF:

.. math:: \text{sales} = \sum_{AP} \text{purchase}, \qquad
          \text{redemptions} = \sum_{AP} \text{redeem}, \qquad
          \text{net\_flow} = \text{sales} - \text{redemptions}

(creations are the APs' purchases of creation units, redemptions their redemptions). The
year ends on ``period_of_report`` and starts the day after the same date a year before
(inferred and noted); the notes count the AP rows summed and those that were zero.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flowpressure._errors import DataError
from flowpressure.data.formats import FormatRead, SourceFormat
from flowpressure.data.formats._fileread import file_sql, require_columns, require_numbers

__all__ = ["FORMATS"]

_NEEDED = (
    "etf_series_id",
    "ap_name",
    "purchase_value_usd",
    "redeem_value_usd",
    "period_of_report",
)


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, _NEEDED, "ncen")
    have = set(con.sql(f"SELECT * FROM {file_sql(path)} LIMIT 0").columns)
    require_numbers(
        con, path, ["purchase_value_usd", "redeem_value_usd"], ["etf_series_id", "ap_name"]
    )
    end = "CAST(try_strptime(trim(CAST(period_of_report AS VARCHAR)), '%Y%m%d') AS DATE)"
    bad = con.sql(
        f"SELECT etf_series_id, period_of_report FROM {file_sql(path)} WHERE {end} IS NULL "
        "ORDER BY etf_series_id"
    ).fetchall()
    if bad:
        raise DataError(
            field="period_of_report",
            key={"etf_series_id": bad[0][0]},
            expected="a date YYYYMMDD",
            got=bad[0][1],
            others=len(bad) - 1,
        )
    name = "max(trim(fund_name))" if "fund_name" in have else "NULL"
    ticker = "max(nullif(trim(ticker), ''))" if "ticker" in have else "NULL"
    buy = "TRY_CAST(purchase_value_usd AS DOUBLE)"
    sell = "TRY_CAST(redeem_value_usd AS DOUBLE)"
    sql = f"""
        SELECT
            trim(etf_series_id) AS fund_id,
            CAST({end} - INTERVAL 1 YEAR + INTERVAL 1 DAY AS DATE) AS period_start,
            {end} AS date,
            sum(coalesce({buy}, 0)) AS sales,
            sum(coalesce({sell}, 0)) AS redemptions,
            NULL::DOUBLE AS reinvestments,
            sum(coalesce({buy}, 0)) - sum(coalesce({sell}, 0)) AS net_flow,
            'ncen' AS source,
            trim(etf_series_id) AS series_id,
            CASE WHEN {ticker} IS NULL THEN {name}
                 ELSE concat({name}, ' (', {ticker}, ')') END AS fund_name,
            count(*) AS _fp_aps,
            count(*) FILTER (WHERE coalesce({buy}, 0) = 0 AND coalesce({sell}, 0) = 0)
                AS _fp_zero,
            count(*) FILTER (WHERE {buy} IS NULL OR {sell} IS NULL) AS _fp_blank
        FROM {file_sql(path)}
        GROUP BY trim(etf_series_id), {end}
    """
    base = con.sql(sql)
    etfs, aps, zero, blank = base.aggregate(
        "count(*), sum(_fp_aps), sum(_fp_zero), sum(_fp_blank)"
    ).fetchall()[0]
    notes = {
        "etfs": int(etfs),
        "ap_rows_summed": int(aps or 0),
        "ap_rows_zero": int(zero or 0),
        "ap_rows_blank_as_zero": int(blank or 0),
        "sales": "sum of the APs' purchase_value_usd (creations) per ETF and year",
        "redemptions": "sum of the APs' redeem_value_usd per ETF and year",
        "period_start": "inferred: the day after period_of_report one year earlier",
    }
    relation = base.project(
        "fund_id, period_start, date, sales, redemptions, reinvestments, net_flow, source, "
        "series_id, fund_name"
    )
    return FormatRead(relation, notes)


FORMATS = (
    SourceFormat(
        name="ncen",
        kind="fund_flows_reported",
        description="SEC N-CEN ETF x authorized-participant purchases/redemptions, summed per ETF",
        signature=("etf_series_id", "ap_name", "purchase_value_usd", "redeem_value_usd"),
        read=_read,
    ),
)
