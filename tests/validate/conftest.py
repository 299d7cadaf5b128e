"""The validation checks read the real files in ../shared/data; without it they are skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA


@pytest.fixture(scope="session")
def data_root() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent: the validation checks need the real files")
    return SHARED_DATA
