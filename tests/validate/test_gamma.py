"""Check dealer-gamma on the CBOE SPX chains: GEX sign and the next session's |SPX return|.

GEX at spot is recomputed here with DuckDB on the raw parquet (CBOE's gamma, dealers long calls
and short puts, multiplier 100, contracts expiring after the snapshot's session with gamma and
iv > 0), and the next-day returns with pandas from the raw SPX CSV: no flowpressure code.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from flowpressure import ConfigError, DataError
from flowpressure.validate._gamma import NAME, check_dealer_gamma, run
from flowpressure.validate._paths import FILES
from flowpressure.validate._result import CheckResult


@pytest.fixture(scope="module")
def result(data_root: Path) -> CheckResult:
    return run(data_root)


@pytest.fixture(scope="module")
def spx(data_root: Path) -> pd.Series:
    raw = pd.read_csv(data_root / FILES["spx"], usecols=["DATE", "CLOSE"])
    s = pd.Series(
        raw["CLOSE"].astype(float).to_numpy(),
        index=pd.to_datetime(raw["DATE"], format="%m/%d/%Y"),
    ).sort_index()
    return s


@pytest.fixture(scope="module")
def expected(data_root: Path, spx: pd.Series) -> pd.DataFrame:
    """One row per SPX snapshot: session, GEX at spot, next-day return."""
    path = data_root / FILES["options"]
    snaps = duckdb.execute(
        f"SELECT DISTINCT snapshot_id, CAST(strptime(quote_datetime_local, '%Y-%m-%d %H:%M') "
        f"AS DATE) FROM read_parquet('{path}') WHERE underlying = 'SPX' ORDER BY 1"
    ).fetchall()
    rows = []
    for sid, day in snaps:
        session = spx.index[spx.index <= pd.Timestamp(day)][-1]
        gex = duckdb.execute(
            f"""
            SELECT sum(CASE WHEN option_type = 'C' THEN 1 ELSE -1 END * CAST(gamma AS DOUBLE)
                       * CAST(open_interest AS DOUBLE) * 100 * underlying_last ^ 2 * 0.01)
            FROM read_parquet('{path}')
            WHERE snapshot_id = '{sid}' AND CAST(expiration AS DATE) > DATE '{session.date()}'
              AND CAST(gamma AS DOUBLE) > 0 AND CAST(iv AS DOUBLE) > 0
            """
        ).fetchall()[0][0]
        i = spx.index.get_loc(session)
        rows.append(
            {
                "date": session.date(),
                "gex": gex,
                "ret": spx.iloc[i + 1] / spx.iloc[i] - 1.0,
            }
        )
    return pd.DataFrame(rows)


def test_figures_match_an_independent_recomputation(
    result: CheckResult, expected: pd.DataFrame
) -> None:
    got = result.figures["dates"]
    assert [r["date"] for r in got] == list(expected["date"])
    assert result.n == len(expected) == 9  # nine SPX chains in the file, one per date
    for r, (_, e) in zip(got, expected.iterrows(), strict=True):
        assert r["gex"] == pytest.approx(e["gex"], rel=1e-9)
        assert r["next_return"] == pytest.approx(e["ret"], rel=1e-9)
        assert 1e8 < abs(r["gex"]) < 1e12  # tens of billions of dollars per 1 % move
        assert np.sign(r["model_gex"]) == np.sign(r["gex"])  # Black-Scholes agrees in sign
    absr = expected["ret"].abs()
    pos, neg = absr[expected["gex"] > 0], absr[expected["gex"] <= 0]
    f = result.figures
    assert f["n_positive"] == len(pos)
    assert f["n_negative"] == len(neg)
    assert f["mean_abs_next_return_positive"] == pytest.approx(pos.mean(), rel=1e-9)
    assert f["mean_abs_next_return_negative"] == pytest.approx(neg.mean(), rel=1e-9)
    assert f["median_abs_next_return_negative"] == pytest.approx(neg.median(), rel=1e-9)


def test_direction_and_verdict_against_the_reference(result: CheckResult) -> None:
    f = result.figures
    assert result.check == NAME
    # both regimes present; daily |returns| of order 0.1 %-5 %
    assert f["n_positive"] > 0
    assert f["n_negative"] > 0
    for k in ("mean_abs_next_return_positive", "mean_abs_next_return_negative"):
        assert 0.001 < f[k] < 0.05
    # the reference's direction holds in the mean (calmer when dealers are long gamma) ...
    assert f["mean_abs_next_return_positive"] < f["mean_abs_next_return_negative"]
    # ... but nine dates cannot decide it: partial, whatever the direction
    assert f["n_dates"] < 20
    assert result.verdict == "partial"
    # a flip level exists and sits on the side of spot that the sign of GEX implies
    for r in f["dates"]:
        assert r["flip_level"] is not None
        assert (r["spot"] > r["flip_level"]) == (r["gex"] > 0)


def test_json_keys_and_chart(result: CheckResult) -> None:
    d = json.loads(json.dumps(result.to_dict()))
    assert {"check", "data", "figure", "reference", "verdict"} <= d.keys()
    assert d["check"] == "dealer-gamma"
    chart = d["chart"]
    assert chart["kind"] == "scatter"
    assert sum(len(s["x"]) for s in chart["series"]) == result.n


def test_missing_file_and_bad_input(tmp_path: Path, data_root: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        run(tmp_path)
    with pytest.raises(ConfigError, match="min_dates"):
        check_dealer_gamma(data_root / FILES["options"], data_root / FILES["spx"], min_dates=1)
    with pytest.raises(DataError, match="NOPE"):
        check_dealer_gamma(data_root / FILES["options"], data_root / FILES["spx"], asset_id="NOPE")
    bad = tmp_path / "spx.csv"
    bad.write_text("DATE,CLOSE\n01/03/2023,-1\n01/04/2023,3\n")
    with pytest.raises(DataError, match="CLOSE"):
        check_dealer_gamma(data_root / FILES["options"], bad)
