"""Fixtures of the service tests: a store built from the embedded sample, an app and a client."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowpressure.data import Store, sample

# The kinds `make demo` ingests, in its order.
KINDS = ("fund", "etf", "holdings", "prices", "index_events", "buybacks", "options")


def client_class() -> Any:
    """Starlette's TestClient (its module warns that plain httpx is deprecated; not ours)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
        from fastapi.testclient import TestClient
    return TestClient


# Imported once here, so that every test module of this directory gets the class without the
# warning (pytest turns warnings into errors).
client_class()


def build_store(directory: Path, kinds: tuple[str, ...] = KINDS) -> Path:
    """Write the sample to ``directory`` and ingest ``kinds`` into ``directory/store.duckdb``."""
    files = sample.write(directory / "sample")
    db = directory / "store.duckdb"
    with Store(db) as store:
        for kind in kinds:
            store.ingest(kind, files[kind])
    return db


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding every kind of the sample (built once per session; read-only use)."""
    return build_store(tmp_path_factory.mktemp("service-store"))


@pytest.fixture(scope="session")
def client(sample_db: Path) -> Iterator[Any]:
    """A TestClient over ``create_app(sample_db)`` with its lifespan running."""
    from flowpressure.service import create_app

    with client_class()(create_app(sample_db)) as c:
        yield c
