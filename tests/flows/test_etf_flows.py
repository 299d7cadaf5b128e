"""ETF flows: shares vs AUM, distributions, lags, creation units, stale shares, real files."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from flowpressure import ConfigError, DataError
from flowpressure.data import non_sessions, sample
from flowpressure.flows import etf_flows, note_counts
from tests.conftest import SHARED_DATA
from tests.flows.frames import collect

D = dt.date
#: Every backend but Spark (slow to start), whose path test_so_lag_counts_sessions_not_rows runs.
LOCAL_BACKENDS = pytest.mark.parametrize(
    "make_frame", ["pandas", "polars", "polars_lazy", "duckdb"], indirect=True
)
DAYS = [D(2024, 3, 25), D(2024, 3, 26), D(2024, 3, 27), D(2024, 3, 28), D(2024, 4, 1)]


def rows() -> dict[str, list[Any]]:
    return {
        "fund_id": ["X"] * 5,
        "date": DAYS,
        "shares_outstanding": [1_000_000.0, 1_050_000.0, 1_050_000.0, 950_000.0, 1_000_000.0],
        "nav": [100.0, 101.0, 99.0, 100.0, 98.0],
        "distribution": [0.0, 0.0, 0.0, 0.0, 1.5],
    }


def test_shares_flows_units_and_pct_on_every_backend(make_frame: Any) -> None:
    out = collect(etf_flows(make_frame(rows()), unit_size=50_000))
    assert out["flow"].to_list()[1:] == [50_000 * 101.0, 0.0, -100_000 * 100.0, 50_000 * 98.0]
    assert out["creation_units"].to_list()[1:] == [1.0, 0.0, -2.0, 1.0]
    assert out["flow_pct"][1] == pytest.approx(50_000 * 101.0 / (1e6 * 100.0))
    assert out["flow_note"].to_list() == ["birth", None, None, None, None]


def test_total_return_adds_back_the_distribution(make_frame: Any) -> None:
    price = collect(etf_flows(make_frame(rows()), return_kind="price"))
    total = collect(etf_flows(make_frame(rows()), return_kind="total"))
    # NAV price return: the AUM route is the shares route exactly
    assert price["flow_diff"].drop_nulls().abs().max() < 1e-6
    # total return with the ex-date distribution added back: no phantom outflow either
    assert total["flow_diff"].drop_nulls().abs().max() < 1e-6
    assert total["flow_aum"][4] == pytest.approx(50_000 * 98.0)


def test_total_return_without_add_back_would_show_a_phantom_outflow() -> None:
    data = rows()
    data["ret_total"] = [0.0, 0.01, 99 / 101 - 1, 0.01, (98 + 1.5) / 100 - 1]
    out = etf_flows(pl.DataFrame(data), return_kind="total")
    # the given total return is used and the distribution is added back on the ex-date
    assert out["flow_aum"][4] == pytest.approx(50_000 * 98.0)


def test_seed_example_from_aum() -> None:
    df = pl.DataFrame(
        {
            "fund_id": ["X", "X"],
            "date": DAYS[:2],
            "shares_outstanding": [5e6, 503e6 / 100.2],
            "nav": [100.0, 100.2],
            "aum": [500e6, 503e6],
            "ret": [0.0, 0.002],
        }
    )
    out = etf_flows(df)
    assert out["flow_aum"][1] == pytest.approx(2e6)
    assert out["flow"][1] == pytest.approx(2e6)


def test_so_lag_shifts_reported_shares() -> None:
    out = etf_flows(pl.DataFrame(rows()), so_lag=1).sort("date")
    # shares reported on t are those of t-1: the change reported on 2024-03-26 belongs to 03-25
    assert out["flow"].to_list()[1:4] == [0.0, -100_000 * 99.0, 50_000 * 100.0]
    assert out["flow_note"].to_list()[-1] == "so_lag_tail"


def test_fractional_units_gap_and_stale_notes() -> None:
    data = rows()
    data["shares_outstanding"][2] = 1_060_000.0
    out = etf_flows(pl.DataFrame(data), unit_size=50_000, stale_after=1)
    assert note_counts(out)["fractional_units"] == 2
    gap = pl.DataFrame({k: [v[0], v[2]] for k, v in rows().items()})
    assert etf_flows(gap)["flow_note"].to_list() == ["birth", "gap"]
    flat = pl.DataFrame({**rows(), "shares_outstanding": [1e6] * 5})
    assert etf_flows(flat, stale_after=2)["flow_note"].to_list()[-2:] == ["stale_shares"] * 2


def test_bad_input() -> None:
    df = pl.DataFrame(rows())
    with pytest.raises(ConfigError, match="so_lag"):
        etf_flows(df, so_lag=-1)
    with pytest.raises(ConfigError, match="unit_size"):
        etf_flows(df, unit_size=0)
    with pytest.raises(ConfigError, match="return_kind"):
        etf_flows(df, return_kind="net")  # type: ignore[arg-type]
    weekend = pl.DataFrame({**rows(), "date": [*DAYS[:4], D(2024, 3, 30)]})
    with pytest.raises(DataError, match="date=2024-03-30: expected a trading session"):
        etf_flows(weekend)
    with pytest.raises(DataError, match="field 'nav' at fund_id=X, date=2024-03-27"):
        etf_flows(pl.DataFrame({**rows(), "nav": [100.0, 101.0, -1.0, 100.0, 98.0]}))


def test_sample_units_are_whole_and_total_returns_clean() -> None:
    out = etf_flows(sample.load("etf"), unit_size=sample.UNIT_SIZE, return_kind="total")
    assert "fractional_units" not in note_counts(out)
    assert out["flow_diff"].drop_nulls().abs().max() < 1e-3
    assert (out["creation_units"].drop_nulls() != 0).sum() > 1000


ETF = SHARED_DATA / "etf" / "stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv"


@pytest.mark.skipif(not ETF.exists(), reason="../shared/data not present")
def test_real_etf_file_shares_and_aum_agree_and_stale_counts_show() -> None:
    raw = pl.read_csv(ETF).filter(pl.col("shares_out_m").is_not_null())
    df = raw.select(
        fund_id="ticker",
        date=pl.col("snapshot_date_et").str.to_date(),
        shares_outstanding=pl.col("shares_out_m") * 1e6,
        nav="nav",
        aum=pl.col("assets_musd") * 1e6,
    )
    df = df.filter(~pl.col("date").is_in(non_sessions(df["date"].to_list())))
    out = etf_flows(df).sort("fund_id", "date")
    # Where the reported AUM matches shares x NAV on both days (fresh shares), the two routes
    # agree within the rounding of the file: shares to 10,000, AUM to 4-5 significant digits.
    gap = ((pl.col("aum") - pl.col("shares_outstanding") * pl.col("nav")) / pl.col("aum")).abs()
    out = out.with_columns(gap=gap).with_columns(prev_gap=pl.col("gap").shift(1).over("fund_id"))
    measured = out.filter(pl.col("flow").is_not_null() & pl.col("flow_note").is_null())
    fresh = measured.filter((pl.col("gap") < 3e-4) & (pl.col("prev_gap") < 3e-4))
    assert fresh.height > 4_000
    bound = 2 * 5_000 * pl.col("nav") + 2 * 3e-4 * pl.col("aum")
    assert fresh.select((pl.col("flow_diff").abs() <= bound).all()).item()
    # Where they disagree, flow_diff reports it: a share count behind the reported AUM.
    off = measured.filter(pl.col("gap") > 2e-3)
    assert off.height > 50
    assert off.select((pl.col("flow_diff").abs() > 1e6).mean()).item() > 0.9
    counts = note_counts(out)
    assert counts["stale_shares"] > 100  # e.g. SPY's 910.38m shares through August 2022
    spy = out.filter((pl.col("fund_id") == "SPY") & (pl.col("date") >= D(2022, 8, 5)))
    assert set(spy["shares_outstanding"].to_list()) == {910.38e6}
    assert "stale_shares" in spy["flow_note"].to_list()


def test_all_null_optional_columns_fall_back_like_absent_ones() -> None:
    """A stored panel keeps absent optional columns as nulls; they must not void flow_aum."""
    etf = sample.load("etf")
    padded = etf.with_columns(
        *(
            pl.lit(None, dtype=pl.Float64).alias(c)
            for c in ("ret", "ret_total", "aum")
            if c not in etf.columns
        )
    )
    for kind in ("price", "total"):
        plain = etf_flows(etf, return_kind=kind)
        got = etf_flows(padded, return_kind=kind)
        assert got["flow_aum"].null_count() == plain["flow_aum"].null_count() < etf.height
        assert (got["flow_aum"] - plain["flow_aum"]).abs().max() < 1e-6


def test_so_lag_counts_sessions_not_rows_on_every_backend(make_frame: Any) -> None:
    """Issue 12.5: a lag never reaches across a missing session (here 2024-03-27)."""
    data = {k: [v[i] for i in (0, 1, 3, 4)] for k, v in rows().items()}  # no 2024-03-27
    out = collect(etf_flows(make_frame(data), so_lag=1))
    # 03-26's shares would be reported on 03-27, which is missing; 04-01 is the session after
    # 03-28 (Good Friday 03-29 is a holiday), so 03-28 keeps a true share count
    assert out["flow_note"].to_list() == ["birth", "so_lag_gap", "gap", "so_lag_tail"]
    assert out["flow"].null_count() == 4
    bridged = collect(etf_flows(make_frame(data), so_lag=1, bridge_gaps=True))
    assert bridged["flow_note"].to_list() == ["birth", "so_lag_gap", "gap_bridged", "so_lag_tail"]
    # across the gap, from the last true count known (03-25's, reported 03-26): 1.05m -> 1.0m
    assert bridged["flow"][2] == pytest.approx((1_000_000 - 1_050_000) * 100.0)
    assert bridged["flow_pct"][2] == pytest.approx(-50_000 * 100.0 / (1_050_000 * 101.0))


def test_so_lag_two_sessions() -> None:
    out = etf_flows(pl.DataFrame(rows()), so_lag=2).sort("date")
    so = rows()["shares_outstanding"]
    # the row of 03-26 holds the shares reported on 03-28 against those reported on 03-27
    assert out["flow"][1] == pytest.approx((so[3] - so[2]) * 101.0)
    assert out["flow"][2] == pytest.approx((so[4] - so[3]) * 99.0)
    assert out["flow_note"].to_list()[-2:] == ["so_lag_tail", "so_lag_tail"]


@LOCAL_BACKENDS
def test_bridge_gaps_on_every_backend(make_frame: Any) -> None:
    """Issue 12.4: never bridged by default (the amount is kept in flow_dropped), or bridged."""
    data = {k: [v[i] for i in (0, 1, 3, 4)] for k, v in rows().items()}
    plain = collect(etf_flows(make_frame(data)))
    assert plain["flow_note"].to_list() == ["birth", None, "gap", None]
    assert plain["flow"][2] is None
    assert plain["flow_dropped"].to_list() == [None, None, -100_000 * 100.0, None]
    bridged = collect(etf_flows(make_frame(data), bridge_gaps=True))
    assert bridged["flow_note"].to_list() == ["birth", None, "gap_bridged", None]
    assert bridged["flow"][2] == pytest.approx(-100_000 * 100.0)
    assert bridged["flow_dropped"].null_count() == 4
    # the AUM check across the gap uses the NAV return over it: 101 -> 100
    assert bridged["flow_diff"][2] == pytest.approx(0.0, abs=1e-6)
    total = collect(etf_flows(make_frame(data), bridge_gaps=True, return_kind="total"))
    assert total["flow_diff"].drop_nulls().abs().max() < 1e-6


def test_pandas_result_keeps_the_index_and_input_columns_and_equals_polars() -> None:
    pdf = pl.DataFrame(rows()).to_pandas()
    pdf.index = [10, 11, 12, 13, 14]
    pdf = pdf.iloc[::-1]  # out of date order: the result keeps the caller's row order
    out = etf_flows(pdf, unit_size=50_000, bridge_gaps=True)
    assert list(out.index) == [14, 13, 12, 11, 10]
    assert list(out.columns[:5]) == list(rows())
    assert out.loc[13, "flow"] == -100_000 * 100.0
    expected = etf_flows(pl.DataFrame(rows()), unit_size=50_000, bridge_gaps=True)
    got = pl.from_pandas(out.sort_index().reset_index(drop=True))
    assert got.drop("date").equals(expected.drop("date"))
    assert got["date"].cast(pl.Date).to_list() == DAYS
