"""``flowpressure serve``: its options, its checks, and what it hands to uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowpressure.cli import _serve
from flowpressure.cli._app import app

runner = CliRunner()


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace uvicorn.run and the heap freeze; record what serve passed."""
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(application: Any, **kwargs: Any) -> None:
        seen["app"] = application
        seen.update(kwargs)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(_serve, "_settle", lambda: None)
    return seen


def test_serve_binds_loopback_by_default(sample_db: Path, ran: dict[str, Any]) -> None:
    result = runner.invoke(app, ["serve", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    assert ran["host"] == "127.0.0.1"
    assert ran["port"] == 8000
    assert ran["log_level"] == "warning"
    assert ran["app"].state.db_path == sample_db
    assert f"serving {sample_db} at http://127.0.0.1:8000" in result.output


def test_serve_options(sample_db: Path, ran: dict[str, Any]) -> None:
    result = runner.invoke(
        app,
        ["serve", "--db", str(sample_db), "--host", "::1", "--port", "9001", "--log-level", "info"],
    )
    assert result.exit_code == 0, result.output
    assert (ran["host"], ran["port"], ran["log_level"]) == ("::1", 9001, "info")
    assert "at http://[::1]:9001" in result.output


def test_serve_uses_the_environment_store(
    sample_db: Path, ran: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWPRESSURE_DB", str(sample_db))
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert ran["app"].state.db_path == sample_db


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--port", "0"], "--port"),
        (["--port", "70000"], "--port"),
        (["--log-level", "loud"], "--log-level"),
        (["--max-body-bytes", "-1"], "--max-body-bytes"),
    ],
)
def test_serve_bad_options_exit_2(
    sample_db: Path, ran: dict[str, Any], args: list[str], named: str
) -> None:
    result = runner.invoke(app, ["serve", "--db", str(sample_db), *args])
    assert result.exit_code == 2
    assert named in result.output
    assert "app" not in ran


def test_serve_without_the_service_extra(
    sample_db: Path, ran: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn -> ImportError
    result = runner.invoke(app, ["serve", "--db", str(sample_db)])
    assert result.exit_code == 2
    assert 'pip install "flowpressure[service]"' in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_settle_freezes_the_heap() -> None:
    import gc

    before = gc.get_freeze_count()
    try:
        _serve._settle()
        assert gc.get_freeze_count() > before
        assert "flowpressure.flows" in sys.modules
    finally:
        gc.unfreeze()
