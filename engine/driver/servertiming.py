"""W3C Server-Timing response headers -> per-journey, per-component duration histograms.

``Server-Timing: db;dur=53.2, cache;desc="Cache read";dur=2.1, miss`` reports components in
milliseconds; a metric without ``dur`` is counted nowhere (it carries no duration). Durations
go into HDR histograms in nanoseconds, like every other latency of the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from engine.hotpath.native import Histogram

_DUR = re.compile(r"""(?:^|;)\s*dur\s*=\s*"?([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"?""")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
MAX_COMPONENTS = 64
"""Component names kept per journey: a server inventing names per request cannot grow memory."""


def parse(value: str) -> list[tuple[str, float]]:
    """(name, duration in ms) for each metric with a valid name and a ``dur`` parameter."""
    out: list[tuple[str, float]] = []
    for metric in _split(value):
        name, _, params = metric.partition(";")
        name = name.strip()
        m = _DUR.search(";" + params)
        if not name or not _TOKEN.match(name) or m is None:
            continue
        try:
            out.append((name, float(m.group(1))))
        except ValueError:
            continue
    return out


def _split(value: str) -> list[str]:
    """Split on commas outside quoted strings (a desc may contain a comma)."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


PROBE_RESPONSES = 200
"""Responses read with full headers before concluding the target sends no Server-Timing."""


class ServerTimings:
    """Collects Server-Timing durations per journey index and component name.

    Handing every header to Python costs the client ~0.25 µs more per response than the
    status alone (``python benchmarks/peer_wrk.py --parser 200000``), so a worker
    reads headers for the first PROBE_RESPONSES answers and stops (``want_headers`` False)
    if none carried Server-Timing and all were length-framed keep-alive answers; otherwise
    headers are read for the whole run (see ``observe``)."""

    def __init__(self, journeys: int, probe: int | None = None) -> None:
        self.hists: list[dict[str, Histogram]] = [{} for _ in range(journeys)]
        self._probe = PROBE_RESPONSES if probe is None else probe
        self.want_headers = self._probe > 0
        self._seen = False

    def observe(self, keep_reading: bool) -> None:
        """Count one response read with headers. ``keep_reading``: it carried Server-Timing,
        or its end could only be told from its headers (no length, or Connection: close),
        so headers stay on for the rest of the run."""
        if keep_reading:
            self._seen = True
        elif not self._seen:
            self._probe -= 1
            if self._probe <= 0:
                self.want_headers = False

    def __call__(self, journey: int, raw: bytes) -> None:
        """Record one response's header value (as received; several joined by commas)."""
        comps = self.hists[journey]
        for name, ms in parse(raw.decode("latin-1")):
            h = comps.get(name)
            if h is None:
                if len(comps) >= MAX_COMPONENTS:
                    continue
                h = comps[name] = Histogram()
            h.record(int(ms * 1e6))

    def encoded(self) -> list[dict[str, str]]:
        """Per journey, component -> encoded histogram (to move across processes)."""
        return [{k: h.encode() for k, h in comps.items()} for comps in self.hists]


def merge_encoded(parts: list[list[dict[str, str]]], journeys: int) -> list[dict[str, Histogram]]:
    """Merge the ``encoded`` output of several workers into live histograms."""
    out: list[dict[str, Histogram]] = [{} for _ in range(journeys)]
    for part in parts:
        for j, comps in enumerate(part):
            _add(out[j], comps)
    return out


def _add(into: dict[str, Histogram], comps: Mapping[str, str]) -> None:
    for name, enc in comps.items():
        h = Histogram.decode(enc)
        if name in into:
            into[name].add(h)
        else:
            into[name] = h
