"""Render a report as one self-contained HTML page: embedded CSS, Plotly.js inlined once.

The page loads nothing from the network. Every data string is escaped with
:func:`html.escape`; figure JSON is embedded with ``<``, ``>`` and ``&`` written as Unicode
escapes so no data value can close the script element.
"""

from __future__ import annotations

import html
import importlib
import json
import re
from typing import Any

from flowpressure.report._format import NUMERIC, cell, param
from flowpressure.report._model import PARAM_HELP, Figure, Report, Section, Table, Text

__all__ = ["CSS", "PLOTLY_CONFIG", "figure_json", "render"]

#: Plotly.js options of every chart: no logo, no link to a cloud service, no MathJax.
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showLink": False,
    "showEditInChartStudio": False,
    "showSendToCloud": False,
    "typesetMath": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}

CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --accent: #2f5fd0; --line: #e3e6ec;
        --soft: #f5f7fa; --ok: #1b7f4b; --warn: #9a5600; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
       font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.9rem; margin: 0 0 .2rem; }
h2 { font-size: 1.35rem; margin: 0 0 .4rem; }
h2 a { color: inherit; text-decoration: none; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: .8rem;
                margin-bottom: 1rem; }
.subtitle { color: var(--muted); margin: 0 0 .6rem; }
dl.stamp { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; }
dl.stamp dt { color: var(--muted); }
dl.stamp dd { margin: 0; font-weight: 600; }
dl.stamp dd.params { font-weight: 400; font-size: .85rem; line-height: 1.9; }
nav.toc { background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
          padding: .6rem 1rem; margin: 1rem 0; }
nav.toc ul { margin: .2rem 0; padding-left: 0; list-style: none; columns: 2; }
nav.toc a { color: var(--accent); text-decoration: none; }
section { border-top: 1px solid var(--line); margin-top: 2rem; padding-top: 1rem; }
.status { display: inline-block; font-size: .72rem; font-weight: 700; letter-spacing: .04em;
          text-transform: uppercase; padding: .05rem .45rem; border-radius: 3px;
          vertical-align: middle; margin-left: .4rem; }
