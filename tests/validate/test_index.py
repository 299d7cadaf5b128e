"""Check index-inclusion on the Kaggle S&P 500 constituents and the fja05680 spells.

The event study is recomputed here in DuckDB SQL on the raw files (no flowpressure code): the
additions are the spells starting after the file's first date, day 0 the last Kaggle date
before the start date, AR = return - the day's average return of all constituents (split-like
jumps, a whole price ratio beyond 30 %, set aside), and the volume multiple day-0 volume over
the mean of days -60..-11.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from flowpressure import ConfigError
from flowpressure.validate._index import NAME, check_index_inclusion, run, split_jumps
from flowpressure.validate._paths import FILES
from flowpressure.validate._result import CheckResult


@pytest.fixture(scope="module")
def result(data_root: Path) -> CheckResult:
    return run(data_root)


def _k(r: str) -> str:
    return f"(CASE WHEN {r} < 0 THEN 1 / (1 + {r}) ELSE 1 + {r} END)"


@pytest.fixture(scope="module")
def expected(data_root: Path) -> pl.DataFrame:
    k, s = data_root / FILES["constituents"], data_root / FILES["sp500_spells"]
    split = (
        f"abs(r) > 0.3 AND round({_k('r')}) >= 2 AND abs({_k('r')} / round({_k('r')}) - 1) <= 0.03"
    )
    return duckdb.sql(
        f"""
        WITH k AS (SELECT CAST(ticker AS VARCHAR) AS t, date, close, volume
                   FROM read_parquet('{k}')),
        g AS (SELECT date, row_number() OVER (ORDER BY date) AS i
              FROM (SELECT DISTINCT date FROM k)),
        kk AS (SELECT k.*, g.i FROM k JOIN g USING (date)),
        r0 AS (SELECT a.t, a.i, a.close / b.close - 1 AS r
               FROM kk a JOIN kk b ON a.t = b.t AND b.i = a.i - 1),
        r1 AS (SELECT t, i, CASE WHEN {split} THEN NULL ELSE r END AS r FROM r0),
        m AS (SELECT i, avg(r) AS m FROM r1 GROUP BY i),
        ar AS (SELECT t, i, r - m AS ar FROM r1 JOIN m USING (i) WHERE r IS NOT NULL),
        sp AS (SELECT trim(CAST(ticker AS VARCHAR)) AS t, CAST(start_date AS DATE) AS s
               FROM read_csv('{s}')),
        ev AS (SELECT sp.t, sp.s,
                      (SELECT max(i) FROM g WHERE g.date < sp.s) AS d0
               FROM sp
               WHERE sp.s > (SELECT min(s) FROM sp)
                 AND sp.s BETWEEN (SELECT min(date) FROM k) AND (SELECT max(date) FROM k)
                 AND sp.t IN (SELECT DISTINCT t FROM k)),
        st AS (SELECT ev.t, ev.s, ev.d0,
                      count(ar.ar) FILTER (WHERE ar.i BETWEEN ev.d0 - 10 AND ev.d0 + 20) AS n,
                      sum(ar.ar) FILTER (WHERE ar.i BETWEEN ev.d0 - 5 AND ev.d0) AS pre,
                      sum(ar.ar) FILTER (WHERE ar.i BETWEEN ev.d0 + 1 AND ev.d0 + 20) AS post
               FROM ev JOIN ar ON ar.t = ev.t GROUP BY ALL),
        vo AS (SELECT ev.t, ev.s,
                      max(kk.volume) FILTER (WHERE kk.i = ev.d0) AS v0,
                      avg(kk.volume) FILTER (WHERE kk.i BETWEEN ev.d0 - 60 AND ev.d0 - 11)
                          AS vb,
                      count(kk.volume) FILTER (WHERE kk.i BETWEEN ev.d0 - 60 AND ev.d0 - 11)
                          AS nb
               FROM ev JOIN kk ON kk.t = ev.t GROUP BY ALL)
        SELECT st.t AS asset_id, st.s, st.pre, st.post, vo.v0 / vo.vb AS vm
        FROM st JOIN vo USING (t, s)
        WHERE st.n = 31 AND vo.nb >= 40 AND vo.v0 IS NOT NULL
          AND st.d0 - 60 >= 2 AND st.d0 + 20 <= (SELECT max(i) FROM g)
        ORDER BY st.s, st.t
        """
    ).pl()


def test_figures_match_an_independent_recomputation(
    result: CheckResult, expected: pl.DataFrame
) -> None:
    f = result.figures
    assert result.n == f["n_events"] == expected.height
    assert 80 <= expected.height <= 123  # the 2013-18 additions the Kaggle file can price
    assert f["mean_car_run_up"] == pytest.approx(expected["pre"].mean(), rel=1e-9)
    assert f["mean_car_reversal"] == pytest.approx(expected["post"].mean(), rel=1e-9)
    assert f["median_volume_multiple"] == pytest.approx(expected["vm"].median(), rel=1e-9)
    assert f["mean_volume_multiple"] == pytest.approx(expected["vm"].mean(), rel=1e-9)
    pre = expected["pre"].to_numpy()
    t = pre.mean() / (pre.std(ddof=1) / np.sqrt(pre.size))
    assert f["t_car_run_up"] == pytest.approx(t, rel=1e-9)


def test_sign_and_size_against_the_index_effect(result: CheckResult) -> None:
    f = result.figures
    assert result.check == NAME
    # run-up positive but small: the post-2010 "disappearing" index effect (a few % at most)
    assert 0.0 < f["mean_car_run_up"] < 0.05
    assert abs(f["mean_car_reversal"]) < 0.05  # reported, not judged
    # volume on the inclusion close: many times normal (published ~5-20x; bigger since)
    assert 5.0 < f["median_volume_multiple"] < 100.0
    assert f["t_log_volume_multiple"] > 5.0
    # the model's demand in days of ADV ranks the events like the volume that traded
    assert f["spearman_model_days_of_adv_vs_excess_volume"] > 0.0
    assert result.verdict == "pass"
    chart = result.chart
    assert chart is not None
    (series,) = chart.series
    assert list(series.x) == list(range(-10, 21))
    y = np.asarray(series.y)  # cumulated from day -10: day 0 is y[10]
    assert y[10] - y[4] == pytest.approx(100 * f["mean_car_run_up"], rel=1e-9)
    assert y[30] - y[10] == pytest.approx(100 * f["mean_car_reversal"], rel=1e-9)


def test_json_keys(result: CheckResult) -> None:
    d = json.loads(json.dumps(result.to_dict()))
    assert {"check", "data", "figure", "reference", "verdict"} <= d.keys()
    assert d["check"] == "index-inclusion"
    assert d["n"] == result.n
    assert d["chart"]["kind"] == "line"


def test_missing_file_and_bad_input(tmp_path: Path, data_root: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        run(tmp_path)
    k, s = data_root / FILES["constituents"], data_root / FILES["sp500_spells"]
    with pytest.raises(ConfigError, match="run_up"):
        check_index_inclusion(k, s, run_up=(-5, 2))
    with pytest.raises(ConfigError, match="post"):
        check_index_inclusion(k, s, post=0)


def test_split_jumps() -> None:
    r = np.array([-0.5, 1.0, -1.0 / 3.0, 0.35, -0.62, np.nan])  # 2:1, 1:2, 3:2, moves
    assert split_jumps(r).tolist() == [True, True, False, False, False, False]
