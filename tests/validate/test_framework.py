"""The validation framework: statistics, the result object, the registry, the verb and renderers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from flowpressure import ConfigError
from flowpressure.cli import app
from flowpressure.validate import CHECKS, ChartSeries, ChartSpec, CheckResult, run_check, run_checks
from flowpressure.validate._stats import correlation, newey_west_lags, ols_newey_west


def _nw_by_loops(y: np.ndarray, x: np.ndarray, lags: int) -> tuple[float, float]:
    """Slope and its Newey-West standard error, written out term by term."""
    n = len(y)
    xm, ym = x.mean(), y.mean()
    b = sum((x[i] - xm) * (y[i] - ym) for i in range(n)) / sum((x[i] - xm) ** 2 for i in range(n))
    a = ym - b * xm
    e = [y[i] - a - b * x[i] for i in range(n)]
    rows = [np.array([1.0, x[i]]) * e[i] for i in range(n)]
    s = sum(np.outer(r, r) for r in rows)
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        for t in range(lag, n):
            g = np.outer(rows[t], rows[t - lag])
            s = s + w * (g + g.T)
    design = np.column_stack([np.ones(n), x])
    inv = np.linalg.inv(design.T @ design)
    cov = inv @ s @ inv
    return b, math.sqrt(cov[1, 1])


@pytest.mark.parametrize("lags", [0, 1, 4])
def test_newey_west_matches_the_formula_written_out(lags: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=60)
    noise = np.convolve(rng.normal(size=62), [1.0, 0.6, 0.3], mode="valid")
    y = 0.5 - 0.8 * x + noise
    fit = ols_newey_west(y, x, lags=lags)
    slope, se = _nw_by_loops(y, x, lags)
    assert fit.slope == pytest.approx(slope, rel=1e-10)
    assert fit.se[1] == pytest.approx(se, rel=1e-10)
    assert fit.t_slope == pytest.approx(slope / se, rel=1e-10)
    assert (fit.n, fit.lags) == (60, lags)


@given(
    st.lists(
        st.tuples(st.floats(-100, 100, allow_nan=False), st.floats(-100, 100, allow_nan=False)),
        min_size=5,
        max_size=40,
    )
)
def test_ols_coefficients_equal_least_squares(pairs: list[tuple[float, float]]) -> None:
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    if np.ptp(x) < 1e-3:
        return
    fit = ols_newey_west(y, x)
    design = np.column_stack([np.ones_like(x), x])
    expected = np.linalg.lstsq(design, y, rcond=None)[0]
    assert fit.coef == pytest.approx(tuple(expected), abs=1e-6 * (1 + np.abs(y).max()))


def test_ols_drops_incomplete_rows_and_refuses_too_few() -> None:
    fit = ols_newey_west([1.0, 2.0, float("nan"), 4.0], [1.0, 2.0, 3.0, 4.0], lags=0)
    assert fit.n == 3
    assert fit.slope == pytest.approx(1.0)
    with pytest.raises(ValueError, match="complete observations"):
        ols_newey_west([1.0, 2.0], [1.0, 2.0])


def test_lag_rule_and_correlation() -> None:
    assert [newey_west_lags(n) for n in (10, 100, 420)] == [2, 4, 5]
    r, n = correlation([1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0])
    assert (r, n) == (pytest.approx(-1.0), 4)
    assert math.isnan(correlation([1.0, 2.0], [1.0, 2.0])[0])


def _result(verdict: str = "pass") -> CheckResult:
    chart = ChartSpec("t", "x", "y", (ChartSeries("s", [1, 2], [np.float64(0.5), np.nan]),))
    return CheckResult(
        "demo",
        "a file, 2 rows",
        "corr 0.9",
        "an identity",
        verdict,  # type: ignore[arg-type]
        "a method",
        figures={"corr": np.float64(0.9), "n": np.int64(2), "bad": float("inf")},
        inputs={"file": "x.csv"},
        n=2,
        notes=("a caveat",),
        chart=chart,
    )


def test_result_is_json_safe_with_the_table_keys() -> None:
    out = _result().to_dict()
    text = json.dumps(out)
    assert list(out)[:5] == ["check", "data", "figure", "reference", "verdict"]
    assert out["figures"] == {"corr": 0.9, "n": 2, "bad": None}
    assert out["chart"]["series"][0]["y"] == [0.5, None]
    assert "NaN" not in text
    assert "Infinity" not in text
    with pytest.raises(ValueError, match="verdict"):
        _result("maybe")


def test_registry_refuses_unknown_names_and_missing_folders(tmp_path: Path) -> None:
    assert list(CHECKS)[:2] == ["fund-flows", "etf-flows"]
    assert len(CHECKS) == 7
    with pytest.raises(ConfigError, match="check"):
        run_checks(["fund-flows", "nope"], tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        run_check("fund-flows", tmp_path / "absent")


@pytest.mark.parametrize("name", list(CHECKS))
def test_every_check_names_its_missing_file(name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file missing"):
        run_check(name, tmp_path)


def test_cli_refuses_an_unknown_check_in_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["validate", "nope", "--data", str(tmp_path)])
    assert res.exit_code == 2
    assert "field 'check'" in res.output
    assert "fund-flows" in res.output
    res = CliRunner().invoke(app, ["validate", "cta", "--data", str(tmp_path)])
    assert res.exit_code == 2
    assert "file missing" in res.output


def test_report_section_renders_the_table_and_a_chart() -> None:
    from flowpressure.data import sample
    from flowpressure.report import build_report

    report = build_report(
        {"fund": sample.load("fund")},
        validation=[_result(), _result("fail")],
        validation_source="d",
    )
    section = report.section("validation")
    assert section.headline == "2 checks on real outcomes: 1 pass, 0 partial, 1 fail (files in d)"
    assert section.tables[0].rows[1] == (
        "demo",
        "a file, 2 rows",
        "corr 0.9",
        "an identity",
        "fail",
    )
    assert len(section.figures) == 2
    html = report.to_html()
    assert "Validation" in html
    assert "fig-validation-1" in html
    assert "validation" not in [s.id for s in build_report({"fund": sample.load("fund")}).sections]


def test_cli_json_on_the_real_files_is_the_library_result(data_root: Path) -> None:
    res = CliRunner().invoke(app, ["validate", "vol-target", "--data", str(data_root), "--json"])
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.output)
    expected = run_check("vol-target", data_root).to_dict()
    assert row == json.loads(json.dumps(expected))
    res = CliRunner().invoke(app, ["validate", "vol-target", "--data", str(data_root)])
    assert "vol-target" in res.output
    assert "1 checks: " in res.output


def test_report_with_the_real_checks_has_the_validation_section(
    data_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    res = CliRunner().invoke(
        app,
        ["report", "--sample", "-o", str(out), "--validation", str(data_root), "--json"],
    )
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    [section] = [s for s in body["sections"] if s["id"] == "validation"]
    assert section["headline"].startswith(f"{len(CHECKS)} checks on real outcomes: ")
    assert set(section["numbers"]) == set(CHECKS)
    html = out.read_text()
    assert html.count('id="fig-validation-') == len(CHECKS)