.status-ok { background: #e2f3e9; color: var(--ok); }
.status-no-data, .status-not-built { background: #fdf0dc; color: var(--warn); }
.headline { font-size: 1.05rem; font-weight: 600; margin: .3rem 0 .6rem; }
.missing .headline { color: var(--warn); }
.meta { color: var(--muted); font-size: .92rem; margin: .2rem 0; }
.meta b { color: var(--fg); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em;
       background: var(--soft); border: 1px solid var(--line); border-radius: 3px;
       padding: 0 .25em; }
dl.questions { display: grid; grid-template-columns: 12rem 1fr; gap: .5rem 1rem; }
dl.questions dt { font-weight: 700; }
dl.questions dd { margin: 0; }
figure.fig { margin: 1rem 0; }
figure.fig figcaption { color: var(--muted); font-size: .85rem; }
.chart { width: 100%; }
.table-wrap { overflow-x: auto; margin: .8rem 0 1.2rem; }
table { border-collapse: collapse; font-size: .86rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .2rem 0 .4rem; }
th, td { padding: .28rem .6rem; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 22rem; }
thead th { white-space: normal; }
thead th { border-bottom: 2px solid #c9ced8; background: var(--soft); }
th.num, td.num { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
p.note { color: var(--muted); font-size: .82rem; margin: .2rem 0 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem;
         border-top: 1px solid var(--line); padding-top: .6rem; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section { break-before: auto; }
  figure.fig, .table-wrap, dl.questions { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""

_CODE = re.compile(r"`([^`]+)`")
_NUM = ' class="num"'
#: A text column with a value longer than this wraps; others stay on one line.
WRAP_AFTER = 40


def text(value: Any) -> str:
    """Escape ``value`` for HTML, then show text between backticks as code.

    Examples
    --------
    >>> text("run `flowpressure ingest <kind>` & wait")
    'run <code>flowpressure ingest &lt;kind&gt;</code> &amp; wait'
    """
    return _CODE.sub(r"<code>\1</code>", html.escape(str(value), quote=True))


def figure_json(fig: Figure) -> str:
    r"""Return the figure's ``{"id", "data", "layout"}`` as JSON safe inside a script element.

    Examples
    --------
    >>> figure_json(Figure("f", "t", ({"type": "bar", "name": "</script>"},), {}))
    '{"id":"f","data":[{"type":"bar","name":"\\u003c/script\\u003e"}],"layout":{}}'
    """
    raw = json.dumps(
        {"id": fig.id, "data": list(fig.data), "layout": fig.layout},
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table(t: Table) -> str:
    shown = [[cell(v, fmt) for v, fmt in zip(row, t.formats, strict=True)] for row in t.rows]
    classes = []
    for i, fmt in enumerate(t.formats):
        if fmt in NUMERIC:
            classes.append(_NUM)
        elif any(len(row[i]) > WRAP_AFTER for row in shown):
            classes.append(' class="wrap"')
        else:
            classes.append("")
    head = "".join(
        f'<th{cls} scope="col">{text(c)}</th>' for c, cls in zip(t.columns, classes, strict=True)
    )
    body = [
        "<tr>"
        + "".join(f"<td{cls}>{text(v)}</td>" for v, cls in zip(row, classes, strict=True))
        + "</tr>"
        for row in shown
    ]
    if not body:
        body.append(f'<tr><td colspan="{len(t.columns)}">no rows</td></tr>')
    note = f'<p class="note">{text(t.note)}</p>' if t.note else ""
    return (
        f'<div class="table-wrap"><table><caption>{text(t.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}</div>"
    )


def _figure(f: Figure) -> str:
    height = int(f.layout.get("height", 380))
    caption = f"<figcaption>{text(f.caption)}</figcaption>" if f.caption else ""
    return (
        f'<figure class="fig"><div id="{html.escape(f.id)}" class="chart" '
        f'style="min-height:{height}px" data-title="{html.escape(f.title)}"></div>'
        f"{caption}</figure>"
    )


def _block(b: Table | Figure | Text) -> str:
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        return _figure(b)
    return f"<p>{text(b.text)}</p>"


def _section(s: Section, number: int) -> str:
    status_class = "status-" + s.status.replace(" ", "-")
    parts = [
        f'<section id="{html.escape(s.id)}" class="{"ok" if s.status == "ok" else "missing"}" '
        f'data-status="{html.escape(s.status)}">',
        f'<h2><a href="#{html.escape(s.id)}">{number}. {text(s.title)}</a>'
        f'<span class="status {status_class}">{text(s.status)}</span></h2>',
        f'<p class="headline">{text(s.headline)}</p>',
    ]
    if s.inputs:
        parts.append(f'<p class="meta"><b>Inputs.</b> {text(s.inputs)}</p>')
    if s.assumptions:
        parts.append(f'<p class="meta"><b>Assumptions.</b> {text(s.assumptions)}</p>')
    if s.parameters:
        shown = " ".join(
            f"<code>{text(k)}={text(param(v))}</code>" for k, v in s.parameters.items()
        )
        parts.append(f'<p class="meta"><b>Parameters.</b> {shown}</p>')
    parts.extend(_block(b) for b in s.blocks)
    parts.append("</section>")
    return "\n".join(parts)


def _header(r: Report) -> str:
    chips = " ".join(
        f"<code>{text(k)}={text(param(v))}</code>" for k, v in r.params.to_dict().items()
    )
    cut = (
        f" (data up to the requested {r.requested_as_of.isoformat()})"
        if r.requested_as_of is not None and r.requested_as_of != r.as_of
        else ""
    )
    return (
        '<header class="report"><h1>flowpressure report</h1>'
        '<p class="subtitle">Rules-based capital flows and the price pressure they cause: '
        "source, mechanism, timing, absorption.</p>"
        '<dl class="stamp">'
        f'<dt>version</dt><dd id="stamp-version">flowpressure {text(r.version)}</dd>'
        f'<dt>data as of</dt><dd id="stamp-as-of">{r.as_of.isoformat()}{text(cut)}</dd>'
        f'<dt>source</dt><dd id="stamp-source">{text(r.source)}</dd>'
        f'<dt>parameters</dt><dd id="stamp-parameters" class="params">{chips}'
        ' <a href="#parameters">(what each means)</a></dd>'
        "</dl></header>"
    )


def _toc(r: Report) -> str:
    items = ['<li><a href="#summary">Summary: the four questions</a></li>']
    for i, s in enumerate(r.sections, start=1):
        flag = "" if s.status == "ok" else f" ({text(s.status)})"
        items.append(f'<li>{i}. <a href="#{html.escape(s.id)}">{text(s.title)}</a>{flag}</li>')
    items.append('<li><a href="#parameters">Data and parameters</a></li>')
    return f'<nav class="toc"><b>Contents</b><ul>{"".join(items)}</ul></nav>'


def _summary(r: Report) -> str:
    rows = "".join(
        f'<dt>{text(q.question)}</dt><dd id="q-{html.escape(q.key)}">{text(q.answer)}</dd>'
        for q in r.questions
    )
    return (
        '<section id="summary" class="ok"><h2><a href="#summary">Summary: the four questions</a>'
        f'</h2><dl class="questions">{rows}</dl></section>'
    )


def _parameters(r: Report) -> str:
    data_rows = []
    for kind, d in r.data.items():
        if d:
            data_rows.append(
                (kind, f"{d['rows']:,}", f"{d['entities']:,}", param(d["first"]), param(d["last"]))
            )
        else:
            data_rows.append((kind, "none", "", "", ""))
    data_html = _table(
        Table(
            "Input data (after the as-of cut-off)",
            ("kind", "rows", "entities", "first", "last"),
            ("text", "text", "text", "text", "text"),
            tuple(data_rows),
        )
    )
    params = r.params.to_dict()
    param_rows = tuple((k, param(v), PARAM_HELP.get(k, "")) for k, v in params.items())
    params_html = _table(
        Table(
            "Every parameter of this report",
            ("parameter", "value", "meaning"),
            ("text", "text", "text"),
            param_rows,
        )
    ).replace("<table>", '<table id="parameters-table">', 1)
    return (
        '<section id="parameters" class="ok"><h2><a href="#parameters">Data and parameters</a></h2>'
        f"{data_html}{params_html}</section>"
    )


def render(r: Report) -> str:
    """Return the whole page for ``r`` (deterministic: the same report gives the same text)."""
    # plotly ships no type information; imported here so the package stays light.
    plotly_offline = importlib.import_module("plotly.offline")
    plotly_js: str = plotly_offline.get_plotlyjs()
    figs = r.figures
    ids = [f.id for f in figs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"figure ids are not unique: {ids}")
    sections = "\n".join(_section(s, i) for i, s in enumerate(r.sections, start=1))
    payload = ",\n".join(figure_json(f) for f in figs)
    config = json.dumps(PLOTLY_CONFIG, separators=(",", ":"), sort_keys=True)
    script = (
        "<script>\n(function () {\n"
        f"  var figures = [\n{payload}\n  ];\n"
        f"  var config = {config};\n"
        "  figures.forEach(function (f) { Plotly.newPlot(f.id, f.data, f.layout, config); });\n"
        "})();\n</script>"
    )
    title = f"flowpressure report, data as of {r.as_of.isoformat()}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="flowpressure {text(r.version)}">\n'
        f"<title>{text(title)}</title>\n"
        f"<style>{CSS}</style>\n"
        f'<script id="plotly-js">{plotly_js}</script>\n'
        "</head>\n<body>\n<main>\n"
        f"{_header(r)}\n{_toc(r)}\n{_summary(r)}\n{sections}\n{_parameters(r)}\n"
        "<footer>Every number on this page is output of the flowpressure library on the data "
        "named above; a section without its data says so instead of showing numbers. Money in "
        "US dollars (tn, bn, mn), rates as percentages, dates ISO; + is buying, - selling."
        "</footer>\n"
        f"</main>\n{script}\n</body>\n</html>\n"
    )
