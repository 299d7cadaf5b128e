"""The dashboard in a real browser: Debian's Chromium driven by Playwright (``tests/browser.py``).

One store built from the embedded sample, one in-process uvicorn server on a loopback port and
one browser serve the whole module; a second, empty store checks the "no fund panel" messages.
The seed 002 worked example must come out of the page: theta = 0.8, $1 into 80 shares at $1
gives a price of $1.05 and a multiplier of 5; theta = 0.5 gives 2.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser import launch, screenshot_path
from tests.service.conftest import KINDS

#: The page's Plotly charts that always have data with the sample store.
CHARTS = ("fig01-chart", "fig01-rounds", "fig02-chart", "flows-chart")

#: Per trace of a Plotly graph div: type, number of x and y values, finite y values.
TRACES_JS = """(id) => {
  const d = document.getElementById(id);
  if (!d || !Array.isArray(d.data)) return null;
  return d.data.map((t) => ({
    type: t.type,
    nx: (t.x || []).length,
    ny: (t.y || []).length,
    finite: (t.y || []).filter((v) => typeof v === "number" && Number.isFinite(v)).length,
    svg: d.querySelector(".main-svg") !== null,
  }));
}"""

SET_VALUE_JS = """(e, v) => {
  e.value = v;
  e.dispatchEvent(new Event("input", { bubbles: true }));
}"""


# ---------------------------------------------------------------------------------------------
# Server and browser
# ---------------------------------------------------------------------------------------------
class Server:
    """The real app (``create_app``) under uvicorn in a background thread, on a free port."""

    def __init__(self, db: Path) -> None:
        import uvicorn

        from flowpressure.service import create_app

        config = uvicorn.Config(create_app(db), host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="dashboard-uvicorn")
        self.origin = ""

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn stopped before it started")
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 30 s")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.origin = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def get_json(self, path: str) -> Any:
        """GET one API path from the test side (loopback)."""
        with urllib.request.urlopen(self.origin + path, timeout=30) as resp:
            return json.loads(resp.read())


@dataclass
class Visit:
    """A page open on the dashboard and what it logged and asked for."""

    page: Any
    origin: str
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def open_dashboard(browser: Any, origin: str) -> Visit:
    """Open ``/`` in a fresh 1280x900 context and wait until every section has loaded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    visit = Visit(page, origin)
    page.on("console", lambda m: visit.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    page.on("request", lambda r: visit.requests.append(r.url))
    page.goto(origin + "/")
    page.wait_for_function("document.body.dataset.loaded === 'true'", timeout=20_000)
    return visit


def set_value(page: Any, selector: str, value: object) -> None:
    """Set an input's value and fire ``input``, as dragging the slider does."""
    page.eval_on_selector(selector, SET_VALUE_JS, str(value))


@pytest.fixture(scope="module")
def expect() -> Any:
    return pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def server(sample_db: Path) -> Iterator[Server]:
    with Server(sample_db) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as b:
        yield b


@pytest.fixture(scope="module")
def dash(browser: Any, server: Server) -> Iterator[Visit]:
    visit = open_dashboard(browser, server.origin)
    yield visit
    visit.page.context.close()


def traces(page: Any, chart_id: str) -> Any:
    return page.evaluate(TRACES_JS, chart_id)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def test_loads_without_console_or_page_errors(dash: Visit) -> None:
    errors = [text for kind, text in dash.console if kind == "error"]
    assert errors == []
    assert dash.page_errors == []
    assert dash.page.title() == "flowpressure dashboard"
    for section in ("fig01", "fig02", "flows", "calendar", "validation"):
        state = dash.page.get_attribute(f"#{section}", "data-state")
        assert state in {"ready", "empty"}, (section, state)
    assert dash.page.locator(".error").count() == 0


def test_header_shows_version_and_the_data_as_of_date(dash: Visit) -> None:
    import flowpressure

    page = dash.page
    assert page.inner_text("#version") == f"v{flowpressure.__version__}"
    # The sample ends on 2018-12-31 (its last session); never the wall clock.
    assert page.inner_text("#as-of") == "2018-12-31"
    assert set(page.inner_text("#kinds").split(" · ")) == set(KINDS)


# ---------------------------------------------------------------------------------------------
# Fig 01: trace the dollar (seed 002)
# ---------------------------------------------------------------------------------------------
def test_defaults_reproduce_the_seed_002_example(dash: Visit) -> None:
    page = dash.page
    assert page.input_value("#theta") == "0.8"
    assert page.input_value("#inflow") == "1"
    assert page.input_value("#shares") == "80"
    assert page.input_value("#price") == "1"
    assert page.inner_text("#multiplier") == "5.00"
    assert page.inner_text("#price-after") == "$1.05"
    assert page.inner_text("#market-cap-change") == "+$4.00"
    assert page.inner_text("#equity-inflow") == "$0.80"
    assert page.inner_text("#theta-value") == "80%"
    assert page.inner_text("#ba-bonds-before") == "$20.00"
    assert page.inner_text("#ba-cap-after") == "$84.00"
    steps = page.locator("#cascade-steps li").all_inner_texts()
    assert len(steps) == 5
    assert "$1.00" in steps[0]
    assert "$0.80" in steps[1]
    assert "$0.20" in steps[1]
    assert "$4.00" in steps[4]


def test_waterfall_bars_add_up_to_the_market_cap_change(dash: Visit) -> None:
    trace = dash.page.evaluate(
        "() => { const t = document.getElementById('fig01-chart').data[0];"
        " return {x: t.x, y: t.y, measure: t.measure}; }"
    )
    running, totals = 0.0, []
    for y, measure in zip(trace["y"], trace["measure"], strict=True):
        if measure == "absolute":
            running = y
        elif measure == "relative":
            running += y
        else:
            totals.append(running)
    assert trace["y"][:2] == [1.0, pytest.approx(-0.2)]
    # the first total is what reaches stocks (theta f), the last the whole gain ($4)
    assert totals[0] == pytest.approx(0.8)
    assert totals[-1] == pytest.approx(4.0, abs=1e-9)
    assert trace["x"][-1] == "Market cap change"


def test_theta_slider_changes_the_multiplier(dash: Visit, expect: Any) -> None:
    page = dash.page
    try:
        set_value(page, "#theta", 0.5)
        expect(page.locator("#multiplier")).to_have_text("2.00")
        expect(page.locator("#theta-value")).to_have_text("50%")
        # theta 0.5: bonds 80, P' = 0.5 (80 + 1) / (0.5 * 80) = 1.0125
        expect(page.locator("#price-after")).to_have_text("$1.0125")
        expect(page.locator("#market-cap-change")).to_have_text("+$1.00")
        expect(page.locator("#equity-inflow")).to_have_text("$0.50")
    finally:
        set_value(page, "#theta", 0.8)
        expect(page.locator("#multiplier")).to_have_text("5.00")
    expect(page.locator("#price-after")).to_have_text("$1.05")


def test_quick_slider_moves_are_debounced_and_the_last_one_wins(dash: Visit, expect: Any) -> None:
    page = dash.page
    before = len(dash.requests)
    try:
        page.eval_on_selector(
            "#theta",
            """(e) => {
              for (const v of ["0.6", "0.7", "0.75"]) {
                e.value = v;
                e.dispatchEvent(new Event("input", { bubbles: true }));
              }
            }""",
        )
        expect(page.locator("#multiplier")).to_have_text("4.00")
        asked = [u for u in dash.requests[before:] if "/v1/multiplier" in u]
        assert len(asked) == 1
        assert "theta=0.75" in asked[0]
    finally:
        set_value(page, "#theta", 0.8)
        expect(page.locator("#multiplier")).to_have_text("5.00")


def test_other_sliders_drive_the_example(dash: Visit, expect: Any) -> None:
    page = dash.page
    try:
        # $2 in, 40 shares at $2: bonds 20, P' = 0.8 (20 + 2) / (0.2 * 40) = 2.2, gain 8
        set_value(page, "#inflow", 2)
        set_value(page, "#shares", 40)
        set_value(page, "#price", 2)
        expect(page.locator("#price-after")).to_have_text("$2.20")
        expect(page.locator("#market-cap-change")).to_have_text("+$8.00")
        expect(page.locator("#multiplier")).to_have_text("5.00")
        expect(page.locator("#inflow-value")).to_have_text("$2.00")
        expect(page.locator("#shares-value")).to_have_text("40")
    finally:
        set_value(page, "#inflow", 1)
        set_value(page, "#shares", 80)
        set_value(page, "#price", 1)
        expect(page.locator("#price-after")).to_have_text("$1.05")


# ---------------------------------------------------------------------------------------------
# Fig 02: p = f / zeta
# ---------------------------------------------------------------------------------------------
def test_price_change_curve_against_the_elastic_line(dash: Visit, expect: Any) -> None:
    page = dash.page
    chosen, elastic = page.evaluate(
        "() => document.getElementById('fig02-chart').data.map((t) => ({x: t.x, y: t.y, name: t.name}))"
    )
    assert "empirical" in chosen["name"]
    assert "2.0" in elastic["name"]
    for flow, p_chosen, p_elastic in zip(chosen["x"], chosen["y"], elastic["y"], strict=True):
        assert p_chosen == pytest.approx(flow / 0.2, abs=1e-12)
        assert p_elastic == pytest.approx(flow / 2.0, abs=1e-12)
    assert page.inner_text("#zeta-impact") == "+5.00%"
    assert page.inner_text("#elastic-impact") == "+0.50%"
    assert page.inner_text("#zeta-multiplier") == "5.00×"
    try:
        set_value(page, "#zeta", 2)
        expect(page.locator("#zeta-impact")).to_have_text("+0.50%")
        expect(page.locator("#zeta-multiplier")).to_have_text("0.50×")
        expect(page.locator("#zeta-label")).to_contain_text("conventional")
    finally:
        set_value(page, "#zeta", 0.2)
        expect(page.locator("#zeta-impact")).to_have_text("+5.00%")
    expect(page.locator("#zeta-label")).to_contain_text("empirical")


# ---------------------------------------------------------------------------------------------
# Flows and calendar
# ---------------------------------------------------------------------------------------------
def _same_up_to_unit(shown: list[float | None], api: list[float | None]) -> None:
    """The chart's values are the API's divided by one power of 1000 ($, $k, $m, $bn)."""
    assert [v is None for v in shown] == [v is None for v in api]
    big_shown = max(abs(v) for v in shown if v is not None)
    big_api = max(abs(v) for v in api if v is not None)
    scale = big_api / big_shown
    assert any(math.isclose(scale, 1000.0**k, rel_tol=1e-9) for k in range(5)), scale
    for s, a in zip(shown, api, strict=True):
        if a is not None and s is not None:
            assert s * scale == pytest.approx(a, rel=1e-9, abs=1e-6)


def test_first_fund_is_charted_on_load(dash: Visit, server: Server) -> None:
    page = dash.page
    ids = server.get_json("/v1/entities?kind=fund")["ids"]
    assert page.input_value("#flow-kind") == "fund"
    assert page.input_value("#flow-id") == ids[0]
    assert page.locator("#flow-id option").count() == len(ids)
    api = server.get_json(f"/v1/flows/fund?fund_id={ids[0]}")["rows"]
    bars, line = page.evaluate(
        "() => document.getElementById('flows-chart').data.map((t) => ({x: t.x, y: t.y}))"
    )
    assert bars["x"] == [r["date"] for r in api]
    _same_up_to_unit(bars["y"], [r["flow"] for r in api])
    # the line is the running sum of the flows (missing ones count as 0)
    total, expected = 0.0, []
    for r in api:
        total += r["flow"] or 0.0
        expected.append(total)
    _same_up_to_unit(line["y"], expected)


def test_switching_to_etf_charts_its_flows(dash: Visit, server: Server, expect: Any) -> None:
    page = dash.page
    etf_ids = server.get_json("/v1/entities?kind=etf")["ids"]
    try:
        page.select_option("#flow-kind", "etf")
        expect(page.locator("#flow-id")).to_have_value(etf_ids[0])
        page.select_option("#flow-id", etf_ids[-1])
        api = server.get_json(f"/v1/flows/etf?fund_id={etf_ids[-1]}")["rows"]
        page.wait_for_function(
            "(n) => { const d = document.getElementById('flows-chart');"
            " return d.data && d.data[0].x.length === n"
            " && document.getElementById('flows').dataset.state === 'ready'; }",
            arg=len(api),
        )
        bars = page.evaluate("() => document.getElementById('flows-chart').data[0].y")
        _same_up_to_unit(bars, [r["flow"] for r in api])
        expect(page.locator("#flows-chart .gtitle")).to_contain_text(etf_ids[-1])
    finally:
        page.select_option("#flow-kind", "fund")
        expect(page.locator("#flows")).to_have_attribute("data-state", "ready")


def test_calendar_table_and_timeline(dash: Visit, server: Server) -> None:
    page = dash.page
    cal = server.get_json("/v1/calendar?horizon=30")
    assert cal["as_of"] == "2018-12-31"
    rows = page.locator("#calendar-table tbody tr")
    if not cal["events"]:
        assert "no events" in page.inner_text("#calendar-status").lower()
        assert rows.count() == 0
        return
    assert rows.count() == min(len(cal["events"]), 300)
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[:3] == [cal["events"][0][k] for k in ("date", "family", "asset_id")]
    shown = traces(page, "calendar-chart")
    assert shown
    assert all(t["nx"] == t["ny"] > 0 for t in shown)
    families = {e["family"] for e in cal["events"]}
    names = page.evaluate("() => document.getElementById('calendar-chart').data.map((t) => t.name)")
    assert set(names) == families


def test_every_chart_renders_with_data(dash: Visit) -> None:
    for chart in CHARTS:
        shown = traces(dash.page, chart)
        assert shown, chart
        for t in shown:
            assert t["svg"], chart
            assert t["nx"] > 0, (chart, t)
            assert t["ny"] == t["nx"], (chart, t)
            assert t["finite"] > 0, (chart, t)
    if dash.page.get_attribute("#calendar", "data-state") == "empty":
        assert "no events" in dash.page.inner_text("#calendar-status").lower()
    else:
        assert traces(dash.page, "calendar-chart")


def test_every_request_goes_to_the_app_origin(dash: Visit) -> None:
    assert dash.requests
    # data: URLs (the empty favicon) are not network requests
    network = [u for u in dash.requests if not u.startswith("data:")]
    assert all(u.startswith(dash.origin + "/") for u in network), network
    assert f"{dash.origin}/static/plotly.min.js" in network


def test_screenshot(dash: Visit, expect: Any) -> None:
    page = dash.page
    expect(page.locator("#multiplier")).to_have_text("5.00")
    page.evaluate("() => window.scrollTo(0, 0)")
    out = screenshot_path("dashboard.png")
    page.screenshot(path=str(out), full_page=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # still clean after every interaction of this module
    assert [text for kind, text in dash.console if kind == "error"] == []
    assert dash.page_errors == []


# ---------------------------------------------------------------------------------------------
# Errors are shown, never silent
# ---------------------------------------------------------------------------------------------
def test_a_refused_request_is_shown_in_the_section(
    browser: Any, server: Server, expect: Any
) -> None:
    visit = open_dashboard(browser, server.origin)
    page = visit.page
    try:
        # theta 0.95 with 10 shares at $0.10: bonds are $0.0526, so a $5 outflow is refused
        set_value(page, "#theta", 0.95)
        set_value(page, "#shares", 10)
        set_value(page, "#price", 0.1)
        set_value(page, "#inflow", -5)
        error = page.locator("#fig01-status .error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("inflow")
        expect(page.locator("#fig01")).to_have_attribute("data-state", "error")
        set_value(page, "#inflow", 1)
        expect(page.locator("#multiplier")).to_have_text("20.00")
        expect(page.locator("#fig01-status .error")).to_have_count(0)
        assert visit.page_errors == []
    finally:
        page.context.close()


def test_empty_store_says_there_is_no_fund_panel(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, expect: Any
) -> None:
    from flowpressure.data import Store

    db = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    Store(db).close()
    with Server(db) as srv:
        visit = open_dashboard(browser, srv.origin)
        page = visit.page
        try:
            expect(page.locator("#flows-status")).to_contain_text(
                "no fund panel in the store", ignore_case=True
            )
            assert page.get_attribute("#flows", "data-state") == "empty"
            assert page.inner_text("#kinds") == "empty store"
            # the figures need no data and still work
            assert page.inner_text("#multiplier") == "5.00"
            # nothing to date the calendar from: said in the page, not asked of the app
            assert page.get_attribute("#calendar", "data-state") == "empty"
            assert "no panel in the store" in page.inner_text("#calendar-status").lower()
            assert not any("/v1/calendar" in u for u in visit.requests)
            assert [text for kind, text in visit.console if kind == "error"] == []
            assert visit.page_errors == []
        finally:
            page.context.close()
