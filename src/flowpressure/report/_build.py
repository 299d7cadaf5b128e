"""Build a report: read the inputs once, compute every section, answer the four questions."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowpressure.report._format import money, pct, signed_pct
from flowpressure.report._model import Question, Report, ReportParams, Section

if TYPE_CHECKING:
    from flowpressure.data import Store
    from flowpressure.validate import CheckResult

__all__ = ["SECTION_IDS", "build_report", "write_report"]

#: Section ids in page order.
SECTION_IDS: tuple[str, ...] = (
    "fund_flows",
    "etf_flows",
    "rebalancing",
    "index_events",
    "buybacks",
    "vol_target",
    "cta",
    "gamma",
    "calendar",
    "pressure",
)


def build_report(
    data: Store | Mapping[str, Any],
    *,
    as_of: dt.date | str | None = None,
    params: ReportParams | None = None,
    source: str | None = None,
    validation: Sequence[CheckResult] | None = None,
    validation_source: str = "",
) -> Report:
    """Compute every section of the report from a store (or panels in memory).

    Parameters
    ----------
    data
        A :class:`~flowpressure.data.Store`, or a mapping of panel kind (``prices``, ``fund``,
        ``etf``, ``index_events``, ``buybacks``, ``options``) to a frame. A missing kind makes
        the sections that need it say so ("no data"); nothing is faked.
    as_of
        Use data up to this date. Default: the data's last date (prices, else fund data), never
        the wall clock. The flow calendar's sessions count from the day after.
    params
        :class:`ReportParams`; the defaults work on the embedded sample.
    source
        How the report names the data (default: the store's path, or "frames in memory").
    validation
        Results of :func:`flowpressure.validate.run_checks`; when given, a "Validation" section
        follows the others (``validation_source`` names the data folder it read).

    Returns
    -------
    Report
        Stamped with the version, the as-of date and every parameter; render it with
        :meth:`Report.to_html` or :func:`write_report`.

    Raises
    ------
    ConfigError
        A bad parameter or ``as_of``.
    DataError
        No input has a row on or before ``as_of``, or an input breaks a rule of its panel.

    Examples
    --------
    From the embedded sample's fund panel alone: the fund section is computed, the sections
    that need other panels say what is missing.

    >>> from flowpressure.data import sample
    >>> report = build_report({"fund": sample.load("fund")}, source="embedded sample")
    >>> report.as_of, report.section("fund_flows").status
    (datetime.date(2018, 12, 31), 'ok')
    >>> [s.id for s in report.sections][:4]
    ['fund_flows', 'etf_flows', 'rebalancing', 'index_events']
    >>> report.section("etf_flows").headline
    'no etf in the data given; ingest them with `flowpressure ingest etf FILE`'
    """
    from flowpressure import __version__
    from flowpressure.report._data import USED_KINDS, load_data
    from flowpressure.report._sections_dynamic import (
        buyback_section,
        cta_section,
        gamma_section,
        vol_section,
    )
    from flowpressure.report._sections_flows import etf_section, fund_section
    from flowpressure.report._sections_pressure import calendar_section, pressure_section
    from flowpressure.report._sections_rules import index_section, rebalance_section

    p = params if params is not None else ReportParams()
    d = load_data(data, as_of=as_of, source=source)
    rebalancing = rebalance_section(d, p)
    sections: tuple[Section, ...] = (
        fund_section(d, p),
        etf_section(d, p),
        rebalancing,
        index_section(d, p),
        buyback_section(d, p),
        vol_section(d, p),
        cta_section(d, p),
        gamma_section(d, p),
        calendar_section(d, p),
        pressure_section(d, p, rebalancing),
    )
    if validation is not None:
        from flowpressure.report._sections_validation import validation_section

        sections = (*sections, validation_section(validation, validation_source))
    return Report(
        version=__version__,
        as_of=d.as_of,
        requested_as_of=d.cutoff,
        source=d.source,
        params=p,
        data={k: d.describe(k) for k in USED_KINDS},
        questions=questions({s.id: s for s in sections}, p),
        sections=sections,
    )


def _ok(sections: Mapping[str, Section], key: str) -> dict[str, Any] | None:
    s = sections.get(key)
    return s.numbers if s is not None and s.status == "ok" else None


def _join(parts: list[str], empty: str) -> str:
    return " ".join(parts) if parts else empty


def questions(sections: Mapping[str, Section], p: ReportParams) -> tuple[Question, ...]:
    """Answer source, mechanism, timing and absorption from the sections' headline numbers."""
    fund, etf = _ok(sections, "fund_flows"), _ok(sections, "etf_flows")
    reb, idx = _ok(sections, "rebalancing"), _ok(sections, "index_events")
    bb, vol, cta = _ok(sections, "buybacks"), _ok(sections, "vol_target"), _ok(sections, "cta")
    cal, prs, gam = _ok(sections, "calendar"), _ok(sections, "pressure"), _ok(sections, "gamma")
    first_win = next(iter(reb["windows"].items())) if reb else None

    source = []
    if fund:
        source.append(
            f"Funds: net {money(fund['net_flow_12m'])} over the {fund['months']} months to "
            f"{fund['last_date'].isoformat()} across {fund['funds_12m']} funds."
        )
    if etf:
        source.append(
            f"ETFs: net {money(etf['net_flow_recent'])} over the last {etf['recent_sessions']} "
            "sessions."
        )
    if first_win:
        name, w = first_win
        side = "buy" if w["central"] >= 0 else "sell"
        source.append(
            f"A {p.target_equity:.0%}/{1 - p.target_equity:.0%} mandate of {money(p.aum)} must "
            f"{side} {money(abs(w['central']))} of {p.equity_id} at the {name} end."
        )
    if bb:
        source.append(f"Companies: {money(bb['expected'])} of buybacks expected next period.")

    mechanism = []
    if first_win:
        name, w = first_win
        mechanism.append(
            f"Mandate drift: {p.equity_id} {signed_pct(w['equity_return'])} against {p.bond_id} "
            f"{signed_pct(w['bond_return'])} since {w['start'].isoformat()} moved the equity "
            f"weight to {pct(w['equity_weight'])} (target {pct(p.target_equity, 0)})."
        )
    if idx:
        mechanism.append(
            f"Benchmark changes: {idx['events']} index events, net passive demand "
            f"{money(idx['net_demand'])}."
        )
    if vol:
        mechanism.append(
            f"Volatility caps: vol-control funds hold exposure {vol['exposure']:.2f} at realised "
            f"vol {pct(vol['realized_vol'], 1)}."
        )
    if cta:
        mechanism.append(
            f"Trend: CTAs hold {money(cta['position'])} (signal {cta['signal']:+.2f})."
        )
    if fund and fund.get("strongest_lag") is not None:
        mechanism.append(
            f"Fund flows and returns are most correlated at lag {fund['strongest_lag']:+d} "
            f"months (corr {fund['strongest_corr']:+.3f})."
        )

    timing = []
    if cal:
        timing.append(
            f"{cal['events']} known-date flows in the next {cal['sessions']} sessions "
            f"({cal['start'].isoformat()}..{cal['end'].isoformat()}), {cal['sized']} sized."
        )
        if cal["largest_date"] is not None:
            timing.append(
                f"The largest: {cal['largest_family'].replace('_', ' ')} on "
                f"{cal['largest_date'].isoformat()}, {money(cal['largest_dollars'])}."
            )
    if first_win:
        name, w = first_win
        timing.append(
            f"The {name}-end trade is due over {w['first_day'].isoformat()}.."
            f"{w['end'].isoformat()}."
        )
    if gam:
        timing.append(
            f"Dealer gamma {money(gam['total_gex'])} per 1% move: their hedge for a +1% move is "
            f"{money(gam['hedge_flow_1pct'])}."
        )

    absorption = []
    if prs and prs.get("impact_bps") is not None:
        absorption.append(
            f"The {prs['impact_window']}-end trade is {prs['days_of_adv']:.4f} days of "
            f"{p.equity_id} ADV: {prs['impact_bps']:+.1f} bps by the square-root law."
        )
    if idx and idx.get("top_days_of_adv") is not None:
        absorption.append(
            f"The largest index event ({idx['top_asset']} {idx['top_kind']}) was "
            f"{idx['top_days_of_adv']:.1f} days of ADV."
        )
    if prs:
        absorption.append(
            f"In an inelastic market (theta = {prs['theta']:g}) each dollar into the mixed fund "
            f"adds {prs['multiplier'] * prs['theta']:g} dollars of market value: multiplier "
            f"{prs['multiplier']:g} on the equity inflow, price {signed_pct(prs['price_change'])}."
        )
    none = "Not answerable: the sections it needs have no data."
    return (
        Question("source", "Source: who moves the money, and how much?", _join(source, none)),
        Question("mechanism", "Mechanism: which rule forces it?", _join(mechanism, none)),
        Question("timing", "Timing: when does it hit?", _join(timing, none)),
        Question(
            "absorption",
            "Absorption: how big against liquidity, and what price move?",
            _join(absorption, none),
        ),
    )


def write_report(report: Report, path: str | Path) -> Path:
    """Write ``report`` as one self-contained HTML file (atomically) and return its path.

    Parameters
    ----------
    report
        A built :class:`Report`.
    path
        Where to write; parent directories are created.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        The path cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flowpressure.data import sample
    >>> report = build_report({"fund": sample.load("fund")})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_report(report, pathlib.Path(tmp) / "r" / "report.html")
    ...     out.name, out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    ('report.html', True)
    """
    from flowpressure import ConfigError

    out = Path(path)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(report.to_html(), encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ConfigError(
            field="path", expected=f"a writable file path ({exc.strerror})", got=str(out)
        ) from None
    return out
