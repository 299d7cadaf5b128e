r"""Check ``fund-flows``: the flow TNA and returns imply against the flow N-PORT reports.

A fund's flow is measured by the universal formula (:func:`flowpressure.flows.fund_flows`)
from its total net assets and return; N-PORT Item B.6 reports the same money gross, as monthly
sales, reinvestments and redemptions. The identity says the two agree up to the timing of the
flow within the period (end or start) and the return earned on the flow. This check reads the
N-PORT extracts with the project's ``nport`` formats and sets the two side by side with
:func:`flowpressure.flows.reported_flows`, where the data allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import polars as pl

from flowpressure._errors import DataError
from flowpressure.data.formats import get_format
from flowpressure.flows import fund_flows, reported_flows
from flowpressure.validate._paths import require
from flowpressure.validate._result import ChartSeries, ChartSpec, CheckResult, Verdict
from flowpressure.validate._stats import correlation

__all__ = [
    "MAE_FAIL",
    "MAE_PASS",
    "NAME",
    "chain_back",
    "check_fund_flows",
    "run",
]

NAME = "fund-flows"
#: Verdict thresholds, fixed before the data was looked at: mean absolute error (fraction of
#: TNA_{t-1}) and correlation of implied against reported flows.
MAE_PASS = 0.01
MAE_FAIL = 0.05
CORR_PASS = 0.9
CORR_FAIL = 0.5
#: Fewest comparable fund-periods for a correlation to mean anything.
MIN_COMPARABLE = 3

Timing = Literal["end", "start"]


def chain_back(
    tna_end: float, flows: Sequence[float], rets: Sequence[float], timing: Timing
) -> list[float]:
    r"""Back out the TNA at the start of each period from the last period's TNA.

    ``flows`` and ``rets`` are in date order; the result holds :math:`TNA_{t-1}` for each
    period (the first entry is the TNA before the first period). End timing inverts
    :math:`TNA_t = TNA_{t-1}(1+R_t) + F_t`, start timing :math:`TNA_t = (TNA_{t-1}+F_t)(1+R_t)`.

    Examples
    --------
    >>> [round(v) for v in chain_back(503e6, [2e6], [0.002], "end")]
    [500000000]
    >>> [round(v / 1e3) for v in chain_back(110.0e3, [0.0, 10.0e3], [0.0, 0.1], "start")]
    [90, 90]
    """
    out: list[float] = []
    tna = float(tna_end)
    for flow, ret in zip(reversed(list(flows)), reversed(list(rets)), strict=True):
        tna = (tna - flow) / (1.0 + ret) if timing == "end" else tna / (1.0 + ret) - flow
        out.append(tna)
    return out[::-1]


def _read(path: Path, kind: str) -> tuple[pl.DataFrame, dict[str, Any]]:
    con = duckdb.connect()
    try:
        read = get_format(kind, "nport").read(con, path)
        frame = read.relation.pl()
    except duckdb.Error as exc:
        raise DataError(f"{path.name}: cannot read as N-PORT ({exc})", field="file") from None
    return frame, dict(read.notes)


def _quarters(monthly: pl.DataFrame) -> pl.DataFrame:
    """Each reported month joined to its filing: the first month at or after it with a TNA."""
    ends = (
        monthly.filter(pl.col("tna").is_not_null())
        .select("fund_id", pl.col("date").alias("filing_date"), pl.col("tna").alias("filing_tna"))
        .sort("filing_date")
    )
    return (
        monthly.sort("date")
        .join_asof(
            ends,
            left_on="date",
            right_on="filing_date",
            by="fund_id",
            strategy="forward",
            check_sortedness=False,
        )
        .with_columns(
            months_before=(pl.col("filing_date").dt.year() - pl.col("date").dt.year()) * 12
            + pl.col("filing_date").dt.month()
            - pl.col("date").dt.month()
        )
        .with_columns(
            filing_date=pl.when(pl.col("months_before") <= 2).then(pl.col("filing_date")),
            filing_tna=pl.when(pl.col("months_before") <= 2).then(pl.col("filing_tna")),
        )
        .sort("fund_id", "date")
    )


def _mae(implied: pl.Series, reported: pl.Series, base: pl.Series) -> float:
    gap = ((implied - reported) / base).drop_nulls().drop_nans()
    return float(gap.abs().to_numpy().mean()) if gap.len() else float("nan")


def check_fund_flows(nport_flows: Path, nport_returns: Path) -> CheckResult:
    r"""Implied against reported fund flows on the N-PORT extracts.

    Parameters
    ----------
    nport_flows
        ``funds/edgartools_nport_fund_flows_3funds.csv``: per series and month of each filing,
        Item B.6 sales, reinvestment and redemption and the report-date ``net_assets``.
    nport_returns
        ``funds/edgartools_nport_class_returns_3funds.csv``: Item B.5 monthly total return
        (percent) per share class.

    Returns
    -------
    CheckResult

    Raises
    ------
    DataError
        A file cannot be read in the ``nport`` formats, or holds no fund-month with a return.

    Notes
    -----
    **Method.** Reported net flow per month :math:`F^{rep}_m = S_m + D_m - R_m` (redemptions
    positive; a filer reporting them negative is flipped by the reader and counted), the
    series' return :math:`R_m` the mean of its classes' returns (the class weights are not in
    the filing), both from :func:`~flowpressure.flows.reported_flows`. N-PORT gives net assets
    at the report date only, one TNA per filing, so a monthly :math:`TNA_{t-1}` never exists
    and a monthly implied flow cannot be computed. The comparison the data allows is per
    filing quarter: a fund panel with one row per report date (TNA, the quarter's return
    :math:`\prod_m(1+R_m)-1`) goes through :func:`~flowpressure.flows.fund_flows` with
    ``timing="end"`` (:math:`F = TNA_t - TNA_{t-1}(1+R)`) and ``timing="start"``
    (:math:`F = TNA_t/(1+R) - TNA_{t-1}`), and each implied quarter flow is compared with
    :math:`\sum_m F^{rep}_m`: correlation, mean absolute error in % of :math:`TNA_{t-1}` for
    each timing, the timing with the lower error. That needs two consecutive filings of a
    fund; a fund's first filing is a birth. What one filing does allow is reported as well:
    the start-of-quarter TNA the identity implies (chained back month by month from the
    report-date TNA with the reported flows and returns, each timing), the quarter's reported
    flow in % of it, and how far the two timings differ. A start TNA at or below zero would
    mean flows, returns and TNA cannot all be right.

    **Reference.** The accounting identity :math:`TNA_t = TNA_{t-1}(1+R_t) + F_t`: implied
    equals reported up to the timing of the flow and the return earned on it within the
    period (well under 1 % of TNA for monthly bond-fund returns).

    **Verdict** (fixed in code before looking at the data). With at least
    :data:`MIN_COMPARABLE` comparable fund-quarters: ``pass`` when the better timing has
    correlation > 0.9 and MAE < 1 % of :math:`TNA_{t-1}`; ``fail`` when its correlation
    < 0.5 or its MAE > 5 %; else ``partial``. With fewer: ``partial`` (the identity cannot be
    tested), unless a chained-back start TNA is <= 0, which is ``fail``.
    """
    rep, rep_notes = _read(nport_flows, "fund_flows_reported")
    rets, ret_notes = _read(nport_returns, "fund_returns")
    monthly = pl.DataFrame(reported_flows(rep, returns=rets))
    if monthly.height == 0 or monthly["ret_total"].is_null().all():
        raise DataError(
            f"{nport_flows.name}: no fund-month with a return in {nport_returns.name}",
            field="total_return_pct",
        )
    monthly = _quarters(monthly)
    n_months = monthly.height
    n_funds = monthly["fund_id"].n_unique()
    no_ret = int(monthly["ret_total"].is_null().sum())
    no_filing = int(monthly["filing_date"].is_null().sum())
    flipped = dict(rep_notes.get("redemptions_sign_flipped_by_fund") or {})

    # --- per filing: what one report-date TNA allows ------------------------------------------
    filings: list[dict[str, Any]] = []
    chart_x: list[str] = []
    chart_end: list[float] = []
    chart_start: list[float] = []
    for (fund, fdate), grp in monthly.filter(pl.col("filing_date").is_not_null()).group_by(
        ["fund_id", "filing_date"], maintain_order=True
    ):
        grp = grp.sort("date")
        if grp["ret_total"].is_null().any():
            continue
        flows = grp["net_flow"].to_list()
        rr = grp["ret_total"].to_list()
        tna = float(grp["filing_tna"][0])
        end = chain_back(tna, flows, rr, "end")
        start = chain_back(tna, flows, rr, "start")
        row: dict[str, Any] = {
            "fund_id": fund,
            "fund_name": grp["fund_name"][0],
            "report_date": fdate,
            "months": grp.height,
            "tna_report": tna,
            "reported_flow": float(sum(flows)),
            "quarter_return": float(np.prod([1.0 + r for r in rr]) - 1.0),
            "class_return_spread_max": float(grp["ret_spread"].fill_null(0.0).to_numpy().max()),
            "tna_start_end_timing": end[0],
            "tna_start_start_timing": start[0],
            "flow_pct_of_start_tna": float(sum(flows)) / end[0] if end[0] else None,
            "timing_gap_pct": abs(end[0] - start[0]) / abs(end[0]) if end[0] else None,
        }
        if flipped.get(str(fund)) == grp.height:  # the filer's own sign, taken literally
            literal = [
                f + 2.0 * r for f, r in zip(flows, grp["redemptions"].to_list(), strict=True)
            ]
            row["tna_start_literal_sign"] = chain_back(tna, literal, rr, "end")[0]
        filings.append(row)
        for d, f, te, ts in zip(grp["date"].to_list(), flows, end, start, strict=True):
            chart_x.append(f"{fund} {d:%Y-%m}")
            chart_end.append(100.0 * f / te)
            chart_start.append(100.0 * f / ts)

    # --- per fund-quarter: implied (fund_flows) against reported, where two filings exist -----
    # a filing covers three months; a shorter one cannot give a quarter's return
    full = [f for f in filings if f["months"] == 3]
    quarter = pl.DataFrame(
        {
            "fund_id": [f["fund_id"] for f in full],
            "date": [f["report_date"] for f in full],
            "tna": [f["tna_report"] for f in full],
            "ret_total": [f["quarter_return"] for f in full],
            "reported": [f["reported_flow"] for f in full],
        },
        schema={
            "fund_id": pl.String,
            "date": pl.Date,
            "tna": pl.Float64,
            "ret_total": pl.Float64,
            "reported": pl.Float64,
        },
    )
    compare: dict[str, dict[str, Any]] = {}
    n_cmp = 0
    for timing in ("end", "start"):
        out = pl.DataFrame(fund_flows(quarter, timing=timing, freq="Q"))
        out = out.with_columns(prev=pl.col("tna").shift(1).over("fund_id", order_by="date"))
        ok = out.filter(pl.col("flow").is_not_null())
        n_cmp = ok.height
        r, _ = correlation(ok["flow"].to_numpy(), ok["reported"].to_numpy())
        compare[timing] = {
            "corr": r,
            "mae_pct": _mae(ok["flow"], ok["reported"], ok["prev"]) if n_cmp else float("nan"),
            "n": n_cmp,
            "births": int((out["flow_note"] == "birth").sum()),
            "gaps": int((out["flow_note"] == "gap").sum()),
        }
    best: str | None = None
    if n_cmp:
        best = min(compare, key=lambda k: compare[k]["mae_pct"])

    starts = [f["tna_start_end_timing"] for f in filings] + [
        f["tna_start_start_timing"] for f in filings
    ]
    impossible = [
        f["fund_id"]
        for f in filings
        if min(f["tna_start_end_timing"], f["tna_start_start_timing"]) <= 0
    ]
    verdict: Verdict
    if n_cmp >= MIN_COMPARABLE and best is not None:
        r_best = compare[best]["corr"]
        mae_best = compare[best]["mae_pct"]
        if r_best > CORR_PASS and mae_best < MAE_PASS:
            verdict = "pass"
        elif r_best < CORR_FAIL or mae_best > MAE_FAIL:
            verdict = "fail"
        else:
            verdict = "partial"
    elif impossible:
        verdict = "fail"
    else:
        verdict = "partial"

    pcts = [f["flow_pct_of_start_tna"] for f in filings if f["flow_pct_of_start_tna"] is not None]
    gaps = [f["timing_gap_pct"] for f in filings if f["timing_gap_pct"] is not None]
    if n_cmp >= MIN_COMPARABLE and best is not None:
        figure = (
            f"corr {compare['end']['corr']:.2f} (end) / {compare['start']['corr']:.2f} (start), "
            f"MAE {100 * compare['end']['mae_pct']:.2f}% / "
            f"{100 * compare['start']['mae_pct']:.2f}% "
            f"of TNA, best {best}, {n_cmp} fund-quarters"
        )
    else:
        figure = (
            f"not computable: one TNA per filing, {n_cmp} of {len(filings)} fund-quarters "
            f"comparable; quarter flows {100 * min(pcts):.1f}% to {100 * max(pcts):.1f}% of "
            f"implied start TNA ({'all > 0' if not impossible else 'some <= 0'}); "
            f"end vs start timing <= {100 * max(gaps):.2f}% of TNA"
            if pcts and gaps
            else f"implied vs reported not computable: {n_cmp} comparable fund-quarters"
        )
    notes = [
        "N-PORT Item B.1 gives net assets at the report date only (one TNA per filing, per "
        "fund here), so no monthly TNA_{t-1} exists: a monthly implied flow, its correlation "
        "and its MAE cannot be computed from these files. Only a quarter total between two "
        "consecutive filings is comparable, and each fund has one filing.",
        "The start-of-quarter TNA is chained back from the report-date TNA with the reported "
        "flows themselves: it is a consistency check (positive, plausible), not an independent "
        "test of the identity.",
        "The series return is the equal-weighted mean of its classes' returns (N-PORT gives no "
        "class assets); the largest class spread in a month is in the figures.",
    ]
    if flipped:
        notes.append(
            "Redemptions reported as negative numbers were flipped by the reader: "
            + ", ".join(f"{k} ({v} months)" for k, v in flipped.items())
            + "; taken literally they give the start TNA in 'tna_start_literal_sign'."
        )
    if impossible:
        notes.append("A chained-back start TNA <= 0 for: " + ", ".join(impossible))
    if no_ret:
        notes.append(f"{no_ret} fund-months without a class return: their filing is left out.")
    if no_filing:
        notes.append(f"{no_filing} fund-months with no report-date TNA in the 3 months after.")
    if len(full) < len(filings):
        notes.append(f"{len(filings) - len(full)} filings with fewer than 3 months left out.")
    figures: dict[str, Any] = {
        "corr_end": compare["end"]["corr"],
        "corr_start": compare["start"]["corr"],
        "mae_pct_end": compare["end"]["mae_pct"],
        "mae_pct_start": compare["start"]["mae_pct"],
        "best_timing": best,
        "n_fund_months_reported": n_months,
        "n_fund_months_comparable": 0,
        "n_fund_quarters": len(filings),
        "n_fund_quarters_comparable": n_cmp,
        "n_fund_months_no_filing": no_filing,
        "n_fund_months_no_return": no_ret,
        "quarter_births": compare["end"]["births"],
        "quarter_gaps": compare["end"]["gaps"],
        "n_funds": n_funds,
        "min_start_tna": min(starts) if starts else None,
        "thresholds": {
            "corr_pass": CORR_PASS,
            "mae_pass": MAE_PASS,
            "corr_fail": CORR_FAIL,
            "mae_fail": MAE_FAIL,
            "min_comparable": MIN_COMPARABLE,
        },
        "filings": filings,
        "reader_notes": {"flows": rep_notes, "returns": ret_notes},
    }
    chart = ChartSpec(
        title="N-PORT reported monthly net flow, % of the TNA_{t-1} the identity implies",
        x_label="fund, month",
        y_label="% of TNA_{t-1}",
        series=(
            ChartSeries("end timing", chart_x, chart_end),
            ChartSeries("start timing", chart_x, chart_start),
        ),
        kind="bar",
    )
    return CheckResult(
        check=NAME,
        data=f"N-PORT (edgartools extracts), {n_funds} funds, {n_months} fund-months, "
        f"{len(filings)} filings",
        figure=figure,
        reference="identity TNA_t = TNA_{t-1}(1+R_t) + F_t: implied = reported up to timing",
        verdict=verdict,
        method="Reported net flow (sales + reinvestments - redemptions) per month and fund "
        "against fund_flows on one row per report date (end and start timing); with one TNA "
        "per filing, the start-of-quarter TNA is chained back instead.",
        figures=figures,
        inputs={"nport_flows": str(nport_flows), "nport_returns": str(nport_returns)},
        n=n_cmp,
        notes=tuple(notes),
        chart=chart,
    )


def run(root: Path) -> CheckResult:
    """Run :func:`check_fund_flows` on the files under ``root``."""
    paths = require(root, "nport_flows", "nport_returns")
    return check_fund_flows(paths["nport_flows"], paths["nport_returns"])
