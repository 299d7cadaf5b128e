"""Issue 12 (defects 3-5) on the real stockanalysis ETF file: frequency, gaps, so_lag.

The file (``etf/stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv``) is a scrape with
missing days: 43 ETFs, shares outstanding, NAV and total assets. Every expected figure below
is recomputed here from the CSV with duckdb and the XNYS calendar of ``exchange_calendars``,
not through the code under test. The same rows serve as a daily *fund* panel (TNA = total
assets, return = NAV return), the realistic daily fund panel the frequency inference is for.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import duckdb
import exchange_calendars as xcals
import polars as pl
import pytest
from typer.testing import CliRunner

from flowpressure import DataError
from flowpressure.cli import app
from flowpressure.data import Store
from flowpressure.flows import etf_flows, fund_flows, infer_freq, note_counts
from tests.conftest import SHARED_DATA

ETF = SHARED_DATA / "etf" / "stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv"
pytestmark = pytest.mark.skipif(not ETF.exists(), reason="../shared/data not present")

D = dt.date
runner = CliRunner()
CLI_FUNDS = ["AGG", "QQQ", "SPY", "TLT"]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """The file's rows on XNYS sessions with a share count, each with its session ordinal."""
    c = duckdb.connect()
    with warnings.catch_warnings():  # exchange_calendars' own pandas deprecation warnings
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XNYS", start="2021-01-01", end="2022-12-31")
        days = [d.date() for d in cal.sessions_in_range("2021-01-04", "2022-12-30")]
    c.execute("CREATE TABLE sessions (date DATE, n INTEGER)")
    c.executemany("INSERT INTO sessions VALUES (?, ?)", [(d, i) for i, d in enumerate(days)])
    c.execute(
        f"""
        CREATE TABLE etf AS
        SELECT ticker AS fund_id, CAST(snapshot_date_et AS DATE) AS date,
               shares_out_m * 1e6 AS so, nav, assets_musd * 1e6 AS aum, s.n
        FROM read_csv('{ETF}') r JOIN sessions s ON CAST(r.snapshot_date_et AS DATE) = s.date
        WHERE shares_out_m IS NOT NULL
        """
    )
    return c


