"""Plotly figure specs as plain JSON dicts (no plotly import: Plotly.js draws them in the page).

Chart text never contains a dollar sign: Plotly.js reads text between two of them as LaTeX
and would look for MathJax, which the page does not load. Money axes say ``USD bn`` instead.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

from flowpressure.report._model import Figure

__all__ = [
    "BUY",
    "PALETTE",
    "SELL",
    "bar",
    "figure",
    "json_values",
    "layout",
    "line",
    "money_scale",
    "side_colors",
    "stacked",
]

PALETTE = (
    "#2f5fd0",
    "#d2553f",
    "#2a9d6f",
    "#8a5cc2",
    "#d49a1e",
    "#3fa7c9",
    "#7a7f8c",
    "#c2578a",
    "#5c8a2f",
    "#1f3b73",
)
BUY = "#2a9d6f"
SELL = "#d2553f"
NEUTRAL = "#7a7f8c"


def json_values(values: Iterable[Any]) -> list[Any]:
    """Plain JSON values: dates as ISO text, NaN as None, numpy scalars as Python numbers.

    Examples
    --------
    >>> json_values([1, float("nan"), None, dt.date(2024, 1, 2)])
    [1.0, None, None, '2024-01-02']
    """
    out: list[Any] = []
    for v in values:
        if v is None:
            out.append(None)
        elif isinstance(v, dt.date):
            out.append(v.isoformat())
        elif isinstance(v, str | bool):
            out.append(v)
        else:
            f = float(v)
            out.append(None if math.isnan(f) or math.isinf(f) else f)
    return out


def money_scale(values: Iterable[Any]) -> tuple[float, str]:
    """Pick a unit for money on an axis: ``(divisor, label)`` from the largest magnitude.

    Examples
    --------
    >>> money_scale([2.5e9, -1e8]), money_scale([3e6]), money_scale([12.0])
    ((1000000000.0, 'USD bn'), (1000000.0, 'USD mn'), (1.0, 'USD'))
    """
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v))]
    top = max(finite, default=0.0)
    for size, label in ((1e12, "USD tn"), (1e9, "USD bn"), (1e6, "USD mn")):
        if top >= size:
            return size, label
    return 1.0, "USD"


def scaled(values: Sequence[Any], divisor: float) -> list[Any]:
    """Divide every number by ``divisor`` (missing values stay None)."""
    return [None if v is None else v / divisor for v in json_values(values)]


def side_colors(values: Iterable[Any]) -> list[str]:
    """One colour per value: buying green, selling red, zero or missing grey."""
    out = []
    for v in values:
        if v is None or not math.isfinite(float(v)) or float(v) == 0.0:
            out.append(NEUTRAL)
        else:
            out.append(BUY if float(v) > 0 else SELL)
    return out


def layout(
    title: str,
    *,
    xtitle: str = "",
    ytitle: str = "",
    height: int = 380,
    **extra: Any,
) -> dict[str, Any]:
    """Return the house layout: title, axis titles, horizontal legend, compact margins."""
    out: dict[str, Any] = {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "margin": {"l": 64, "r": 24, "t": 48, "b": 80 if xtitle else 48},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.3 if xtitle else -0.16, "x": 0.0},
        "xaxis": {"title": {"text": xtitle}, "automargin": True},
        "yaxis": {"title": {"text": ytitle}, "automargin": True, "zeroline": True},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
    for axis in ("xaxis", "yaxis"):
        out[axis].update({"gridcolor": "#e8ebf0", "zerolinecolor": "#b8bfcc"})
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def stacked(
    title: str, *, top: str, bottom: str, height: int = 460, **extra: Any
) -> dict[str, Any]:
    """Two panels sharing the x axis: traces on ``yaxis="y2"`` go on top, the rest below."""
    out = layout(title, ytitle=bottom, height=height, **extra)
    out["yaxis"]["domain"] = [0.0, 0.44]
    out["yaxis2"] = {
        "title": {"text": top},
        "domain": [0.56, 1.0],
        "anchor": "x",
        "automargin": True,
        "gridcolor": "#e8ebf0",
        "zerolinecolor": "#b8bfcc",
    }
    return out


def line(name: str, x: Sequence[Any], y: Sequence[Any], **extra: Any) -> dict[str, Any]:
    """Return a line trace (``scatter`` in lines mode)."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": json_values(x),
        "y": json_values(y),
        **extra,
    }


def bar(name: str, x: Sequence[Any], y: Sequence[Any], **extra: Any) -> dict[str, Any]:
    """Return a bar trace."""
    return {"type": "bar", "name": name, "x": json_values(x), "y": json_values(y), **extra}


def figure(
    fig_id: str,
    title: str,
    traces: Sequence[dict[str, Any]],
    fig_layout: dict[str, Any],
    caption: str = "",
) -> Figure:
    """Bundle traces and layout as a :class:`~flowpressure.report.Figure`."""
    return Figure(id=fig_id, title=title, data=tuple(traces), layout=fig_layout, caption=caption)
