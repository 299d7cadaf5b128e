"""The "Validation" section: each model's check against real outcomes, a table and a chart each."""

from __future__ import annotations

from collections.abc import Sequence

from flowpressure.report._charts import PALETTE, bar, figure, json_values, layout, line
from flowpressure.report._model import Block, Section, Table, Text
from flowpressure.validate import CheckResult

__all__ = ["VALIDATION_ID", "validation_section"]

#: Section id of the validation section (added after the others when checks were run).
VALIDATION_ID = "validation"


def _chart(result: CheckResult, number: int) -> Block | None:
    spec = result.chart
    if spec is None:
        return None
    traces = []
    for i, s in enumerate(spec.series):
        color = PALETTE[i % len(PALETTE)]
        if spec.kind == "bar":
            traces.append(bar(s.name, s.x, s.y, marker={"color": color}))
        elif spec.kind == "scatter":
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": s.name,
                    "x": json_values(s.x),
                    "y": json_values(s.y),
                    "marker": {"color": color, "size": 6},
                }
            )
        else:
            traces.append(line(s.name, s.x, s.y, line={"color": color, "width": 2}))
    title = spec.title.replace("$", "USD ")
    return figure(
        f"fig-validation-{number}",
        title,
        traces,
        layout(title, xtitle=spec.x_label, ytitle=spec.y_label),
        caption=f"{result.check}: {result.figure} ({result.verdict}).",
    )


def validation_section(results: Sequence[CheckResult], source: str) -> Section:
    """Build the section from check results (run by :func:`flowpressure.validate.run_checks`).

    Examples
    --------
    >>> from flowpressure.validate import CheckResult
    >>> r = CheckResult("demo", "a file", "corr 0.9", "identity", "pass", "a method")
    >>> s = validation_section([r], "data/")
    >>> s.status, s.headline
    ('ok', '1 checks on real outcomes: 1 pass, 0 partial, 0 fail (files in data/)')
    """
    counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "partial", "fail")}
    headline = (
        f"{len(results)} checks on real outcomes: {counts['pass']} pass, "
        f"{counts['partial']} partial, {counts['fail']} fail (files in {source})"
    )
    table = Table(
        "Each model against what really happened",
        ("check", "data", "figure", "reference", "verdict"),
        ("text",) * 5,
        tuple(tuple(r.row().values()) for r in results),
        note="pass: agrees in sign and order of magnitude; partial: in part, or too few data; "
        "fail: contradicts the reference (reported, never tuned).",
    )
    blocks: list[Block] = [table]
    for i, r in enumerate(results, start=1):
        blocks.append(Text(f"{r.check}. Method: {r.method}"))
        for note in r.notes:
            blocks.append(Text(f"{r.check}: {note}"))
        chart = _chart(r, i)
        if chart is not None:
            blocks.append(chart)
    return Section(
        id=VALIDATION_ID,
        title="Validation",
        status="ok",
        headline=headline,
        inputs="; ".join(f"{r.check}: {', '.join(r.inputs.values())}" for r in results),
        assumptions="Each check's criteria are fixed in code before the figure is computed; "
        "see its method.",
        parameters={"data": source},
        numbers={r.check: {"verdict": r.verdict, **dict(r.figures)} for r in results},
        blocks=tuple(blocks),
    )
