"""The result of one validation check: figures, the reference they are judged against, a verdict.

Every check returns a :class:`CheckResult`. Its ``to_dict()`` keys are the public ``--json``
keys of ``flowpressure validate``; ``row()`` is the one-line table entry (check, data, figure,
reference, verdict) that the CLI, the report and the dashboard show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["VERDICTS", "ChartSeries", "ChartSpec", "CheckResult", "Verdict"]

Verdict = Literal["pass", "fail", "partial"]
#: ``pass``: the figure agrees with the reference in sign and order of magnitude;
#: ``partial``: some of the figures agree, or the sample is too small to say;
#: ``fail``: the figure contradicts the reference (reported as such, never tuned away).
VERDICTS: tuple[str, ...] = ("pass", "partial", "fail")


def _plain(value: Any) -> Any:
    """Return a JSON-safe copy (NaN as None, numpy scalars as numbers, dates as ISO text)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":
        return int(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class ChartSeries:
    """One line or set of bars of a check's chart: a name and matching x and y values."""

    name: str
    x: Sequence[Any]
    y: Sequence[Any]


@dataclass(frozen=True)
class ChartSpec:
    """A small chart of a check, independent of any plotting library.

    ``kind`` is ``"line"``, ``"bar"`` or ``"scatter"``; the report draws it with Plotly.js.
    """

    title: str
    x_label: str
    y_label: str
    series: tuple[ChartSeries, ...]
    kind: Literal["line", "bar", "scatter"] = "line"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (used by the report and the dashboard)."""
        return {
            "title": self.title,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "kind": self.kind,
            "series": [{"name": s.name, "x": _plain(s.x), "y": _plain(s.y)} for s in self.series],
        }


@dataclass(frozen=True)
class CheckResult:
    """What one validation check found.

    Attributes
    ----------
    check : str
        The check's name, as given to ``flowpressure validate`` (e.g. ``"fund-flows"``).
    data : str
        The data used, in words, with its sample size (e.g. ``"N-PORT, 3 funds, 9 fund-months"``).
    figure : str
        The headline figure(s) in words (e.g. ``"corr 0.99, MAE 0.12% of TNA"``).
    reference : str
        What the figure is judged against: an identity, a published figure, a sign.
    verdict : {"pass", "partial", "fail"}
        See :data:`VERDICTS`.
    method : str
        How the figure was computed, in one or two sentences.
    figures : mapping
        Every number behind ``figure``, by name (JSON-safe when rendered).
    inputs : mapping
        Input name to file path.
    n : int
        Sample size of the headline figure (observations, events, months, ...).
    notes : tuple of str
        Caveats a reader must know (stale days, missing months, substitutes for missing data).
    chart : ChartSpec or None
        One chart for the report.
    """

    check: str
    data: str
    figure: str
    reference: str
    verdict: Verdict
    method: str
    figures: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    n: int = 0
    notes: tuple[str, ...] = ()
    chart: ChartSpec | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def row(self) -> dict[str, str]:
        """Return the table row: check, data, figure, reference, verdict."""
        return {
            "check": self.check,
            "data": self.data,
            "figure": self.figure,
            "reference": self.reference,
            "verdict": self.verdict,
        }

    def headline(self) -> str:
        """One sentence: ``"fund-flows: corr 0.99 ... (reference ...) -> pass"``."""
        return f"{self.check}: {self.figure} (reference: {self.reference}) -> {self.verdict}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; its keys are the public ``--json`` keys of ``flowpressure validate``."""
        out: dict[str, Any] = dict(self.row())
        out.update(
            {
                "method": self.method,
                "n": int(self.n),
                "figures": _plain(dict(self.figures)),
                "inputs": {k: str(v) for k, v in self.inputs.items()},
                "notes": list(self.notes),
                "chart": self.chart.to_dict() if self.chart is not None else None,
            }
        )
        return out
