"""Section builders: every number is the library's own output on the same data."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from flowpressure import ConfigError, DataError
from flowpressure.data import sample, sessions, shift_sessions
from flowpressure.flows import etf_flows, flow_lead_lag, flow_zscores, fund_flows
from flowpressure.mechanics import (
    PensionAssumptions,
    buyback_demand,
    cta_model,
    estimate_pension_flows,
    gamma_exposure,
    index_demand,
    vol_shock,
    vol_targeting,
)
from flowpressure.pressure import flow_calendar, liquidity, mixed_fund_multiplier, sqrt_impact
from flowpressure.report import SECTION_IDS, STATUSES, Report, ReportParams, build_report

AS_OF = dt.date(2018, 12, 31)


def test_sections_in_order_and_all_ok_on_the_sample(report: Report) -> None:
    assert [s.id for s in report.sections] == list(SECTION_IDS)
    assert {s.status for s in report.sections} == {"ok"}
    assert all(s.status in STATUSES for s in report.sections)
    assert report.as_of == AS_OF
    assert report.requested_as_of is None
    assert report.source == "embedded sample"
    for s in report.sections:
        assert all((s.headline, s.inputs, s.assumptions)), s.id
        assert s.figures or s.tables, s.id


def test_stamps_version_and_every_parameter(report: Report) -> None:
    import flowpressure

    assert report.version == flowpressure.__version__
    assert report.params == ReportParams()
    assert report.to_dict()["parameters"]["aum"] == 1e12
    assert report.data["prices"]["last"] == AS_OF
    assert report.data["fund"]["rows"] == sample.load("fund").height


def test_rebalancing_equals_estimate_pension_flows(
    report: Report, sample_tables: dict[str, pl.DataFrame]
) -> None:
    est = estimate_pension_flows(
        sample_tables["prices"], {"SPX": 0.6, "AGG_TR": 0.4}, 1e12, assumptions=PensionAssumptions()
    )
    windows = report.section("rebalancing").numbers["windows"]
    assert list(windows) == ["month", "quarter", "year"]
    for name, w in est.windows.items():
        got = windows[name]
        assert got["central"] == w.central["SPX"]
        assert got["low"] == w.low["SPX"]
        assert got["high"] == w.high["SPX"]
        assert got["mechanical"] == w.trade["SPX"]
        assert (got["start"], got["end"]) == (w.start, w.end)
    # The month window: SPX fell 9.18 % against bonds +1.38 % in December 2018, so buy equities.
    month = windows["month"]
    assert month["central"] == pytest.approx(14.253113857e9, rel=1e-9)
    assert month["low"] < month["central"] < month["high"]
    table = report.section("rebalancing").tables[0]
    assert [row[9] for row in table.rows] == [windows[n]["central"] for n in windows]


def test_calendar_counts_horizon_sessions_from_the_data_last_date(
    report: Report, sample_tables: dict[str, pl.DataFrame]
) -> None:
    cal = report.section("calendar").numbers
    assert cal["start"] == dt.date(2019, 1, 2)  # the session after 2018-12-31 (New Year's Day)
    assert cal["start"] == shift_sessions(AS_OF, 1)
    assert cal["sessions"] == 30
    assert len(sessions(cal["start"], cal["end"])) == 30
    assert cal["end"] == dt.date(2019, 2, 13)
    direct = flow_calendar(
        cal["start"],
        cal["end"],
        prices=sample_tables["prices"],
        buybacks=sample_tables["buybacks"],
        index_events=sample_tables["index_events"],
        options=sample_tables["options"],
        rebalance_aum=1e12,
    )
    detail = report.section("calendar").tables[-1]
    assert len(detail.rows) == direct.height == cal["events"]
    assert [r[0] for r in detail.rows] == direct["date"].to_list()
    assert cal["sized"] == int((direct["status"] == "sized").sum())
    sized = direct.filter(pl.col("status") == "sized")
    assert abs(cal["largest_dollars"]) == sized["dollars"].abs().max()


def test_fund_section_equals_fund_flows(
    report: Report, sample_tables: dict[str, pl.DataFrame]
) -> None:
    ff = fund_flows(sample_tables["fund"])
    dates = sorted(ff["date"].unique().to_list())[-12:]
    recent = ff.filter(pl.col("date").is_in(dates))
    nums = report.section("fund_flows").numbers
    assert nums["net_flow_12m"] == pytest.approx(recent["flow"].sum(), rel=1e-12)
    assert nums["inflow_12m"] + nums["outflow_12m"] == pytest.approx(nums["net_flow_12m"])
    z = flow_zscores(ff, 12).filter(pl.col("date") == AS_OF).drop_nulls("flow_z")
    top = z.sort(pl.col("flow_z").abs(), descending=True).row(0, named=True)
    assert (nums["top_z_fund"], nums["top_z"]) == (top["fund_id"], top["flow_z"])
    lags = flow_lead_lag(ff, 6, ret="ret_total")
    fig = next(f for f in report.section("fund_flows").figures if f.id == "fig-fund-leadlag")
    assert fig.data[0]["y"] == [row["corr"] for row in lags]
    assert fig.data[0]["x"] == list(range(-6, 7))


def test_etf_section_equals_etf_flows(
    report: Report, sample_tables: dict[str, pl.DataFrame]
) -> None:
    ef = etf_flows(sample_tables["etf"])
    dates = sorted(ef["date"].unique().to_list())[-20:]
    expected = ef.filter(pl.col("date").is_in(dates))["flow"].sum()
    nums = report.section("etf_flows").numbers
    assert nums["net_flow_recent"] == pytest.approx(expected, rel=1e-12)
    assert nums["etfs"] == 3


def test_index_section_equals_index_demand(
    report: Report, sample_tables: dict[str, pl.DataFrame]
) -> None:
    out = index_demand(
        sample_tables["index_events"], sample_tables["prices"], indexed_assets=1.5e13
    )
    section = report.section("index_events")
    table = section.tables[0]
    assert len(table.rows) == out.height == 8
    assert [r[8] for r in table.rows] == out["demand"].to_list()
    assert [r[11] for r in table.rows] == out["days_of_adv"].to_list()
    assert section.numbers["top_days_of_adv"] == out["days_of_adv"].max()
    assert section.numbers["net_demand"] == pytest.approx(out["demand"].sum())


def test_buyback_vol_cta_gamma_equal_the_library(
    report: Report, sample_tables: dict[str, pl.DataFrame]
) -> None:
    px = sample_tables["prices"]
    dem = buyback_demand(sample_tables["buybacks"], px)
    nxt = dem.periods.filter(pl.col("estimated")).sort("asset_id")
    buybacks = report.section("buybacks")
    assert buybacks.numbers["expected"] == pytest.approx(nxt["repurchases"].sum())
    table = buybacks.tables[0]
    assert [r[0] for r in table.rows] == nxt["asset_id"].to_list()
    assert [r[6] for r in table.rows] == nxt["repurchases"].to_list()  # expected, per asset
    assert {r[5] for r in table.rows} == {"2019-01-01..2019-03-31"}
    assert buybacks.numbers["period_first_day"] == dt.date(2019, 1, 1)

    vt = vol_targeting(px, "SPX", target=0.10, aum=1e11)
    last = vt.row(-1, named=True)
    vol = report.section("vol_target").numbers
    assert (vol["exposure"], vol["trade"]) == (last["exposure"], last["trade"])
    shock = vol_shock(1e11, 0.10, -0.04, vol_before=last["realized_vol"])
    assert vol["shock_total"] == float(shock.total[0])

    res = cta_model(px, "SPX", aum=3e11)
    cta = report.section("cta").numbers
    assert (cta["position"], cta["flow"], cta["flip_level"]) == (
        res.position,
        res.flow,
        res.flip_level,
    )

    g = gamma_exposure(sample_tables["options"])
    assert report.section("gamma").numbers["total_gex"] == g.total_gex


def test_pressure_is_the_seed_example_and_the_impact_of_the_central_trade(
    report: Report, sample_tables: dict[str, pl.DataFrame]
) -> None:
    nums = report.section("pressure").numbers
    ref = mixed_fund_multiplier(1.0, 0.8, 80, 1.0)
    assert (nums["price_after"], nums["multiplier"], nums["market_cap_change"]) == (1.05, 5.0, 4.0)
    assert nums["equity_inflow"] == ref.equity_inflow == 0.8
    cascade = report.section("pressure").tables[1]
    assert [r[2] for r in cascade.rows] == [s.amount for s in ref.steps]

    liq = liquidity(sample_tables["prices"], AS_OF, 20, ["SPX"]).row(0, named=True)
    central = report.section("rebalancing").numbers["windows"]["month"]["central"]
    est = sqrt_impact(central, liq["adv_dollars"], liq["sigma_daily"], 1.0, 5)
    assert nums["impact_bps"] == est.impact_bps
    assert nums["days_of_adv"] == est.days_of_adv
    # the square-root law itself: Y sigma sqrt(Q / ADV)
    expected = liq["sigma_daily"] * math.sqrt(central / liq["adv_dollars"]) * 1e4
    assert nums["impact_bps"] == pytest.approx(expected, rel=1e-12)


def test_questions_quote_the_sections(report: Report) -> None:
    from flowpressure.report._format import money

    answers = {q.key: q.answer for q in report.questions}
    assert list(answers) == ["source", "mechanism", "timing", "absorption"]
    month = report.section("rebalancing").numbers["windows"]["month"]
    assert money(month["central"]) in answers["source"]
    assert "57.33%" in answers["mechanism"]  # the drifted equity weight
    assert "2019-01-02..2019-02-13" in answers["timing"]
    assert "multiplier 5" in answers["absorption"]
    assert f"{report.section('pressure').numbers['impact_bps']:+.1f} bps" in answers["absorption"]


def test_missing_kinds_say_so_and_fake_nothing() -> None:
    report = build_report({"fund": sample.load("fund")})
    status = {s.id: s.status for s in report.sections}
    assert status["fund_flows"] == "ok"
    for sid in ("etf_flows", "rebalancing", "index_events", "buybacks", "vol_target", "cta"):
        assert status[sid] == "no data", sid
        section = report.section(sid)
        assert not section.blocks
        assert not section.numbers
        assert "flowpressure ingest" in section.headline
    assert report.section("index_events").headline == (
        "no index_events and prices in the data given; ingest them with "
        "`flowpressure ingest index_events FILE`; `flowpressure ingest prices FILE`"
    )
    # The calendar needs no data (calendar facts), unsized; pressure keeps its worked example.
    assert status["calendar"] == "ok"
    assert report.section("calendar").numbers["sized"] == 0
    assert status["pressure"] == "ok"
    assert "impact_bps" not in report.section("pressure").numbers
    answers = {q.key: q.answer for q in report.questions}
    assert "Funds: net" in answers["source"]


def test_unknown_assets_are_no_data_not_an_error(sample_tables: dict[str, pl.DataFrame]) -> None:
    tables = {"prices": sample_tables["prices"]}
    report = build_report(tables, params=ReportParams(equity_id="NOPE"))
    for sid in ("rebalancing", "vol_target", "cta"):
        section = report.section(sid)
        assert section.status == "no data"
        assert "NOPE (equity_id)" in section.headline


def test_as_of_cuts_the_data_before_anything_is_computed(
    sample_tables: dict[str, pl.DataFrame],
) -> None:
    tables = {k: sample_tables[k] for k in ("prices", "fund", "options")}
    report = build_report(tables, as_of="2018-06-16")  # a Saturday
    assert report.as_of == dt.date(2018, 6, 15)
    assert report.requested_as_of == dt.date(2018, 6, 16)
    assert report.data["fund"]["last"] == dt.date(2018, 5, 31)
    assert report.section("gamma").status == "no data"  # the chain is dated 2018-12-31
    assert "on or before 2018-06-16" in report.section("gamma").headline
    cut = sample_tables["prices"].filter(pl.col("date") <= dt.date(2018, 6, 16))
    est = estimate_pension_flows(cut, {"SPX": 0.6, "AGG_TR": 0.4}, 1e12)
    month = report.section("rebalancing").numbers["windows"]["month"]
    assert month["central"] == est.windows["month"].central["SPX"]
    assert month["end"] == dt.date(2018, 6, 29)
    cal = report.section("calendar").numbers
    assert (cal["start"], cal["sessions"]) == (dt.date(2018, 6, 18), 30)


def test_bad_inputs_raise_our_errors(sample_tables: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(DataError, match="on or before 1990-01-01"):
        build_report({"fund": sample_tables["fund"]}, as_of="1990-01-01")
    with pytest.raises(DataError, match="at least one of"):
        build_report({})
    with pytest.raises(ConfigError, match="'data'"):
        build_report({"nonsense": sample_tables["fund"]})
    with pytest.raises(ConfigError, match="Store or a mapping"):
        build_report(sample_tables["fund"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="as_of"):
        build_report({"fund": sample_tables["fund"]}, as_of="31/12/2018")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"aum": 0.0}, "aum"),
        ({"aum": float("nan")}, "aum"),
        ({"target_equity": 1.0}, "target_equity"),
        ({"theta": 0.0}, "theta"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": 2.5}, "horizon"),
        ({"adv_window": 1}, "adv_window"),
        ({"indexed_assets": -1.0}, "indexed_assets"),
        ({"shock": -1.0}, "shock"),
        ({"buyback_cap": 1.5}, "buyback_cap"),
        ({"bond_id": "SPX"}, "bond_id"),
        ({"equity_id": " "}, "equity_id"),
        ({"lookbacks": ()}, "lookbacks"),
        ({"lookbacks": (20, 1)}, "lookbacks"),
        ({"band": (0.0, 0.1)}, "band"),
    ],
)
def test_params_are_validated_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        ReportParams(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_section_lookup_names_the_choices(report: Report) -> None:
    with pytest.raises(ConfigError, match="fund_flows"):
        report.section("nope")


def test_figures_are_valid_plotly(report: Report) -> None:
    """Plotly's own validators accept every figure (a typo in a property name would raise)."""
    go = pytest.importorskip("plotly.graph_objects")
    ids = [f.id for f in report.figures]
    assert len(ids) == len(set(ids)) >= 15
    for fig in report.figures:
        go.Figure({"data": list(fig.data), "layout": fig.layout})
        assert fig.data, fig.id
        assert all(len(t.get("x") or t.get("y") or []) > 0 for t in fig.data), fig.id
        for trace in fig.data:
            for key in ("x", "y"):
                values = trace.get(key) or []
                assert all(
                    v is None or not isinstance(v, float) or math.isfinite(v) for v in values
                )
