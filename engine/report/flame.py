"""Flame graphs of a run's sampled stacks (issue #21): our own SVG, no script.

Input: the report run's ``cpu_profile.stacks`` ([folded stack, samples], root first). Each
frame is a box as wide as the samples under it; the root ('all') is the bottom row and a
function's callees sit on top of it, siblings in name order, as Brendan Gregg's
flamegraph.pl draws them. Boxes narrower than ``MIN_PX`` are left out (their samples stay
in their parent's width). Each box carries a ``<title>`` (the browser's own tooltip:
function, file:line, samples, share), so the page needs no JavaScript. Pure function of
its input, byte-stable for golden files.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = ["flame_graph", "flame_graphs"]

WIDTH = 1200
ROW = 17
PAD = 10
HEAD = 28
MIN_PX = 0.6
MAX_DEPTH = 80
CHAR_PX = 6.6
FONT = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace"


@dataclass
class _Node:
    samples: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(stacks: Sequence[Sequence[Any]]) -> _Node:
    root = _Node()
    for stack, n in stacks:
        root.samples += int(n)
        node = root
        for frame in str(stack).split(";")[:MAX_DEPTH]:
            node = node.children.setdefault(frame, _Node())
            node.samples += int(n)
    return root


def _colour(frame: str) -> str:
    """A warm colour fixed by the function's name (the same function, the same colour)."""
    h = zlib.crc32(frame.encode())
    return f"rgb({205 + h % 50},{80 + (h >> 8) % 120},{40 + (h >> 16) % 45})"


def _short(frame: str) -> str:
    return frame.rpartition(" (")[0] if frame.endswith(")") and " (" in frame else frame


def _box(frame: str, n: int, total: int, x: float, y: float, w: float) -> str:
    tip = escape(f"{frame}: {n:,} samples ({n / total:.1%})")
    fits = int((w - 6) // CHAR_PX)
    name = _short(frame)
    label = name if len(name) <= fits else (name[:fits - 2] + ".." if fits >= 4 else "")
    text = (f'<text x="{x + 3:.1f}" y="{y + ROW - 5:.1f}">{escape(label)}</text>'
            if label else "")
    return (f'<g class="frame"><title>{tip}</title><rect x="{x:.1f}" y="{y:.1f}" '
            f'width="{w:.1f}" height="{ROW - 1}" rx="2" fill="{_colour(frame)}"/>{text}</g>')


def _boxes(node: _Node, total: int, x: float, depth: int, bottom: float,
           scale: float, out: list[str]) -> int:
    """Draw ``node``'s children from ``x`` at ``depth``; returns the deepest row drawn."""
    deepest = depth - 1
    for frame in sorted(node.children):
        child = node.children[frame]
        w = child.samples * scale
        if w >= MIN_PX:
            out.append(_box(frame, child.samples, total, x, bottom - depth * ROW, w))
            deepest = max(deepest, _boxes(child, total, x, depth + 1, bottom, scale, out))
        x += w
    return deepest


def _depth(node: _Node, scale: float) -> int:
    kids = [c for c in node.children.values() if c.samples * scale >= MIN_PX]
    return 1 + max((_depth(c, scale) for c in kids), default=0)


def flame_graph(stacks: Sequence[Sequence[Any]], title: str, chart_id: str) -> str:
    """One flame graph as an inline SVG; '' without samples."""
    root = _tree(stacks)
    if root.samples <= 0:
        return ""
    scale = (WIDTH - 2 * PAD) / root.samples
    rows = _depth(root, scale)
    height = HEAD + rows * ROW + PAD
    bottom = height - PAD - ROW
    out = [_box("all", root.samples, root.samples, PAD, bottom, WIDTH - 2 * PAD)]
    _boxes(root, root.samples, PAD, 1, bottom, scale, out)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="flame" data-chart="{escape(chart_id)}"'
            f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
            f'aria-label="{escape(title)}" font-family="{FONT}" font-size="11">'
            f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>'
            f'<text x="{PAD}" y="18" font-size="14" font-weight="600" '
            f'font-family="system-ui, sans-serif">{escape(title)}</text>{"".join(out)}</svg>')


def flame_graphs(spec: Mapping[str, Any]) -> list[str]:
    """A flame graph of each profiled run of the spec."""
    out = []
    for run in spec.get("runs") or []:
        prof = run.get("cpu_profile") or {}
        title = (f"Flame graph, {run['id']}: {prof.get('samples', 0):,} on-CPU samples at "
                 f"{prof.get('rate', 0)}/s ({prof.get('tool', 'py-spy')})")
        svg = flame_graph(prof.get("stacks") or [], title, f"flame-{run['id']}")
        if svg:
            out.append(svg)
    return out
