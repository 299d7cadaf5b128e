"""What a report is made of: its parameters, sections, tables and figures (plain data).

Nothing here computes or renders: the builders in ``_sections_*.py`` fill these objects from the
library's results, and ``_html.py`` turns them into a page. Every object is frozen and holds
plain Python values (figures are Plotly JSON dicts), so the same store and parameters always
give the same report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from flowpressure._errors import ConfigError

__all__ = [
    "PARAM_HELP",
    "STATUSES",
    "Figure",
    "Question",
    "Report",
    "ReportParams",
    "Section",
    "Table",
    "Text",
]

Status = Literal["ok", "no data", "not built"]
#: Status of a section: computed, missing its input data, or a capability not built yet.
STATUSES: tuple[str, ...] = ("ok", "no data", "not built")

Triple = tuple[float, float, float]


def _finite(name: str, value: float, *, positive: bool = False) -> None:
    ok = isinstance(value, int | float) and math.isfinite(value)
    if not ok or (positive and value <= 0):
        what = "a number > 0" if positive else "a finite number"
        raise ConfigError(field=name, expected=what, got=value)


def _whole(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(field=name, expected=f"a whole number >= {least}", got=value)


def _fraction(name: str, value: float, *, open_low: bool = True, open_high: bool = True) -> None:
    _finite(name, value)
    low_ok = value > 0 if open_low else value >= 0
    high_ok = value < 1 if open_high else value <= 1
    if not (low_ok and high_ok):
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise ConfigError(field=name, expected=f"a fraction in {lo}0, 1{hi}", got=value)


#: One-line help for every parameter, in the order the report stamps them.
PARAM_HELP: dict[str, str] = {
    "aum": "Assets of the 60/40-style mandate W (currency); sizes the rebalancing estimate, the "
    "month-end calendar rows and the impact.",
    "target_equity": "Target equity weight of the mandate (the bond leg holds the rest).",
    "equity_id": "asset_id of the equity leg in the prices (also the vol-target, CTA, gamma "
    "and impact asset).",
    "bond_id": "asset_id of the bond leg in the prices.",
    "share_rebalancing": "Share of the mandate's assets that rebalances mechanically "
    "(low, central, high).",
    "band": "Drift band inside which nothing trades (low, central, high).",
    "traded_early": "Share of the trade done before the window (low, central, high).",
    "rebalance_days": "Sessions at the end of a month/quarter/year over which the trade is "
    "spread (the rebalancing window of the calendar too).",
    "indexed_assets": "Dollars indexed to the benchmark A for index-event demand (None: "
    "passive share x float market cap of each event).",
    "adv_window": "Sessions of average daily volume (ADV) and daily volatility.",
    "buyback_cap": "Rule 10b-18 safe-harbour cap on daily repurchases, a share of ADTV.",
    "blackout_days": "Buyback blackout: calendar days before each earnings date.",
    "vol_target": "Annualised volatility target of vol-control funds.",
    "vol_aum": "Assets of vol-control funds (currency).",
    "vol_window": "Sessions of the vol-control funds' realised-volatility window.",
    "max_leverage": "Exposure cap of vol-control and CTA funds.",
    "shock": "One-day return of the vol-control shock scenario.",
    "shock_days": "Sessions of the shock scenario.",
    "cta_aum": "Assets following the CTA trend model (currency).",
    "lookbacks": "CTA trend lookbacks in sessions (equal weights).",
    "horizon": "Trading sessions of the flow calendar, counted from the day after the as-of date.",
    "history": "Sessions shown in the vol-target and CTA history charts.",
    "inflow": "Inelastic-multiplier example: dollars moved into the mixed fund.",
    "theta": "Inelastic-multiplier example: equity mandate of the mixed fund.",
    "shares": "Inelastic-multiplier example: shares outstanding, all held by the fund.",
    "price": "Inelastic-multiplier example: share price before the inflow.",
    "impact_y": "Prefactor Y of the square-root impact law.",
    "calendar": "Exchange calendar of sessions and period ends.",
}


@dataclass(frozen=True)
class ReportParams:
    """Every parameter of a report, with defaults that work on the embedded sample.

    Money is in currency units and rates are fractions (DESIGN.md conventions). The
    descriptions are in :data:`PARAM_HELP`; the report stamps every value.

    Raises
    ------
    ConfigError
        A value out of range, naming the parameter.

    Examples
    --------
    >>> p = ReportParams(aum=5e11)
    >>> p.aum, p.target_equity, p.horizon
    (500000000000.0, 0.6, 30)
    >>> ReportParams(horizon=0)
    Traceback (most recent call last):
    ...
    flowpressure._errors.ConfigError: field 'horizon': expected a whole number >= 1, got 0
    """

    aum: float = 1e12
    target_equity: float = 0.6
    equity_id: str = "SPX"
    bond_id: str = "AGG_TR"
    share_rebalancing: Triple = (0.5, 0.75, 1.0)
    band: Triple = (0.0, 0.0, 0.02)
    traded_early: Triple = (0.0, 0.25, 0.5)
    rebalance_days: int = 5
    indexed_assets: float | None = 1.5e13
    adv_window: int = 20
    buyback_cap: float = 0.25
    blackout_days: int = 30
    vol_target: float = 0.10
    vol_aum: float = 1e11
    vol_window: int = 20
    max_leverage: float = 2.0
    shock: float = -0.04
    shock_days: int = 5
    cta_aum: float = 3e11
    lookbacks: tuple[int, ...] = (20, 60, 120, 250)
    horizon: int = 30
    history: int = 250
    inflow: float = 1.0
    theta: float = 0.8
    shares: float = 80.0
    price: float = 1.0
    impact_y: float = 1.0
    calendar: str = "XNYS"

    def __post_init__(self) -> None:
        for name in ("aum", "vol_aum", "cta_aum", "vol_target", "max_leverage", "shares"):
            _finite(name, getattr(self, name), positive=True)
        for name in ("price", "impact_y"):
            _finite(name, getattr(self, name), positive=True)
        if self.indexed_assets is not None:
            _finite("indexed_assets", self.indexed_assets, positive=True)
        _finite("inflow", self.inflow)
        _finite("shock", self.shock)
        if self.shock <= -1:
            raise ConfigError(field="shock", expected="a one-day return > -1", got=self.shock)
        _fraction("target_equity", self.target_equity)
        _fraction("theta", self.theta)
        _fraction("buyback_cap", self.buyback_cap, open_high=False)
        for name in ("equity_id", "bond_id", "calendar"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(field=name, expected="a non-empty name", got=value)
        if self.equity_id == self.bond_id:
            raise ConfigError(
                field="bond_id", expected="an asset other than equity_id", got=self.bond_id
            )
        for name in ("rebalance_days", "horizon", "shock_days"):
            _whole(name, getattr(self, name), 1)
        for name in ("adv_window", "vol_window", "history"):
            _whole(name, getattr(self, name), 2)
        _whole("blackout_days", self.blackout_days, 0)
        for name in ("share_rebalancing", "band", "traded_early"):
            values = getattr(self, name)
            if len(values) != 3 or not all(isinstance(v, int | float) for v in values):
                raise ConfigError(
                    field=name, expected="three numbers (low, central, high)", got=values
                )
        if not self.lookbacks or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 2 for n in self.lookbacks
        ):
            raise ConfigError(
                field="lookbacks", expected="whole numbers of sessions >= 2", got=self.lookbacks
            )

    def to_dict(self) -> dict[str, Any]:
        """Every parameter by name, in declaration order (tuples as lists, for JSON).

        Examples
        --------
        >>> list(ReportParams().to_dict())[:3]
        ['aum', 'target_equity', 'equity_id']
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class Table:
    """A table of raw values with one display format per column.

    ``formats`` are ``text``, ``date``, ``money``, ``pct``, ``spct`` (signed percentage),
    ``int``, ``f1``..``f4`` (fixed decimals), ``sf2`` (signed, 2 decimals) and ``bps``;
    every format but ``text`` and ``date`` is right-aligned.

    Raises
    ------
    ConfigError
        Not one format and one value per column.

    Examples
    --------
    >>> t = Table("Trades", ("window", "central"), ("text", "money"), (("month", 14.25e9),))
    >>> t.rows[0][1]
    14250000000.0
    >>> Table("Bad", ("a", "b"), ("text",), ())
    Traceback (most recent call last):
    ...
    flowpressure._errors.ConfigError: field 'formats': expected one format per column, got ('text',)
    """

    title: str
    columns: tuple[str, ...]
    formats: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.formats):
            raise ConfigError(field="formats", expected="one format per column", got=self.formats)
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ConfigError(field="rows", expected="one value per column", got=row)


