"""The page: self-contained, stamped, escaped, deterministic, with formatted right-aligned numbers."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import polars as pl

import flowpressure
from flowpressure.data import sample
from flowpressure.report import Report, ReportParams, build_report, write_report
from flowpressure.report._format import param

PLOTLY_OPEN = '<script id="plotly-js">'


def page_without_plotly(html: str) -> str:
    """The page with the embedded plotly.min.js cut out (its source mentions URLs it never loads)."""
    start = html.index(PLOTLY_OPEN)
    end = html.index("</script>", start)
    return html[:start] + html[end:]


def test_plotly_is_embedded_once_and_nothing_is_remote(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert html.count(PLOTLY_OPEN) == 1
    assert html.count("* plotly.js v") == 1
    assert "Plotly.newPlot" in html
    rest = page_without_plotly(html)
    assert "<script src" not in html.lower()
    assert not re.search(r"<(script|link|img|iframe)[^>]*(src|href)=", rest, re.IGNORECASE)
    assert "http://" not in rest
    assert "https://" not in rest
    assert "cdn" not in rest.lower()
    assert "mathjax" not in rest.lower()
    # the only scripts: plotly.js and the one that draws the figures
    assert rest.count("<script") == 1  # plotly.js was cut out; the other draws the figures


def test_stamped_with_version_as_of_source_and_every_parameter(html: str, report: Report) -> None:
    assert f'<dd id="stamp-version">flowpressure {flowpressure.__version__}</dd>' in html
    assert '<dd id="stamp-as-of">2018-12-31</dd>' in html
    assert '<dd id="stamp-source">embedded sample</dd>' in html
    stamp = html[html.index('<dd id="stamp-parameters"') :]
    stamp = stamp[: stamp.index("</dd>")]
    for name, value in ReportParams().to_dict().items():
        assert f"<code>{name}={html_lib.escape(param(value))}</code>" in stamp, name
    table = html[html.index('<table id="parameters-table">') :]
    table = table[: table.index("</table>")]
    for name, value in ReportParams().to_dict().items():
        assert f"<td>{name}</td><td>{html_lib.escape(param(value))}</td>" in table, name
    # each section states its inputs, assumptions and the parameters it used
    for s in report.sections:
        block = html[html.index(f'<section id="{s.id}"') :]
        block = block[: block.index("</section>")]
        assert "<b>Inputs.</b>" in block, s.id
        assert "<b>Assumptions.</b>" in block, s.id
        for key, value in s.parameters.items():
            assert f"<code>{key}={html_lib.escape(param(value))}</code>" in block, (s.id, key)


def test_table_of_contents_links_every_section(html: str, report: Report) -> None:
    for s in report.sections:
        assert f'<a href="#{s.id}">{s.title}</a>' in html
        assert f'<section id="{s.id}"' in html
    for q in report.questions:
        assert f'<dd id="q-{q.key}">' in html


def test_numbers_are_formatted_and_right_aligned(html: str) -> None:
    assert '<td class="num">$14.25bn</td>' in html  # the month-end central trade
    assert '<th class="num" scope="col">central</th>' in html
    assert '<td class="num">-9.18%</td>' in html  # SPX's December 2018 return
    assert '<td class="num">1.0500</td>' in html  # the multiplier's price after
    assert re.search(r"<td>2019-01-02</td>", html)  # ISO dates, left-aligned
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert len(cells) > 500
    shape = re.compile(r"^([-+]?\$?[\d,]+(\.\d+)?(tn|bn|mn|k)?%?( bps)?)?$")
    assert [c for c in cells if not shape.match(c)] == []


def test_every_data_string_is_escaped() -> None:
    fund = sample.load("fund").with_columns(
        pl.col("category").replace("equity", "<i>eq</i> & </script><script>alert(1)</script>")
    )
    page = build_report({"fund": fund}).to_html()
    rest = page_without_plotly(page)
    assert "<i>eq</i>" not in rest
    assert "alert(1)</script>" not in rest
    assert "&lt;i&gt;eq&lt;/i&gt; &amp; &lt;/script&gt;" in rest  # in the tables
    assert "\\u003ci\\u003eeq\\u003c/i\\u003e \\u0026" in rest  # in the chart legend JSON


def test_no_data_sections_are_rendered_plainly() -> None:
    page = build_report({"fund": sample.load("fund")}).to_html()
    block = page[page.index('<section id="etf_flows"') :]
    block = block[: block.index("</section>")]
    assert 'data-status="no data"' in block
    assert (
        "no etf in the data given; ingest them with <code>flowpressure ingest etf FILE</code>"
        in block
    )
    assert 'class="chart"' not in block
    assert "<table" not in block


def test_same_data_same_page(tmp_path: Path) -> None:
    tables = {"fund": sample.load("fund")}
    first = build_report(tables).to_html()
    second = build_report(tables).to_html()
    assert first == second
    out = write_report(build_report(tables), tmp_path / "a" / "b" / "r.html")
    assert out.read_text(encoding="utf-8") == first
    assert not list(out.parent.glob(".*.tmp"))


def test_figure_divs_match_the_figures(html: str, report: Report) -> None:
    divs = re.findall(r'<div id="([^"]+)" class="chart"', html)
    assert divs == [f.id for f in report.figures]
    for f in report.figures:
        assert f'"id":"{f.id}"' in html
