"""The written report opens offline in Chromium with every chart drawn (checked on the DOM)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowpressure import __version__
from flowpressure.report import Report
from tests.browser import launch, screenshot_path

CHARTS = """() => [...document.querySelectorAll('div.chart')].map(d => ({
    id: d.id,
    plotted: d.classList.contains('js-plotly-plot'),
    svg: d.querySelectorAll('svg.main-svg').length,
    traces: d.querySelectorAll('g.trace').length,
    points: (d.data || []).map(t => (t.x || t.y || []).length),
    drawnPoints: d.querySelectorAll('g.trace path, g.trace g.point, g.trace text').length,
    height: d.getBoundingClientRect().height,
}))"""


DRAWN = """() => {
    const charts = [...document.querySelectorAll('div.chart')];
    return charts.length > 0 && charts.every(
        d => d.classList.contains('js-plotly-plot') && d.querySelector('svg.main-svg'));
}"""


def test_report_draws_every_chart_offline(report_file: Path, report: Report) -> None:
    problems: list[str] = []
    remote: list[str] = []
    with launch() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on(
            "console",
            lambda m: (
                problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                r.continue_()
            else:
                remote.append(url)
                r.abort()

        page.route("**/*", route)
        page.goto(report_file.as_uri())
        page.wait_for_function(DRAWN, timeout=30_000)
        charts = page.evaluate(CHARTS)
        stamp = page.inner_text("#stamp-version"), page.inner_text("#stamp-as-of")
        statuses = page.eval_on_selector_all(
            "section[data-status]", "els => els.map(e => [e.id, e.dataset.status])"
        )
        page.screenshot(path=str(screenshot_path("report.png")), full_page=True)
    assert problems == []
    assert remote == []
    assert stamp == (f"flowpressure {__version__}", "2018-12-31")
    assert [c["id"] for c in charts] == [f.id for f in report.figures]
    for chart, fig in zip(charts, report.figures, strict=True):
        assert chart["plotted"], chart
        assert chart["svg"] >= 1, chart
        assert chart["traces"] >= len(fig.data), chart
        assert chart["points"] == [len(t.get("x") or t.get("y")) for t in fig.data], chart
        assert all(n > 0 for n in chart["points"]), chart
        assert chart["drawnPoints"] > 0, chart
        assert chart["height"] >= 200, chart
    assert dict(statuses) == {s.id: s.status for s in report.sections}
    assert screenshot_path("report.png").stat().st_size > 100_000
