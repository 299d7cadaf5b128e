"""The dashboard's static files without a browser: offline, accessible, built to the contract."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import flowpressure

STATIC = Path(flowpressure.__file__).resolve().parent / "service" / "static"
FILES = ("dashboard.html", "dashboard.js", "dashboard.css")

#: Elements the tests (and anyone scripting the page) rely on.
STABLE_IDS = (
    "version",
    "as-of",
    "kinds",
    "inflow",
    "theta",
    "shares",
    "price",
    "multiplier",
    "price-after",
    "market-cap-change",
    "equity-inflow",
    "cascade-steps",
    "fig01-chart",
    "fig01-status",
    "zeta",
    "fig02-chart",
    "fig02-status",
    "flow-kind",
    "flow-id",
    "flows-chart",
    "flows-status",
    "horizon",
    "calendar-chart",
    "calendar-table",
    "calendar-status",
)

#: The API paths of the HTTP contract the page may call.
CONTRACT_PATHS = {
    "/v1/health",
    "/v1/info",
    "/v1/entities",
    "/v1/flows/",
    "/v1/multiplier",
    "/v1/price-change",
    "/v1/calendar",
    "/v1/validation",
}


class Page(HTMLParser):
    """Collects ids, labels, form controls and external references of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: dict[str, tuple[str, dict[str, str | None]]] = {}
        self.labels_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None]]] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            assert a["id"] not in self.elements, f"duplicate id {a['id']!r}"
            self.elements[str(a["id"])] = (tag, a)
        if tag == "label" and a.get("for"):
            self.labels_for.add(str(a["for"]))
        if tag in {"input", "select", "textarea"}:
            self.controls.append((tag, a))
        for attr in ("src", "href"):
            value = a.get(attr)
            if value is not None and not value.startswith("#"):
                self.refs.append(value)


@pytest.fixture(scope="module")
def page() -> Page:
    parsed = Page()
    parsed.feed((STATIC / "dashboard.html").read_text(encoding="utf-8"))
    return parsed


@pytest.mark.parametrize("name", FILES)
def test_no_external_urls(name: str) -> None:
    text = (STATIC / name).read_text(encoding="utf-8")
    assert not re.search(r"https?://", text), name
    assert "//cdn" not in text
    assert "@import" not in text
    assert "url(" not in text.replace(" ", "")


def test_page_loads_only_its_own_files(page: Page) -> None:
    assert set(page.refs) == {
        "data:,",
        "/static/dashboard.css",
        "/static/plotly.min.js",
        "/static/dashboard.js",
    }


def test_stable_ids_exist(page: Page) -> None:
    missing = [i for i in STABLE_IDS if i not in page.elements]
    assert missing == []


def test_every_control_has_a_label(page: Page) -> None:
    assert page.controls
    unlabelled = [a.get("id") for _, a in page.controls if a.get("id") not in page.labels_for]
    assert unlabelled == []


@pytest.mark.parametrize(
    ("slider", "low", "high", "step", "value"),
    [
        ("inflow", None, None, None, "1"),
        ("theta", "0.05", "0.95", "0.01", "0.8"),
        ("shares", None, None, None, "80"),
        ("price", None, None, None, "1"),
        ("zeta", "0.05", "3", "0.01", "0.2"),
    ],
)
def test_slider_ranges_and_seed_002_defaults(
    page: Page, slider: str, low: str | None, high: str | None, step: str | None, value: str
) -> None:
    tag, attrs = page.elements[slider]
    assert tag == "input"
    assert attrs["type"] == "range"
    assert attrs["value"] == value
    lo, hi = float(str(attrs["min"])), float(str(attrs["max"]))
    assert lo <= float(value) <= hi
    for key, want in (("min", low), ("max", high), ("step", step)):
        if want is not None:
            assert attrs[key] == want, key


def test_script_calls_only_contract_paths_and_never_the_console() -> None:
    js = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    called = set(re.findall(r"/v1/[a-z-]+/?", js))
    assert called == CONTRACT_PATHS
    assert not re.search(r"\bconsole\s*\.\s*\w+\s*\(", js)
    assert "eval(" not in js
    assert "innerHTML" not in js


def test_the_app_serves_the_files_unchanged(tmp_path: Path) -> None:
    testclient = pytest.importorskip("fastapi.testclient")
    from flowpressure.data import Store
    from flowpressure.service import create_app

    db = tmp_path / "empty.duckdb"
    Store(db).close()
    with testclient.TestClient(create_app(db)) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert index.content == (STATIC / "dashboard.html").read_bytes()
        for name in ("dashboard.js", "dashboard.css"):
            got = client.get(f"/static/{name}")
            assert got.status_code == 200, name
            assert got.content == (STATIC / name).read_bytes(), name
        plotly = client.get("/static/plotly.min.js")
        assert plotly.status_code == 200
        assert "javascript" in plotly.headers["content-type"]
        assert b"plotly.js" in plotly.content[:200]
