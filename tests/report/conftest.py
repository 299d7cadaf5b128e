"""The report is built once per test session: from the embedded sample, and from a store of it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flowpressure.data import Store, sample
from flowpressure.report import Report, build_report

#: The panel kinds the report reads.
KINDS = ("prices", "fund", "etf", "index_events", "buybacks", "options")


@pytest.fixture(scope="session")
def sample_tables() -> dict[str, pl.DataFrame]:
    return {kind: sample.load(kind) for kind in KINDS}


@pytest.fixture(scope="session")
def report(sample_tables: dict[str, pl.DataFrame]) -> Report:
    return build_report(sample_tables, source="embedded sample")


@pytest.fixture(scope="session")
def html(report: Report) -> str:
    return report.to_html()


@pytest.fixture(scope="session")
def report_file(html: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def make_store(
    directory: Path, tables: dict[str, pl.DataFrame], kinds: tuple[str, ...] = KINDS
) -> Path:
    """Ingest the sample's ``kinds`` into a new store under ``directory``."""
    db = directory / "store.duckdb"
    with Store(db) as store:
        for kind in kinds:
            src = directory / f"{kind}.parquet"
            tables[kind].write_parquet(src)
            store.ingest(kind, src)
    return db


@pytest.fixture(scope="session")
def store_path(
    tmp_path_factory: pytest.TempPathFactory, sample_tables: dict[str, pl.DataFrame]
) -> Path:
    return make_store(tmp_path_factory.mktemp("store"), sample_tables)
