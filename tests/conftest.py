"""Shared fixtures: one frame constructor per backend and one local Spark session per run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pytest
from hypothesis import settings

# CI runs the property tests on a fixed seed so a green main stays green; set
# FLOWPRESSURE_HYPOTHESIS=explore to draw fresh examples (run it before changing a tolerance).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("FLOWPRESSURE_HYPOTHESIS", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

BACKENDS = ("pandas", "polars", "polars_lazy", "duckdb", "pyspark")


def have_java() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if not have_java():
        pytest.skip("PySpark needs Java 17")
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("flowpressure-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    yield con
    con.close()


Constructor = Callable[[dict[str, list[Any]]], Any]


@pytest.fixture(params=BACKENDS)
def make_frame(request: pytest.FixtureRequest) -> Constructor:
    """Build a native frame of one backend (pandas, polars, DuckDB, Spark) from columns."""
    backend = request.param

    def build(data: dict[str, list[Any]]) -> Any:
        pdf = pd.DataFrame(data)
        if backend == "pandas":
            return pdf
        if backend == "polars":
            return pl.DataFrame(data, strict=False)
        if backend == "polars_lazy":
            return pl.LazyFrame(data, strict=False)
        table = pl.DataFrame(data, strict=False).to_arrow()
        if backend == "duckdb":
            con = request.getfixturevalue("duck")
            return con.from_arrow(table)
        session = request.getfixturevalue("spark")
        return session.createDataFrame(table.to_pandas())

    build.backend = backend  # type: ignore[attr-defined]
    return build