@dataclass(frozen=True)
class Figure:
    """A Plotly figure as JSON-ready ``data`` (traces) and ``layout``, drawn by Plotly.js.

    Examples
    --------
    >>> f = Figure("fig-x", "Flows", ({"type": "bar", "x": ["a"], "y": [1.0]},), {"height": 300})
    >>> f.data[0]["type"], f.layout["height"]
    ('bar', 300)
    """

    id: str
    title: str
    data: tuple[dict[str, Any], ...]
    layout: dict[str, Any]
    caption: str = ""


@dataclass(frozen=True)
class Text:
    """A paragraph; text between backticks is shown as code.

    Examples
    --------
    >>> Text("ingest prices with `flowpressure ingest prices FILE`").text[:13]
    'ingest prices'
    """

    text: str


Block = Table | Figure | Text


@dataclass(frozen=True)
class Section:
    """One section of the report.

    Attributes
    ----------
    id, title
        Anchor and heading.
    status
        ``"ok"``, ``"no data"`` (an input kind is missing; ``headline`` says which and how to
        ingest it) or ``"not built"``.
    headline
        One sentence with the section's headline number.
    inputs, assumptions
        What data went in, and what the numbers assume.
    parameters
        The exact parameter values the section used.
    numbers
        Headline numbers by name (plain values, for JSON and the summary questions).
    blocks
        Tables, figures and paragraphs in display order.

    Examples
    --------
    >>> s = Section("demo", "Demo", "ok", "The answer is 42.", numbers={"answer": 42},
    ...             blocks=(Text("A paragraph."),))
    >>> s.to_dict()["numbers"], s.tables, len(s.blocks)
    ({'answer': 42}, (), 1)
    """

    id: str
    title: str
    status: Status
    headline: str
    inputs: str = ""
    assumptions: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    numbers: dict[str, Any] = field(default_factory=dict)
    blocks: tuple[Block, ...] = ()

    @property
    def tables(self) -> tuple[Table, ...]:
        """The section's tables, in order."""
        return tuple(b for b in self.blocks if isinstance(b, Table))

    @property
    def figures(self) -> tuple[Figure, ...]:
        """The section's figures, in order."""
        return tuple(b for b in self.blocks if isinstance(b, Figure))

    def to_dict(self) -> dict[str, Any]:
        """Return the section without its tables and figures (JSON-ready but for dates)."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "headline": self.headline,
            "inputs": self.inputs,
            "assumptions": self.assumptions,
            "parameters": dict(self.parameters),
            "numbers": dict(self.numbers),
            "tables": len(self.tables),
            "figures": len(self.figures),
        }


@dataclass(frozen=True)
class Question:
    """One of the four questions (source, mechanism, timing, absorption) and its answer.

    Examples
    --------
    >>> Question("timing", "Timing: when does it hit?", "At the month end.").key
    'timing'
    """

    key: str
    question: str
    answer: str


@dataclass(frozen=True)
class Report:
    """A built report: stamps, the four questions answered, and the sections.

    Attributes
    ----------
    version
        ``flowpressure.__version__`` that built it.
    as_of
        The data's last date used (prices, else fund data), never the wall clock.
    requested_as_of
        The ``as_of`` asked for, when one was (data after it were left out).
    source
        Where the data came from (a store path, or the embedded sample).
    params
        Every parameter.
    data
        Per input kind: rows, entities, first and last date, or absent.
    questions
        Source, mechanism, timing and absorption, each answered from the sections.
    sections
        The sections in display order.

    Examples
    --------
    A report is made by :func:`~flowpressure.report.build_report`; by hand it looks like this:

    >>> import datetime as dt
    >>> s = Section("demo", "Demo", "ok", "One number: 42.", numbers={"x": 42})
    >>> r = Report("0.1.0", dt.date(2024, 3, 28), None, "memory", ReportParams(), {}, (), (s,))
    >>> r.section("demo").numbers["x"], r.to_dict()["as_of"]
    (42, datetime.date(2024, 3, 28))
    >>> page = r.to_html()
    >>> page.startswith("<!DOCTYPE html>"), '<section id="demo"' in page
    (True, True)
    """

    version: str
    as_of: dt.date
    requested_as_of: dt.date | None
    source: str
    params: ReportParams
    data: dict[str, dict[str, Any]]
    questions: tuple[Question, ...]
    sections: tuple[Section, ...]

    def section(self, section_id: str) -> Section:
        """Return the section with this id.

        Raises
        ------
        ConfigError
            No such section.
        """
        for s in self.sections:
            if s.id == section_id:
                return s
        raise ConfigError(
            field="section", expected=f"one of {[s.id for s in self.sections]}", got=section_id
        )

    @property
    def figures(self) -> tuple[Figure, ...]:
        """Every figure of every section, in page order."""
        return tuple(f for s in self.sections for f in s.figures)

    def to_dict(self) -> dict[str, Any]:
        """Stamps, parameters, questions and sections (without tables and figures)."""
        return {
            "version": self.version,
            "as_of": self.as_of,
            "requested_as_of": self.requested_as_of,
            "source": self.source,
            "parameters": self.params.to_dict(),
            "data": self.data,
            "questions": {q.key: q.answer for q in self.questions},
            "sections": [s.to_dict() for s in self.sections],
        }

    def to_html(self) -> str:
        """Render the report as one self-contained HTML page (Plotly.js embedded once).

        The page loads nothing from the network: Plotly's JavaScript is inlined, MathJax is not
        used, and every data string is escaped.
        """
        from flowpressure.report._html import render

        return render(self)


def pick(params: ReportParams, *names: str) -> dict[str, Any]:
    """Return the named parameters (tuples as lists), for a section's ``parameters``."""
    full = params.to_dict()
    return {n: full[n] for n in names}
