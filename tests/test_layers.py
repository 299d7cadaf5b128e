"""House rules: layers import downward only; every public surface has a sorted, complete __all__."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "flowpressure"
ORDER = ["data", "flows", "mechanics", "pressure", "validate", "report", "service", "cli"]
# The validation checks read the four computing layers; the report reads them and the checks;
# the service may embed the report; the CLI sits on top.
RANK = {
    "data": 0,
    "flows": 1,
    "mechanics": 2,
    "pressure": 3,
    "validate": 4,
    "report": 5,
    "service": 6,
    "cli": 7,
}


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "flowpressure" and len(parts) > 1 and parts[1] in RANK:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", ORDER)
def test_layers_import_downward_only(layer: str) -> None:
    for path in (SRC / layer).rglob("*.py"):
        for target in imported_layers(path):
            if target == layer:
                continue
            assert RANK[target] < RANK[layer], f"{path.relative_to(SRC)} imports {target}"


@pytest.mark.parametrize("module", ["flowpressure", *[f"flowpressure.{m}" for m in ORDER]])
def test_all_is_sorted_and_complete(module: str) -> None:
    mod = importlib.import_module(module)
    exported = list(mod.__all__)
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(mod, name), f"{module}.__all__ names missing {name}"
    public = {
        n
        for n, v in vars(mod).items()
        if not n.startswith("_") and getattr(v, "__module__", "").startswith("flowpressure.")
    }
    assert public <= set(exported) | {"sample"}, public - set(exported)


def test_import_is_light() -> None:
    """`import flowpressure` must not drag in the data stack (it should take well under 0.5 s)."""
    code = (
        "import sys, flowpressure; "
        "heavy = [m for m in ('duckdb', 'polars', 'pandas', 'exchange_calendars', 'pyspark') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_errors_form_one_tree() -> None:
    import flowpressure as fp

    for name in ("SchemaError", "DataError", "ConfigError", "StoreError", "OverlapError"):
        assert issubclass(getattr(fp, name), fp.FlowPressureError)
    assert issubclass(fp.FlowPressureError, ValueError)
    assert issubclass(fp.OverlapError, fp.DataError)