@pytest.fixture(scope="module")
def panel(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The ETF panel as the library reads it."""
    return con.sql(
        "SELECT fund_id, date, so AS shares_outstanding, nav, aum FROM etf ORDER BY fund_id, date"
    ).pl()


@pytest.fixture(scope="module")
def fund(panel: pl.DataFrame) -> pl.DataFrame:
    """The same rows as a daily fund panel: TNA = total assets, ret = NAV return (0 at birth)."""
    return panel.select(
        "fund_id",
        "date",
        tna="aum",
        ret=(pl.col("nav") / pl.col("nav").shift(1).over("fund_id") - 1).fill_null(0.0),
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, panel: pl.DataFrame, fund: pl.DataFrame) -> Any:
    tmp = tmp_path_factory.mktemp("real_flows")
    out = {"etf": tmp / "etf.csv", "fund": tmp / "fund.csv", "db": tmp / "s.duckdb"}
    cli = pl.col("fund_id").is_in(CLI_FUNDS)  # four funds keep the CLI's JSON small
    panel.filter(cli).write_csv(out["etf"])
    fund.filter(cli).write_csv(out["fund"])
    for kind in ("etf", "fund"):
        done = runner.invoke(app, ["ingest", kind, str(out[kind]), "--db", str(out["db"])])
        assert done.exit_code == 0, done.output
    return out


def spy_totals(con: duckdb.DuckDBPyConnection) -> tuple[float, float, int]:
    """SPY's summed (SO_t - SO_prev) x NAV_t: next-session rows only, every row, and gaps."""
    return con.sql(
        """
        SELECT sum(f) FILTER (WHERE n - pn = 1), sum(f), count(*) FILTER (WHERE n - pn > 1)
        FROM (SELECT (so - lag(so) OVER w) * nav AS f, n, lag(n) OVER w AS pn
              FROM etf WHERE fund_id = 'SPY' WINDOW w AS (ORDER BY date))
        WHERE pn IS NOT NULL
        """
    ).fetchall()[0]


def test_spy_gaps_are_dropped_by_default_and_bridged_on_request(
    con: duckdb.DuckDBPyConnection, panel: pl.DataFrame
) -> None:
    kept, bridged_total, n_gaps = spy_totals(con)
    # the figures of the issue: $7.6bn never bridged, $17.8bn with the gaps bridged
    assert round(kept / 1e9, 1) == 7.6
    assert round(bridged_total / 1e9, 1) == 17.8
    assert n_gaps == 6
    plain = etf_flows(panel).filter(pl.col("fund_id") == "SPY")
    bridged = etf_flows(panel, bridge_gaps=True).filter(pl.col("fund_id") == "SPY")
    assert plain["flow"].sum() == pytest.approx(kept, rel=1e-12)
    assert plain["flow_dropped"].sum() == pytest.approx(bridged_total - kept, rel=1e-9)
    assert note_counts(plain)["gap"] == n_gaps
    assert bridged["flow"].sum() == pytest.approx(bridged_total, rel=1e-12)
    assert note_counts(bridged)["gap_bridged"] == n_gaps
    assert "gap" not in note_counts(bridged)
    assert bridged["flow_dropped"].null_count() == bridged.height
    # a bridged row's AUM check uses the NAV return over the whole gap
    row = bridged.filter(pl.col("flow_note") == "gap_bridged").row(0, named=True)
    prev = bridged.filter(pl.col("date") < row["date"]).row(-1, named=True)
    expected = row["aum"] - prev["aum"] * row["nav"] / prev["nav"]
    assert row["flow_aum"] == pytest.approx(expected, rel=1e-12)


def test_tlt_so_lag_is_by_sessions_and_never_crosses_the_five_month_gap(
    con: duckdb.DuckDBPyConnection, panel: pl.DataFrame
) -> None:
    # By rows, the shares reported after TLT's 2022-02-18 row are 2022-07-11's: the old
    # so_lag 1 measured a one-day $9.3bn creation, 62 % of AUM, across 94 missing sessions.
    ((by_rows, pct, missing),) = con.sql(
        """
        SELECT (lead(so, 1) OVER w - so) * nav, (lead(so, 1) OVER w - so) / so,
               lead(n, 1) OVER w - n - 1
        FROM etf WHERE fund_id = 'TLT' WINDOW w AS (ORDER BY date)
        QUALIFY date = DATE '2022-02-18'
        """
    ).fetchall()
    assert round(by_rows / 1e9, 1) == 9.3
    assert round(pct, 2) == 0.62
    assert missing == 95  # 2022-02-22 to 2022-07-08 (2022-02-21 is a holiday)
    out = etf_flows(panel, so_lag=1).filter(pl.col("fund_id") == "TLT").sort("date")
    feb18 = out.filter(pl.col("date") == D(2022, 2, 18)).row(0, named=True)
    assert feb18["flow"] is None
    assert feb18["flow_note"] == "so_lag_gap"
    # every flow kept is (SO reported the next session - SO reported on t) x NAV_{t}, both
    # reports present: recomputed from the file for every TLT row
    truth = dict(
        con.sql(
            """
            SELECT date, (lead(so, 1) OVER w - so) * nav FROM etf WHERE fund_id = 'TLT'
            WINDOW w AS (ORDER BY date)
            QUALIFY lead(n, 1) OVER w = n + 1 AND lag(n, 1) OVER w = n - 1
            """
        ).fetchall()
    )
    kept = {d: f for d, f in out.select("date", "flow").rows() if f is not None}
    assert kept.keys() == truth.keys()
    assert all(kept[d] == pytest.approx(truth[d], rel=1e-12, abs=1e-3) for d in kept)
    assert max(abs(v) for v in out["flow_pct"].drop_nulls()) < 0.1


def test_daily_fund_panel_is_read_as_daily(
    con: duckdb.DuckDBPyConnection, fund: pl.DataFrame
) -> None:
    got = infer_freq(fund)
    assert (got.freq, got.inferred) == ("D", True)
    assert "43 of 43" in got.reason
    out = fund_flows(fund)
    # gaps are missing sessions, as the calendar says (not missing months)
    ((gaps, births),) = con.sql(
        "SELECT count(*) FILTER (WHERE n - pn > 1), count(*) FILTER (WHERE pn IS NULL) "
        "FROM (SELECT n, lag(n) OVER (PARTITION BY fund_id ORDER BY date) AS pn FROM etf)"
    ).fetchall()
    assert note_counts(out) == {"birth": births, "gap": gaps}
    assert gaps == 252
    # one flow recomputed: SPY, 2021-12-20 over 2021-12-17, F = TNA_t - TNA_{t-1} NAV_t/NAV_{t-1}
    ((want,),) = con.sql(
        "SELECT a.aum - b.aum * a.nav / b.nav FROM etf a JOIN etf b USING (fund_id) "
        "WHERE fund_id = 'SPY' AND a.date = DATE '2021-12-20' AND b.date = DATE '2021-12-17'"
    ).fetchall()
    row = out.filter((pl.col("fund_id") == "SPY") & (pl.col("date") == D(2021, 12, 20)))
    assert row["flow"][0] == pytest.approx(want, rel=1e-9)


def test_a_stated_frequency_with_two_rows_in_a_period_is_refused(
    con: duckdb.DuckDBPyConnection, fund: pl.DataFrame
) -> None:
    # the smallest key with two rows in one month: the fund first, then its first such pair
    ((fund_id, first, second),) = con.sql(
        """
        SELECT fund_id, d0, date FROM (
            SELECT fund_id, date, lag(date) OVER (PARTITION BY fund_id ORDER BY date) AS d0
            FROM etf)
        WHERE date_trunc('month', date) = date_trunc('month', d0)
        ORDER BY fund_id, date LIMIT 1
        """
    ).fetchall()
    message = f"at fund_id={fund_id}: two rows in one month (freq 'M'): {first} and {second}"
    for frame in (fund, fund.to_pandas(), fund.lazy(), duckdb.from_arrow(fund.to_arrow())):
        with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            fund_flows(frame, freq="M")


def test_weekly_monthly_and_quarterly_resamples_are_recognised(fund: pl.DataFrame) -> None:
    for freq, every in (("W", "1w"), ("M", "1mo"), ("Q", "1q")):
        # the last row of each week / month / quarter of every fund
        coarse = (
            fund.filter(pl.col("fund_id").is_in(CLI_FUNDS))
            .sort("fund_id", "date")
            .group_by("fund_id", pl.col("date").dt.truncate(every).alias("_p"))
            .agg(pl.all().last())
            .drop("_p")
        )
        got = infer_freq(coarse)
        assert got.freq == freq, got
        polars_out = fund_flows(coarse).sort("fund_id", "date")  # the eager one-pass path
        duck_out = fund_flows(duckdb.from_arrow(coarse.to_arrow())).pl().sort("fund_id", "date")
        assert polars_out["flow_note"].to_list() == duck_out["flow_note"].to_list()
        assert note_counts(polars_out)["birth"] == len(CLI_FUNDS)


def test_mixed_or_sparse_spacing_is_refused(fund: pl.DataFrame) -> None:
    monthly = (
        fund.filter(pl.col("fund_id") == "QQQ")
        .group_by(pl.col("date").dt.month_end().alias("_p"))
        .agg(pl.all().last())
        .drop("_p")
        .select(fund.columns)
    )
    mixed = pl.concat([fund.filter(pl.col("fund_id") == "SPY"), monthly])
    with pytest.raises(DataError, match=r"fund_id=QQQ \d+ days \(monthly.*fund_id=SPY 1 days"):
        fund_flows(mixed)
    with pytest.raises(DataError, match="spaced at different frequencies"):
        infer_freq(mixed)
    fine = fund_flows(mixed, freq="D")  # stated: the monthly fund's rows are gaps, said so
    assert note_counts(fine.filter(pl.col("fund_id") == "QQQ"))["gap"] == monthly.height - 1
    sparse = monthly.filter(pl.col("date").dt.month().is_in([9, 12]))  # 3 months apart, and 9
    assert infer_freq(sparse).freq == "Q"
    two_months = monthly.filter(pl.col("date").dt.month().is_in([8, 10]))
    with pytest.raises(DataError, match="no fund_id has two rows one period apart"):
        infer_freq(two_months)


def run(args: list[str]) -> tuple[Any, str]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def canonical(rows: list[dict[str, Any]], keys: set[str]) -> list[str]:
    return sorted(json.dumps({k: r[k] for k in keys}, sort_keys=True) for r in rows)


@pytest.mark.parametrize(
    "args",
    [
        ["fund"],
        ["etf"],
        ["etf", "--bridge-gaps"],
        ["etf", "--so-lag", "1"],
    ],
    ids=["fund", "etf", "etf-bridged", "etf-so-lag"],
)
def test_file_and_store_give_the_same_answer(args: list[str], files: Any) -> None:
    kind, *options = args
    from_file, err_file = run(["flows", kind, str(files[kind]), *options])
    from_store, err_store = run(["flows", kind, kind, "--db", str(files["db"]), *options])
    keys = set(from_file[0])
    assert canonical(from_file, keys) == canonical(from_store, keys)
    # the store keeps the optional columns the file lacks (null, or no distribution: 0)
    assert {v for r in from_store for k, v in r.items() if k not in keys} <= {None, 0.0}
    assert err_file == err_store


def test_cli_says_what_it_inferred_and_what_it_dropped(
    con: duckdb.DuckDBPyConnection, files: Any
) -> None:
    rows, err = run(["flows", "fund", str(files["fund"])])
    assert "fund flows: frequency D inferred (daily:" in err
    assert {(r["freq"], r["freq_inferred"]) for r in rows} == {("D", True)}
    rows, err = run(["flows", "fund", str(files["fund"]), "--freq", "D"])
    assert "inferred" not in err
    assert {(r["freq"], r["freq_inferred"]) for r in rows} == {("D", False)}
    ((n, amount),) = con.sql(
        "SELECT count(*), sum(f) FROM (SELECT (so - lag(so) OVER w) * nav AS f, n - lag(n) "
        "OVER w AS step FROM etf WHERE fund_id IN ('AGG', 'QQQ', 'SPY', 'TLT') "
        "WINDOW w AS (PARTITION BY fund_id ORDER BY date)) WHERE step > 1"
    ).fetchall()
    rows, err = run(["flows", "etf", str(files["etf"])])
    assert f"etf flows: {n:,} flows dropped after a gap, {amount:,.0f} in all" in err
    assert sum(r["flow_dropped"] or 0 for r in rows) == pytest.approx(amount, rel=1e-9)
    rows, err = run(["flows", "etf", str(files["etf"]), "--bridge-gaps"])
    assert "dropped" not in err
    assert f"{n:,} rows gap_bridged" in err


def test_cli_refuses_a_stated_monthly_frequency_on_daily_rows(files: Any) -> None:
    result = runner.invoke(app, ["flows", "fund", str(files["fund"]), "--freq", "M"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert "two rows in one month (freq 'M')" in line


def test_cli_errors_name_the_file_and_line(files: Any, tmp_path: Path) -> None:
    bad = tmp_path / "weekend.csv"
    rows = pl.read_csv(files["etf"], infer_schema=False)
    rows = rows.with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("2021-08-14"))
        .otherwise(pl.col("date"))
        .alias("date")
    )
    rows.write_csv(bad)
    result = runner.invoke(app, ["flows", "etf", str(bad)])
    assert result.exit_code == 2
    # the header is line 1: the fifth row is line 6; 2021-08-14 is a Saturday
    assert result.stderr.startswith("error: weekend.csv line 6: field 'date'"), result.stderr
    assert "trading session" in result.stderr


def test_store_fast_path_infers_and_refuses_like_the_frame(fund: pl.DataFrame, files: Any) -> None:
    with Store(files["db"], read_only=True) as store:
        stored = fund_flows(store).pl().sort("fund_id", "date")
        with pytest.raises(DataError, match="at fund_id=AGG: two rows in one week"):
            fund_flows(store, freq="W")
    frame = fund_flows(fund.filter(pl.col("fund_id").is_in(CLI_FUNDS))).sort("fund_id", "date")
    assert stored["flow_note"].to_list() == frame["flow_note"].to_list()
    diff = (stored["flow"] - frame["flow"]).abs().max()
    assert diff is not None
    assert float(diff) <= 1e-6 * float(frame["tna"].max())  # type: ignore[arg-type]


def test_relation_by_arrow_equals_duckdb_lazy_path_and_stays_on_its_connection(
    con: duckdb.DuckDBPyConnection, fund: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flowpressure.flows._fund as fund_module

    con.register("fund_frame", fund.to_arrow())
    con.execute("CREATE OR REPLACE TABLE real_fund AS SELECT * FROM fund_frame")
    rel = con.table("real_fund")
    by_arrow = fund_flows(rel)
    # the result is a relation on the caller's connection: it joins the caller's tables
    joined = by_arrow.join(con.table("sessions"), "date").aggregate("count(*)").fetchall()
    assert joined == [(fund.height,)]
    monkeypatch.setattr(fund_module, "RELATION_ROWS", 10)  # too many rows: DuckDB's own path
    lazy = fund_flows(rel)
    keys = ["fund_id", "date"]
    a, b = by_arrow.pl().sort(keys), lazy.pl().sort(keys)
    assert a.columns == b.columns
    assert a.select(keys, "flow_note").equals(b.select(keys, "flow_note"))
    assert (a["flow"] - b["flow"]).abs().max() < 1e-6  # type: ignore[operator]
    # SPY's flow on 2021-01-05, by hand from the panel: TNA_t - TNA_{t-1} (1 + r_t)
    spy = fund.filter(pl.col("fund_id") == "SPY").sort("date").head(2)
    hand = spy["tna"][1] - spy["tna"][0] * (1 + spy["ret"][1])
    got = a.filter((pl.col("fund_id") == "SPY") & (pl.col("date") == spy["date"][1]))["flow"]
    assert got[0] == pytest.approx(hand, rel=1e-12)


def test_relation_by_arrow_refuses_bad_rows_as_duckdb_does(
    con: duckdb.DuckDBPyConnection, fund: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flowpressure.flows._fund as fund_module

    con.register("fund_frame", fund.to_arrow())
    con.execute("CREATE OR REPLACE TABLE twice AS FROM fund_frame UNION ALL FROM fund_frame")
    with pytest.raises(DataError) as by_arrow:
        fund_flows(con.table("twice"))
    monkeypatch.setattr(fund_module, "RELATION_ROWS", 10)
    with pytest.raises(DataError) as lazy:
        fund_flows(con.table("twice")).fetchall()
    assert str(by_arrow.value) == str(lazy.value)
    assert "AGG" in str(by_arrow.value)  # the smallest key, named
