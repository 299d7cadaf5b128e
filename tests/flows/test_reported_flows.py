"""Reported fund flows (N-PORT, 24F-2NT, N-CEN) on the real SEC extracts in the shared data.

Every expected figure is computed here from the CSV itself with polars, not by the code under
test: N-PORT net = sales + reinvestment - redemption (AST's negative redemptions flipped),
24F-2NT net sales = max(0, sales - redemptions - prior credits) as the form defines, N-CEN
totals summed per ETF over its authorized participants.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure import DataError, SchemaError
from flowpressure.cli import app
from flowpressure.data import load_file, scan_source
from flowpressure.flows import reported_flows
from tests.conftest import SHARED_DATA

NPORT = SHARED_DATA / "funds" / "edgartools_nport_fund_flows_3funds.csv"
RETURNS = SHARED_DATA / "funds" / "edgartools_nport_class_returns_3funds.csv"
F24 = SHARED_DATA / "funds" / "edgartools_24f2nt_annual_sales_redemptions.csv"
NCEN = SHARED_DATA / "etf" / "edgartools_ncen_ab_active_etfs_ap_flows_fy2025.csv"
pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in (NPORT, RETURNS, F24, NCEN)), reason="shared SEC extracts absent"
)
KIND = "fund_flows_reported"
runner = CliRunner()


def raw(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


def num(df: pl.DataFrame, col: str) -> pl.Series:
    return df[col].cast(pl.Float64)


def row(df: pl.DataFrame, fund_id: str, date: dt.date) -> dict[str, Any]:
    out = df.filter((pl.col("fund_id") == fund_id) & (pl.col("date") == date))
    assert out.height == 1
    return out.row(0, named=True)


def run_json(*args: str) -> dict[str, Any]:
    done = runner.invoke(app, ["flows-reported", *args, "--json"])
    assert done.exit_code == 0, done.output
    payload: dict[str, Any] = json.loads(done.stdout)
    return payload


def test_nport_dupree_december_2022_net_flow() -> None:
    src = raw(NPORT).filter((pl.col("series_id") == "S000012000") & (pl.col("month") == "2022-12"))
    sales, reinvest, redeemed = (
        float(num(src, c)[0]) for c in ("sales", "reinvestment", "redemption")
    )
    expected = sales + reinvest - redeemed  # 601,068.84 + 31,270.28 - 1,787,701.76
    assert expected == pytest.approx(-1_155_362.64, abs=1e-6)
    got = row(load_file(NPORT, KIND), "S000012000", dt.date(2022, 12, 31))
    assert got["period_start"] == dt.date(2022, 12, 1)
    assert got["net_flow"] == pytest.approx(expected, abs=1e-6)
    assert got["tna"] == pytest.approx(float(num(src, "net_assets")[0]))  # 41,349,926.01
    assert got["source"] == "nport"
    oct_ = row(load_file(NPORT, KIND), "S000012000", dt.date(2022, 10, 31))
    assert oct_["tna"] is None  # N-PORT gives net assets at the report date only


def test_nport_ast_negative_redemptions_are_flipped_and_counted() -> None:
    src = raw(NPORT).filter(pl.col("series_id") == "S000030880").sort("month")
    negative = int((num(src, "redemption") < 0).sum())
    assert negative == 3
    scan = scan_source(duckdb.connect(), NPORT, KIND)
    assert scan.format == "nport"
    assert scan.inferred
    assert scan.notes["rows_redemptions_sign_flipped"] == negative
    assert scan.notes["redemptions_sign_flipped_by_fund"] == {"S000030880": negative}
    got = load_file(NPORT, KIND).filter(pl.col("fund_id") == "S000030880").sort("date")
    assert got["redemptions"].to_list() == pytest.approx((-num(src, "redemption")).to_list())
    net = num(src, "sales") + num(src, "reinvestment") + num(src, "redemption")
    assert got["net_flow"].to_list() == pytest.approx(net.to_list())
    assert float(got["net_flow"].sum()) == pytest.approx(-42_632_527.62, abs=1e-4)


def test_24f2nt_net_flow_and_the_forms_net_sales() -> None:
    src = raw(F24)
    got = load_file(F24, KIND)
    out = reported_flows(got)
    assert out.height == src.height == 6
    for r in src.iter_rows(named=True):
        fund_id = r["seriesOrClassId"] or r["seriesId"]
        end = dt.datetime.strptime(r["lastDayOfFiscalYear"], "%m/%d/%Y").date()
        mine = row(out, fund_id, end)
        sales = float(r["aggregateSalePriceOfSecuritiesSold"])
        redeemed = float(r["aggregatePriceOfSecuritiesRedeemedOrRepurchasedInFiscalYear"])
        prior = float(r["aggregatePriceOfSecuritiesRedeemedOrRepurchasedAnyPrior"])
        assert mine["net_flow"] == pytest.approx(sales - redeemed)
        assert mine["net_sales_form"] == pytest.approx(max(0.0, sales - redeemed - prior))
        assert mine["net_sales_form"] == pytest.approx(float(r["netSales"]))
        assert mine["period_start"] == end.replace(year=end.year - 1) + dt.timedelta(days=1)
    hamlin = row(out, "S000036634", dt.date(2025, 12, 31))
    assert hamlin["net_sales_form"] == pytest.approx(109_874_728.46)
    scan = scan_source(duckdb.connect(), F24, KIND)
    assert scan.notes["rows_keyed_by_class"] == 5
    assert scan.notes["rows_net_sales_disagree"] == 0


def test_ncen_creations_and_redemptions_summed_per_etf() -> None:
    src = raw(NCEN).with_columns(
        num(raw(NCEN), "purchase_value_usd"), num(raw(NCEN), "redeem_value_usd")
    )
    per_etf = src.group_by("etf_series_id").agg(
        pl.col("purchase_value_usd").sum(), pl.col("redeem_value_usd").sum()
    )
    got = load_file(NCEN, KIND)
    assert got.height == per_etf.height == 22
    joined = per_etf.join(got, left_on="etf_series_id", right_on="fund_id")
    assert joined.height == 22
    assert joined["sales"].to_list() == pytest.approx(joined["purchase_value_usd"].to_list())
    assert joined["redemptions"].to_list() == pytest.approx(joined["redeem_value_usd"].to_list())
    total = float(src["purchase_value_usd"].sum() - src["redeem_value_usd"].sum())
    assert float(got["net_flow"].sum()) == pytest.approx(total)
    assert set(got["date"].to_list()) == {dt.date(2025, 11, 30)}
    scan = scan_source(duckdb.connect(), NCEN, KIND)
    assert scan.notes["ap_rows_summed"] == src.height == 484
    zero = src.filter((pl.col("purchase_value_usd") == 0) & (pl.col("redeem_value_usd") == 0))
    assert scan.notes["ap_rows_zero"] == zero.height


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four real extracts ingested by the CLI, each format recognised from its columns."""
    db = tmp_path_factory.mktemp("reported") / "fp.duckdb"
    for kind, path in ((KIND, NPORT), (KIND, F24), (KIND, NCEN), ("fund_returns", RETURNS)):
        done = runner.invoke(app, ["ingest", kind, str(path), "--db", str(db), "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["notes"]["format_inferred"] is True
    return db


def test_file_and_store_give_the_same_rows(store: Path) -> None:
    from_files: list[dict[str, Any]] = []
    for path in (NPORT, F24, NCEN):
        from_files += run_json(str(path))["rows"]
    stored = run_json(KIND, "--db", str(store))["rows"]
    key = ("fund_id", "period_start", "date")

    def canon(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        cols = ("sales", "redemptions", "net_flow", "gross_flow", "tna", "net_sales_form")
        return sorted(tuple(r[k] for k in key) + tuple(r.get(c) for c in cols) for r in rows)

    assert canon(stored) == canon(from_files)
    assert len(stored) == 9 + 6 + 22


def fund_panel_from_nport(tweak: float = 0.0) -> pl.DataFrame:
    """Dupree's TNA path backed out from its real Dec net assets, flows and class returns."""
    flows = raw(NPORT).filter(pl.col("series_id") == "S000012000").sort("month")
    rets = raw(RETURNS).filter(pl.col("series_id") == "S000012000").sort("month")
    assert rets["class_id"].n_unique() == 1
    net = (num(flows, "sales") + num(flows, "reinvestment") - num(flows, "redemption")).to_list()
    r = (num(rets, "total_return_pct") / 100).to_list()
    tna = [0.0, 0.0, float(num(flows, "net_assets")[2])]
    for t in (2, 1):  # end timing: TNA_{t-1} = (TNA_t - F_t) / (1 + R_t)
        tna[t - 1] = (tna[t] - net[t]) / (1 + r[t])
    tna[2] += tweak
    days = [dt.date(2022, 10, 31), dt.date(2022, 11, 30), dt.date(2022, 12, 31)]
    return pl.DataFrame({"fund_id": ["S000012000"] * 3, "date": days, "tna": tna, "ret_total": r})


def test_implied_flow_beside_reported_and_the_gap(tmp_path: Path) -> None:
    fund = tmp_path / "fund.csv"
    fund_panel_from_nport().write_csv(fund)
    rows = run_json(str(NPORT), "--fund", str(fund))["rows"]
    dupree = {r["date"]: r for r in rows if r["fund_id"] == "S000012000"}
    for day in ("2022-11-30", "2022-12-31"):
        assert dupree[day]["implied_flow"] == pytest.approx(dupree[day]["net_flow"], abs=1e-4)
        assert dupree[day]["flow_gap"] == pytest.approx(0.0, abs=1e-4)
        assert dupree[day]["implied_periods"] == 1
    assert dupree["2022-10-31"]["implied_flow"] is None
    assert dupree["2022-10-31"]["implied_note"] == "birth_or_gap"
    others = [r for r in rows if r["fund_id"] != "S000012000"]
    assert {r["implied_note"] for r in others} == {"no_fund_rows"}
    # 100,000 more TNA at December than the reported flows explain: the gap shows it.
    out = reported_flows(load_file(NPORT, KIND), fund_panel_from_nport(tweak=1e5))
    dec = row(out, "S000012000", dt.date(2022, 12, 31))
    assert dec["flow_gap"] == pytest.approx(-1e5, abs=1e-4)
    assert dec["implied_flow"] == pytest.approx(dec["net_flow"] + 1e5, abs=1e-4)


def test_a_files_own_net_flow_must_add_up() -> None:
    day = dt.date(2024, 1, 31)
    frame = pl.DataFrame(
        {
            "fund_id": ["A", "B"],
            "period_start": [dt.date(2024, 1, 1)] * 2,
            "date": [day] * 2,
            "sales": [10.0, 10.0],
            "redemptions": [4.0, 4.0],
            "reinvestments": [1.0, 1.0],
            "net_flow": [7.0, 6.0],
        }
    )
    with pytest.raises(DataError, match=r"net_flow.*fund_id=B.*= 7\.0.*got 6\.0"):
        reported_flows(frame)
    backwards = frame.with_columns(period_start=pl.lit(dt.date(2024, 2, 1))).drop("net_flow")
    with pytest.raises(DataError, match=r"period_start.*fund_id=A"):
        reported_flows(backwards)


def test_bad_files_are_refused_with_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "nport.csv"
    text = NPORT.read_text().splitlines()
    text[2] = text[2].replace("99071.38", "n/a")
    bad.write_text("\n".join(text) + "\n")
    done = runner.invoke(app, ["flows-reported", str(bad)])
    assert done.exit_code == 2
    assert "nport.csv line 3" in done.output
    assert "'sales'" in done.output
    assert "'n/a'" in done.output
    with pytest.raises(SchemaError, match="nport format needs column 'series_id'"):
        load_file(F24, KIND, fmt="nport")
    done = runner.invoke(app, ["flows-reported", str(F24), "--format", "cboe"])
    assert done.exit_code == 2
    assert "format" in done.output


def test_nport_class_returns_give_the_flow_as_a_share_of_assets(store: Path) -> None:
    flows = raw(NPORT).filter(
        (pl.col("series_id") == "S000012000") & (pl.col("month") == "2022-12")
    )
    net = float(
        num(flows, "sales")[0] + num(flows, "reinvestment")[0] - num(flows, "redemption")[0]
    )
    tna = float(num(flows, "net_assets")[0])
    rets = raw(RETURNS)
    r_dec = (
        float(
            num(
                rets.filter((pl.col("class_id") == "C000032728") & (pl.col("month") == "2022-12")),
                "total_return_pct",
            )[0]
        )
        / 100
    )
    tna_start = (tna - net) / (1 + r_dec)  # end timing: TNA_{t-1}(1 + R_t) + F_t = TNA_t
    payload = run_json(str(NPORT), "--returns", str(RETURNS))
    assert payload["notes"]["returns"]["classes_by_series"]["S000013795"] == 8
    by_key = {(r["fund_id"], r["date"]): r for r in payload["rows"]}
    dec = by_key[("S000012000", "2022-12-31")]
    assert dec["ret_total"] == pytest.approx(r_dec)
    assert dec["tna_start"] == pytest.approx(tna_start)
    assert dec["flow_pct"] == pytest.approx(net / tna_start)
    assert dec["flow_pct"] == pytest.approx(-0.02722, abs=1e-5)
    assert by_key[("S000012000", "2022-11-30")]["flow_pct"] is None  # no tna that month
    gs = rets.filter((pl.col("series_id") == "S000013795") & (pl.col("month") == "2023-01"))
    jan = by_key[("S000013795", "2023-01-31")]
    pct = num(gs, "total_return_pct") / 100
    assert jan["ret_classes"] == gs.height == 8
    assert jan["ret_total"] == pytest.approx(float(pct.mean()))  # type: ignore[arg-type]
    assert jan["ret_spread"] == pytest.approx(float(pct.max() - pct.min()))  # type: ignore[operator]
    # stored: the same rows (the store also holds the 24F-2NT and N-CEN rows)
    stored = run_json(KIND, "--db", str(store), "--returns", "fund_returns")["rows"]
    stored = [r for r in stored if r["source"] == "nport"]
    cols = ("fund_id", "date", "net_flow", "ret_total", "ret_classes", "tna_start", "flow_pct")
    assert sorted(tuple(r[c] for c in cols) for r in stored) == sorted(
        tuple(r[c] for c in cols) for r in payload["rows"]
    )
