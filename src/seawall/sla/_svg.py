"""A small inline-SVG line chart: no charting library, no external assets.

Every point carries a ``<title>`` so hovering shows its value; a missing
value (``None``) breaks the line rather than drawing it to zero.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Line", "line_chart"]

_LEFT, _RIGHT, _TOP, _BOTTOM = 72, 16, 28, 40


@dataclass(frozen=True, slots=True)
class Line:
    """One series of a chart."""

    name: str
    values: Sequence[float | None]
    css: str  #: a class name the page's stylesheet colours


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    lines: Sequence[Line],
    y_min: float,
    y_max: float,
    y_format: Callable[[float], str],
    reference: tuple[float, str] | None = None,
    width: int = 720,
    height: int = 260,
) -> str:
    """An ``<svg>`` element plotting ``lines`` against ``labels`` (one per x position)."""
    if y_max <= y_min:
        y_max = y_min + 1.0
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    n = len(labels)

    def x(i: int) -> float:
        return _LEFT + (plot_w / 2 if n <= 1 else i * plot_w / (n - 1))

    def y(v: float) -> float:
        v = min(max(v, y_min), y_max)
        return _TOP + (y_max - v) / (y_max - y_min) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{_e(title)}</title>",
        f'<text class="chart-title" x="{_LEFT}" y="16">{_e(title)}</text>',
    ]
    for k in range(5):
        value = y_min + (y_max - y_min) * k / 4
        out.append(
            f'<line class="grid" x1="{_LEFT}" x2="{width - _RIGHT}" '
            f'y1="{y(value):.2f}" y2="{y(value):.2f}" />'
        )
        out.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{y(value) + 4:.2f}" '
            f'text-anchor="end">{_e(y_format(value))}</text>'
        )
    step = max(1, math.ceil(n / 10))
    for i in range(0, n, step):
        label = labels[i][5:] if len(labels[i]) == 10 else labels[i]  # 2026-11-30 -> 11-30
        out.append(
            f'<text class="tick" x="{x(i):.2f}" y="{height - _BOTTOM + 16}" '
            f'text-anchor="middle">{_e(label)}</text>'
        )
    out.append(
        f'<line class="axis" x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{height - _BOTTOM}" />'
    )
    out.append(
        f'<line class="axis" x1="{_LEFT}" x2="{width - _RIGHT}" '
        f'y1="{height - _BOTTOM}" y2="{height - _BOTTOM}" />'
    )
    if reference is not None:
        value, name = reference
        out.append(
            f'<line class="reference" x1="{_LEFT}" x2="{width - _RIGHT}" '
            f'y1="{y(value):.2f}" y2="{y(value):.2f}"><title>{_e(name)}</title></line>'
        )
    for j, line in enumerate(lines):
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(line.values):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.2f},{y(v):.2f}")
        if segment:
            segments.append(segment)
        out += [
            f'<polyline class="series {_e(line.css)}" fill="none" points="{" ".join(s)}" />'
            for s in segments
        ]
        for i, v in enumerate(line.values):
            if v is not None:
                out.append(
                    f'<circle class="point {_e(line.css)}" cx="{x(i):.2f}" cy="{y(v):.2f}" r="2.5">'
                    f"<title>{_e(line.name)} {_e(labels[i])}: {_e(y_format(v))}</title></circle>"
                )
        lx = width - _RIGHT - 90 * (len(lines) - j)
        out.append(f'<rect class="swatch {_e(line.css)}" x="{lx}" y="8" width="10" height="10" />')
        out.append(f'<text class="legend" x="{lx + 14}" y="17">{_e(line.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)
