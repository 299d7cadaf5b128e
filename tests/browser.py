"""Debian's Chromium driven by Playwright, for the report and dashboard tests.

Playwright cannot download its own browser on these machines, so it launches the system
``chromium`` (installed by ``make setup``) headless, with the flags that keep it off the network.
Set ``FLOWPRESSURE_SKIP_BROWSER=1`` to skip these tests where no Chromium can be installed; without
it a missing browser is a failure, not a silent skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BUILD = Path(__file__).resolve().parents[1] / "build"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """Path of the system Chromium, or fail (skip only when FLOWPRESSURE_SKIP_BROWSER=1)."""
    found = os.environ.get("FLOWPRESSURE_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("FLOWPRESSURE_SKIP_BROWSER") == "1":
        pytest.skip("no Chromium and FLOWPRESSURE_SKIP_BROWSER=1")
    pytest.fail("Debian's chromium is missing: run `make setup` (it installs it with apt)")


@contextmanager
def launch() -> Iterator[Any]:
    """Yield a headless Playwright ``Browser`` on the system Chromium; closes it afterwards."""
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = chromium_path()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot: ``build/<name>`` (the directory is created)."""
    BUILD.mkdir(exist_ok=True)
    return BUILD / name
