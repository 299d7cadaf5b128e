r"""SEC Form 24F-2NT: a fund's aggregate sales and redemptions over its fiscal year.

One row per series or class and fiscal year (an extract of the form's Item 5, columns
``seriesId, seriesOrClassId, lastDayOfFiscalYear (MM/DD/YYYY), aggregateSalePriceOfSecuritiesSold,
aggregatePriceOfSecuritiesRedeemedOrRepurchasedInFiscalYear,
aggregatePriceOfSecuritiesRedeemedOrRepurchasedAnyPrior, netSales``). Read as the
``fund_flows_reported`` kind:

- ``fund_id`` = ``seriesOrClassId`` (the class when the form is filed per class), else
  ``seriesId``; how many rows were keyed each way is in the notes;
- the fiscal year ends on ``lastDayOfFiscalYear`` (``date``) and starts the day after the
  same date a year before (``period_start``, inferred and noted);
- ``sales`` = Item 5(i), ``redemptions`` = Item 5(ii) (this fiscal year),
  ``redemption_credits`` = Item 5(iii) (earlier years' unused redemptions);
- ``net_flow`` = sales − redemptions (the year's money in minus out). The form's own *net
  sales*, Item 5(v), also subtracts the earlier credits and is floored at zero:

  .. math:: \text{net sales} = \max(0,\ 5(i) - 5(ii) - 5(iii))

  the read checks the file's ``netSales`` against it and counts disagreements in the notes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flowpressure.data.formats import FormatRead, SourceFormat
from flowpressure.data.formats._fileread import file_sql, require_columns, require_numbers

__all__ = ["FORMATS"]

SALES = "aggregateSalePriceOfSecuritiesSold"
REDEEMED = "aggregatePriceOfSecuritiesRedeemedOrRepurchasedInFiscalYear"
PRIOR = "aggregatePriceOfSecuritiesRedeemedOrRepurchasedAnyPrior"
_NEEDED = ("seriesId", "lastDayOfFiscalYear", SALES, REDEEMED)


def _num(name: str) -> str:
    return f'TRY_CAST("{name}" AS DOUBLE)'


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> FormatRead:
    require_columns(con, path, _NEEDED, "24f2nt")
    have = set(con.sql(f"SELECT * FROM {file_sql(path)} LIMIT 0").columns)
    numbers = [c for c in (SALES, REDEEMED, PRIOR, "netSales") if c in have]
    require_numbers(con, path, numbers, ["seriesId", "lastDayOfFiscalYear"])
    own = "nullif(trim(seriesOrClassId), '')" if "seriesOrClassId" in have else "NULL"
    klass = "nullif(trim(className), '')" if "className" in have else "NULL"
    series_name = "nullif(trim(seriesName), '')" if "seriesName" in have else "NULL"
    prior = _num(PRIOR) if PRIOR in have else "NULL::DOUBLE"
    end = "CAST(try_strptime(trim(lastDayOfFiscalYear), '%m/%d/%Y') AS DATE)"
    # A date the form's MM/DD/YYYY does not parse stays text, so validation names it.
    date = f"coalesce(CAST({end} AS VARCHAR), lastDayOfFiscalYear)"
    sql = f"""
        SELECT
            coalesce({own}, trim(seriesId)) AS fund_id,
            CAST({end} - INTERVAL 1 YEAR + INTERVAL 1 DAY AS DATE) AS period_start,
            {date} AS date,
            {_num(SALES)} AS sales,
            {_num(REDEEMED)} AS redemptions,
            NULL::DOUBLE AS reinvestments,
            {_num(SALES)} - {_num(REDEEMED)} AS net_flow,
            {prior} AS redemption_credits,
            '24f2nt' AS source,
            trim(seriesId) AS series_id,
            CASE WHEN {klass} IS NULL THEN {series_name}
                 ELSE concat_ws(' ', {series_name}, {klass}) END AS fund_name,
            {own} IS NOT NULL AS _fp_by_class,
            {_num("netSales") if "netSales" in have else "NULL::DOUBLE"} AS _fp_net_sales
        FROM {file_sql(path)}
    """
    base = con.sql(sql)
    by_class, by_series, checked, disagree = base.aggregate(
        "count(*) FILTER (WHERE _fp_by_class), count(*) FILTER (WHERE NOT _fp_by_class), "
        "count(_fp_net_sales), "
        "count(*) FILTER (WHERE abs(_fp_net_sales - greatest(0, sales - redemptions "
        "- coalesce(redemption_credits, 0))) > 0.005)"
    ).fetchall()[0]
    notes = {
        "rows_keyed_by_class": int(by_class),
        "rows_keyed_by_series": int(by_series),
        "period_start": "inferred: the day after lastDayOfFiscalYear one year earlier",
        "net_flow": "sales - redemptions of the fiscal year (the form's net sales also "
        "subtracts earlier years' redemption credits)",
        "net_sales_checked": int(checked),
        "rows_net_sales_disagree": int(disagree),
    }
    relation = base.project(
        "fund_id, period_start, date, sales, redemptions, reinvestments, net_flow, "
        "redemption_credits, source, series_id, fund_name"
    )
    return FormatRead(relation, notes)


FORMATS = (
    SourceFormat(
        name="24f2nt",
        kind="fund_flows_reported",
        description="SEC Form 24F-2NT fiscal-year aggregate sales and redemptions per series/class",
        signature=("lastDayOfFiscalYear", SALES, REDEEMED),
        read=_read,
    ),
)
