"""A static SVG of a 2-D scatter figure (markers, lines, step lines), drawn from the figure's JSON.

The dashboard puts it in the page's HTML so that a figure is on screen at the first paint, before the
browser has parsed plotly.js (seconds for its 4.5 MB); plotly's interactive figure replaces it when drawn.
It reads the same JSON plotly draws (`figure_json`), so the preview shows the same points and axis scales.
Points that fall on the same pixel are drawn once: 10,000 trials stay a small SVG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 640, 360
MARGIN = {"l": 64, "r": 16, "t": 36, "b": 44}
TICKS = 5


class NotDrawable(ValueError):
    """The figure has traces or axes this renderer does not draw (it draws 2-D scatter traces only)."""


def _axis_type(layout: Mapping[str, Any], name: str) -> str:
    kind = str((layout.get(name) or {}).get("type") or "linear")
    if kind not in ("linear", "log", "-"):
        raise NotDrawable(f"{name} of type {kind!r}")
    return "log" if kind == "log" else "linear"


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("text")
    return "" if value is None else str(value)


def _points(trace: Mapping[str, Any], log_x: bool, log_y: bool) -> list[tuple[float, float]]:
    """The trace's finite (x, y) pairs, on log10 scale where the axis is logarithmic."""
    xs, ys = trace.get("x"), trace.get("y")
    if not isinstance(xs, Sequence) or not isinstance(ys, Sequence):
        raise NotDrawable("a trace without x and y lists")
    pairs = []
    for x, y in zip(xs, ys, strict=False):
        if not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
            continue
        if (log_x and x <= 0) or (log_y and y <= 0):
            continue
        fx, fy = (math.log10(x) if log_x else float(x)), (math.log10(y) if log_y else float(y))
        if math.isfinite(fx) and math.isfinite(fy):
            pairs.append((fx, fy))
    return pairs


def _nice_step(span: float) -> float:
    raw = span / TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _ticks(low: float, high: float, log: bool) -> list[tuple[float, str]]:
    """About TICKS tick positions in [low, high] (on the drawn scale) and their labels."""
    if log:
        first, last = math.ceil(low), math.floor(high)
        stride = max(1, math.ceil((last - first + 1) / TICKS))
        return [
            (float(p), f"1e{p}" if abs(p) > 3 else f"{10.0**p:g}") for p in range(first, last + 1, stride)
        ]
    step = _nice_step(high - low)
    start = math.ceil(low / step) * step
    count = int((high - start) / step + 1e-9) + 1
    return [(start + i * step, f"{start + i * step:.6g}") for i in range(count)]


def _bounds(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    flat = high - low < 1e-12  # one value: a band around it
    pad = (abs(low) * 0.1 or 1.0) if flat else (high - low) * 0.05
    return low - pad, high + pad


def scatter_svg(
    figure: Mapping[str, Any], *, width: int = WIDTH, height: int = HEIGHT, label: str | None = None
) -> str:
    """The figure's scatter traces as an SVG document fragment (markers as circles, lines as paths).

    Raises:
        NotDrawable: a trace that is not a 2-D scatter, an axis neither linear nor log, or no point at all.
    """
    layout = figure.get("layout") or {}
    log_x, log_y = _axis_type(layout, "xaxis") == "log", _axis_type(layout, "yaxis") == "log"
    traces = []
    for trace in figure.get("data") or []:
        if trace.get("type", "scatter") not in ("scatter", "scattergl"):
            raise NotDrawable(f"a trace of type {trace.get('type')!r}")
        traces.append((trace, _points(trace, log_x, log_y)))
    every = [p for _, points in traces for p in points]
    if not every:
        raise NotDrawable("no point to draw")
    x0, x1 = _bounds([x for x, _ in every])
    y0, y1 = _bounds([y for _, y in every])
    left, top = MARGIN["l"], MARGIN["t"]
    plot_w, plot_h = width - MARGIN["l"] - MARGIN["r"], height - MARGIN["t"] - MARGIN["b"]

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * plot_h

    title = _text(layout.get("title"))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="figure-preview" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label or title or "figure")}">',
        f'<text x="{left}" y="22" class="preview-title">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="preview-plot"/>',
    ]
    for value, text in _ticks(x0, x1, log_x):
        x = px(value)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" class="preview-grid"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(text)}</text>')
    for value, text in _ticks(y0, y1, log_y):
        y = py(value)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="preview-grid"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(text)}</text>')
    x_title = _text((layout.get("xaxis") or {}).get("title"))
    y_title = _text((layout.get("yaxis") or {}).get("title"))
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(x_title)}</text>'
    )
    parts.append(
        f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_title)}</text>"
    )
    for trace, points in traces:
        parts.append(_trace_svg(trace, [(px(x), py(y)) for x, y in points]))
    parts.append("</svg>")
    return "".join(parts)


def _trace_svg(trace: Mapping[str, Any], points: list[tuple[float, float]]) -> str:
    mode = str(trace.get("mode") or "markers")
    out = []
    if "lines" in mode and points:
        color = escape(str((trace.get("line") or {}).get("color") or "currentColor"))
        step = (trace.get("line") or {}).get("shape") == "hv"
        path = [f"M{points[0][0]:.1f} {points[0][1]:.1f}"]
        for x, y in points[1:]:
            path.append(f"H{x:.1f}V{y:.1f}" if step else f"L{x:.1f} {y:.1f}")
        out.append(f'<path d="{"".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>')
    if "markers" in mode:
        color = escape(str((trace.get("marker") or {}).get("color") or "currentColor"))
        seen: set[tuple[int, int]] = set()
        dots = []
        for x, y in points:
            cell = (round(x), round(y))
            if cell not in seen:  # one dot per pixel: what the eye can tell apart
                seen.add(cell)
                dots.append(f"M{cell[0]} {cell[1]}h0")
        # every dot as a zero-length segment of one path with round caps: one element for thousands of points
        out.append(
            f'<path d="{"".join(dots)}" stroke="{color}" stroke-opacity="0.7" stroke-width="5" '
            'stroke-linecap="round" fill="none"/>'
        )
    return "".join(out)
