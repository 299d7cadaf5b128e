"""HTML report, the main job of ``make demo``: the four questions answered with tables and charts.

:func:`build_report` reads a store (or panels in memory) once, calls the flows, mechanics and
pressure layers, and returns a :class:`Report`: a version-, as-of- and parameter-stamped list
of :class:`Section` objects holding tables, Plotly figures and headline numbers. A section
whose input is missing says so plainly ("no data") instead of showing numbers.
:meth:`Report.to_html` renders one self-contained page (Plotly.js embedded once, no network);
:func:`write_report` writes it.

Importing this package is light: plotly is imported only when a page is rendered.

Examples
--------
>>> from flowpressure.data import sample
>>> from flowpressure.report import build_report
>>> report = build_report({"fund": sample.load("fund")}, source="embedded sample")
>>> [(s.id, s.status) for s in report.sections][:3]
[('fund_flows', 'ok'), ('etf_flows', 'no data'), ('rebalancing', 'no data')]
"""

from __future__ import annotations

from flowpressure.report._build import SECTION_IDS, build_report, write_report
from flowpressure.report._model import (
    PARAM_HELP,
    STATUSES,
    Figure,
    Question,
    Report,
    ReportParams,
    Section,
    Table,
    Text,
)

__all__ = [
    "Figure",
    "PARAM_HELP",
    "Question",
    "Report",
    "ReportParams",
    "SECTION_IDS",
    "STATUSES",
    "Section",
    "Table",
    "Text",
    "build_report",
    "write_report",
]
