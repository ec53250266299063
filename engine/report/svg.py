"""A small SVG line-chart renderer: axes, nice ticks, legend, log-percentile axis.

Our own rather than a plotting library: matplotlib is not installed and would be
a ~40 MB dependency for a handful of line charts; plotly/bokeh need JavaScript,
which a self-contained, no-network report cannot load. Charts here are pure
functions of their data, so golden files stay stable byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

__all__ = ["PALETTE", "Axis", "HLine", "Series", "VLine", "line_chart", "nice_ticks", "percentile_x"]

PALETTE = ("#2563eb", "#f97316", "#dc2626", "#16a34a", "#9333ea", "#0891b2", "#ca8a04")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
_MAX_NINES = 7


@dataclass(frozen=True)
class Series:
    """One line: ``points`` are (x, y) in data units; ``axis`` picks the y axis."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str | None = None
    axis: Literal["left", "right"] = "left"
    dashed: bool = False
    area: bool = False


@dataclass(frozen=True)
class Axis:
    """Axis label, scale and tick formatter. ``percentile`` is HdrHistogram's log-tail axis."""

    label: str
    fmt: Callable[[float], str] = field(default=lambda v: f"{v:g}")
    scale: Literal["linear", "percentile"] = "linear"


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (e.g. an SLO target) on the left y axis."""

    y: float
    label: str
    color: str = "#dc2626"
    series: str = ""
    """The series the reference is defined on (drawn as ``data-for``)."""


@dataclass(frozen=True)
class VLine:
    """A vertical marker at ``x`` (linear x axes only), e.g. a stress breaking point."""

    x: float
    label: str
    color: str = "#b91c1c"


def percentile_x(p: float, last: float) -> float:
    """Percentile -> x position: -log10(1 - p/100); 100 sits one step past ``last``."""
    if p >= 100.0:
        return last + 0.45
    return min(-math.log10(1.0 - p / 100.0), float(_MAX_NINES))


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k) covering [lo, hi]."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def plot_w(self) -> float:
        return float(self.width - self.left - self.right)

    @property
    def plot_h(self) -> float:
        return float(self.height - self.top - self.bottom)


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        span = self.hi - self.lo or 1.0
        return round(self.a + (v - self.lo) / span * (self.b - self.a), 2)


def _text(x: float, y: float, s: str, *, size: int = 11, anchor: str = "middle",
          color: str = "#475569", weight: str = "normal", rotate: bool = False,
          halo: bool = False) -> str:
    rot = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    # a white outline keeps a label readable where it crosses a line
    ring = ' stroke="#ffffff" stroke-width="4" paint-order="stroke"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}" font-weight="{weight}"{rot}{ring}>{escape(s)}</text>')


def _x_ticks(xs: Sequence[float], axis: Axis, last_finite: float) -> list[tuple[float, str]]:
    if axis.scale == "percentile":
        top = math.floor(last_finite + 1e-9)
        ticks = [(0.0, "0%")]
        ticks += [(float(k), axis.fmt(100.0 * (1 - 10.0 ** -k))) for k in range(1, top + 1)]
        ticks.append((last_finite + 0.45, "max"))
        return ticks
    # the axis spans the round ticks around the data, so neither end loses its tick
    return [(t, axis.fmt(t)) for t in nice_ticks(min(xs), max(xs), 6)]


# A reference line further above the data than this is named, not drawn: stretching the
# axis to a target 30x the data would flatten the data into the x axis.
_HLINE_STRETCH = 2.0


def _visible_hlines(series: Sequence[Series], hlines: Sequence[HLine]) -> list[HLine]:
    top = max((y for s in series if s.axis == "left" for _, y in s.points), default=0.0)
    return [h for h in hlines if top <= 0 or h.y <= top * _HLINE_STRETCH]


def _y_domain(series: Sequence[Series], side: str, hlines: Sequence[HLine]) -> list[float]:
    ys = [y for s in series if s.axis == side for _, y in s.points]
    ys += [h.y for h in hlines] if side == "left" else []
    return nice_ticks(0.0, max(ys, default=1.0) * 1.05 or 1.0, 5)


def _transform_x(series: Sequence[Series], axis: Axis) -> tuple[list[Series], float]:
    if axis.scale != "percentile":
        return list(series), 0.0
    finite = [p for s in series for p, _ in s.points if p < 100.0]
    last = max((percentile_x(p, 0.0) for p in finite), default=1.0)
    moved = [Series(s.name, [(percentile_x(p, last), y) for p, y in s.points], s.color, s.axis,
                    s.dashed, s.area) for s in series]
    return moved, last


def _path(points: Sequence[tuple[float, float]], sx: _Scale, sy: _Scale) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{sx(x)},{sy(y)}" for i, (x, y) in enumerate(points))


def _series_svg(s: Series, color: str, sx: _Scale, sy: _Scale, base_y: float) -> list[str]:
    pts = sorted(s.points)
    out = []
    if s.area and len(pts) > 1:
        d = _path(pts, sx, sy) + f" L{sx(pts[-1][0])},{base_y} L{sx(pts[0][0])},{base_y} Z"
        out.append(f'<path d="{d}" fill="{color}" fill-opacity="0.10" stroke="none"/>')
    dash = ' stroke-dasharray="6 4"' if s.dashed else ""
    out.append(f'<path class="series" data-series="{escape(s.name)}" d="{_path(pts, sx, sy)}" '
               f'fill="none" stroke="{color}" stroke-width="2.2" stroke-linejoin="round" '
               f'stroke-linecap="round"{dash}/>')
    if len(pts) <= 12:  # few points: mark them so a short series is still visible
        out += [f'<circle cx="{sx(x)}" cy="{sy(y)}" r="3" fill="{color}"/>' for x, y in pts]
    return out


def _legend(series: Sequence[Series], colors: Sequence[str], f: _Frame) -> list[str]:
    """One row under the title, left to right; wraps to a second row when full."""
    out, x, y = [], float(f.left), 44.0
    for s, c in zip(series, colors, strict=True):
        label = s.name + (" (right)" if s.axis == "right" else "")
        w = 30 + 6.6 * len(label)
        if x + w > f.width - f.right and x > f.left:
            x, y = float(f.left), y + 16
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 16:.1f}" y2="{y - 4:.1f}" '
                   f'stroke="{c}" stroke-width="3"{dash}/>')
        out.append(_text(x + 20, y, label, anchor="start", color="#334155"))
        x += w
    return out


def _axes(f: _Frame, sx: _Scale, xt: Sequence[tuple[float, str]], sy: _Scale,
          yt: Sequence[float], y_axis: Axis) -> list[str]:
    out = []
    x0, x1, y0, y1 = f.left, f.width - f.right, f.top, f.height - f.bottom
    for v in yt:
        y = sy(v)
        out.append(f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#e2e8f0"/>')
        out.append(_text(x0 - 6, y + 4, y_axis.fmt(v), anchor="end"))
    for v, label in xt:
        x = sx(v)
        out.append(f'<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#f1f5f9"/>')
        out.append(_text(x, y1 + 16, label))
    out.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#94a3b8"/>')
    out.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#94a3b8"/>')
    return out


def _right_axis(f: _Frame, sy: _Scale, yt: Sequence[float], axis: Axis) -> list[str]:
    x = f.width - f.right
    out = [f'<line x1="{x}" y1="{f.top}" x2="{x}" y2="{f.height - f.bottom}" stroke="#94a3b8"/>']
    out += [_text(x + 6, sy(v) + 4, axis.fmt(v), anchor="start") for v in yt]
    out.append(_text(f.width - 12, f.top + f.plot_h / 2, axis.label, rotate=True))
    return out


def _hlines(hlines: Sequence[HLine], f: _Frame, sy: _Scale, above: Sequence[HLine]) -> list[str]:
    out = []
    for i, h in enumerate(above):
        out.append(_text(f.left + 6, f.top + 12 + 14 * i, f"↑ {h.label} (off scale)",
                         anchor="start", color=h.color, halo=True))
    for h in hlines:
        y = sy(h.y)
        out.append(f'<line class="target" data-for="{escape(h.series)}" x1="{f.left}" y1="{y}" '
                   f'x2="{f.width - f.right}" y2="{y}" stroke="{h.color}" stroke-width="1.5" '
                   'stroke-dasharray="2 3"/>')
        out.append(_text(f.width - f.right - 4, y - 5, h.label, anchor="end", color=h.color,
                         halo=True))
    return out


def _legend_rows(series: Sequence[Series], width: int) -> int:
    chars = sum(len(s.name) + (13 if s.axis == "right" else 5) for s in series if s.points)
    return 0 if chars * 6.6 < width - 120 else 1


def _vlines(vlines: Sequence[VLine], f: _Frame, sx: _Scale) -> list[str]:
    out = []
    for v in vlines:
        x = sx(v.x)
        out.append(f'<line x1="{x}" y1="{f.top}" x2="{x}" y2="{f.height - f.bottom}" '
                   f'stroke="{v.color}" stroke-width="1.5" stroke-dasharray="4 3"/>')
        out.append(_text(x - 4, f.top + 12, v.label, anchor="end", color=v.color, halo=True))
    return out


def line_chart(series: Sequence[Series], *, title: str, x: Axis, y: Axis, y2: Axis | None = None,
               hlines: Sequence[HLine] = (), vlines: Sequence[VLine] = (), width: int = 640,
               height: int = 300, chart_id: str = "chart") -> str:
    """An inline ``<svg>`` line chart; y axes start at 0. Empty series -> a 'no data' panel."""
    f = _Frame(width, height, 64, 64 if y2 else 24, 64 + _legend_rows(series, width) * 16, 46)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(chart_id)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'font-family="{FONT}"><title>{escape(title)}</title>'
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
            + _text(f.left, 24, title, size=14, anchor="start", color="#0f172a", weight="600"))
    drawn = [s for s in series if s.points]
    if not drawn:
        return head + _text(width / 2, height / 2, "no data", size=13) + "</svg>"
    moved, last = _transform_x(drawn, x)
    xs = [px for s in moved for px, _ in s.points]
    xt = _x_ticks(xs, x, last)
    sx = _Scale(min(min(xs), xt[0][0]), max(max(xs), xt[-1][0]), f.left, width - f.right)
    shown = _visible_hlines(moved, hlines)
    yt = _y_domain(moved, "left", shown)
    sy = _Scale(yt[0], yt[-1], height - f.bottom, f.top)
    parts = _axes(f, sx, xt, sy, yt, y)
    parts.append(_text(f.left + f.plot_w / 2, height - 8, x.label))
    parts.append(_text(14, f.top + f.plot_h / 2, y.label, rotate=True))
    scales = {"left": sy}
    if y2 is not None:
        yt2 = _y_domain(moved, "right", ())
        scales["right"] = _Scale(yt2[0], yt2[-1], height - f.bottom, f.top)
        parts += _right_axis(f, scales["right"], yt2, y2)
    parts += _hlines(shown, f, sy, [h for h in hlines if h not in shown])
    if x.scale == "linear":
        parts += _vlines([v for v in vlines if sx.lo <= v.x <= sx.hi], f, sx)
    colors = [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(moved)]
    for s, c in zip(moved, colors, strict=True):
        parts += _series_svg(s, c, sx, scales[s.axis], float(height - f.bottom))
    parts += _legend(moved, colors, f)
    return head + "".join(parts) + "</svg>"
