"""Where each journey's server time goes, from the target's OpenTelemetry spans (#21).

Spans are joined to the driver's requests by trace id (engine.traces.ids: the id names
the journey and step). Per journey, each request's root server span is split by its
descendants: database spans by ``db.system`` and statement, outgoing calls by host,
messaging, internal spans, and the handler's own time (``app``, the root's time no child
covers). Per category: total share of server time, share in the slow tail (requests at
or over the journey's p95), calls per request, and an HDR histogram of the time per
request. Two patterns are named: N+1 (>= N_PLUS_1_MIN similar database spans under one
parent) and sequential outgoing calls (>= 2 non-overlapping sibling client spans, which
could run in parallel). Computing only; engine/report/traces_text.py prints.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from engine.traces.ids import origin
from engine.traces.spans import Span

N_PLUS_1_MIN = 5
MIN_FINDING_SHARE = 0.10
_SELECT = re.compile(r"^\s*SELECT\s+.*?\s+FROM\s+", re.IGNORECASE | re.DOTALL)
_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+\b")
_SPACE = re.compile(r"\s+")


def statement(text: str) -> str:
    """A statement's shape: selected columns elided, literals as ?, one line, <= 100 chars."""
    s = _SPACE.sub(" ", _LITERAL.sub("?", _SELECT.sub("SELECT ... FROM ", text))).strip()
    return s if len(s) <= 100 else s[:97] + "..."


def category(span: Span) -> tuple[str, str, str]:
    """(group, kind, label) of a child span: database, http, messaging or internal."""
    a = span.attributes
    system = a.get("db.system") or a.get("db.system.name")
    if system:
        text = a.get("db.statement") or a.get("db.query.text") or span.name
        return "database", "database", f"{statement(text)} ({system})"
    if a.get("messaging.system"):
        return "messaging", "dependency", f"messaging {a['messaging.system']} " \
                                          f"{a.get('messaging.destination.name', '')}".strip()
    host = a.get("server.address") or a.get("peer.service") or a.get("net.peer.name")
    if span.kind in ("client", "producer") or host:
        return "http", "dependency", f"calls to {host or span.name}"
    return "internal", "cpu", f"{span.name} (internal)"


@dataclass(frozen=True)
class Category:
    """One place a journey's server time goes."""

    group: str
    """database, http, messaging, internal or app (the handler's own time)."""
    kind: str
    """The bottleneck kind it maps to: database, dependency or cpu."""
    label: str
    share: float
    """Of the journey's summed server time (overlapping calls can add up past 100%)."""
    tail_share: float
    """Of the server time of requests at or over the journey's p95."""
    calls_per_request: float
    p50_ms: float
    p95_ms: float
    """Time per request in this category (HDR histogram over the requests it occurs in)."""


@dataclass(frozen=True)
class Pattern:
    """An N+1 or a run of sequential outgoing calls found in a journey's requests."""

    kind: str
    """n_plus_1 or sequential."""
    label: str
    per_request: float
    """Queries (N+1) or calls (sequential) per request where found."""
    requests: int
    share: float
    """Of the journey's server time the pattern's spans take."""
    saving: float
    """Sequential: share of the tail's server time parallel calls would save (sum - max)."""
    evidence: str


@dataclass(frozen=True)
class JourneyTraces:
    journey: str
    requests: int
    """Traced requests (a root server span received)."""
    server_p50_ms: float
    server_p95_ms: float
    categories: tuple[Category, ...]
    patterns: tuple[Pattern, ...] = ()
    exemplar: dict[str, Any] = field(default_factory=dict)
    """The slowest traced request: {trace_id, server_ms, spans: [[label, ms], ...]}, where
    its time went, largest first (which spans made the tail slow)."""


@dataclass(frozen=True)
class TraceAnalysis:
    journeys: tuple[JourneyTraces, ...] = ()
    spans: int = 0
    unrooted: int = 0
    """Traces without a server span of the target (nothing to split)."""
    notes: tuple[str, ...] = ()
    receiver: dict[str, float] = field(default_factory=dict)

    def journey(self, name: str) -> JourneyTraces | None:
        return next((j for j in self.journeys if j.journey == name), None)

    def to_doc(self) -> dict[str, Any]:
        """The report's ``traces`` object of a run (schemas/report.v1.schema.json)."""
        from dataclasses import asdict

        return {"spans": self.spans, "unrooted": self.unrooted, "notes": list(self.notes),
                "receiver": dict(self.receiver),
                "journeys": [asdict(j) for j in self.journeys]}


@dataclass
class _Trace:
    root: Span
    children: list[Span]


def _traces(spans: Iterable[Span], windows: Sequence[tuple[int, int]]
            ) -> tuple[dict[int, list[_Trace]], int]:
    by_id: dict[bytes, list[Span]] = defaultdict(list)
    for s in spans:
        by_id[s.trace_id].append(s)
    out: dict[int, list[_Trace]] = defaultdict(list)
    unrooted = 0
    for tid, group in by_id.items():
        ids = {s.span_id for s in group}
        roots = sorted((s for s in group if s.kind == "server" and s.parent_id not in ids),
                       key=lambda s: s.start_ns)
        if not roots:
            unrooted += 1
            continue
        root = roots[0]
        if windows and not any(a <= root.start_ns < b for a, b in windows):
            continue
        out[origin(tid).journey].append(_Trace(root, [s for s in group if s is not root]))
    return out, unrooted


def _covered_ns(root: Span, children: Sequence[Span]) -> int:
    """Nanoseconds of ``root`` that some child span covers (union of intervals, clipped)."""
    iv = sorted((max(c.start_ns, root.start_ns), min(c.end_ns, root.end_ns)) for c in children)
    total, cur_a, cur_b = 0, 0, -1
    for a, b in iv:
        if b <= a:
            continue
        if a > cur_b:
            total += max(0, cur_b - cur_a)
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    return total + max(0, cur_b - cur_a)


def _per_trace(t: _Trace) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(group, kind, label) -> (ns, calls) in one request, with the handler's own time."""
    got: dict[tuple[str, str, str], tuple[int, int]] = {}
    ids = {c.span_id: c for c in t.children}
    for c in t.children:
        parent = ids.get(c.parent_id)
        if parent is not None and category(parent)[0] == category(c)[0]:
            continue  # nested in a span of its own kind: counted there
        key = category(c)
        ns, n = got.get(key, (0, 0))
        got[key] = (ns + c.duration_ns, n + 1)
    own = t.root.duration_ns - _covered_ns(t.root, t.children)
    got[("app", "cpu", "the handler's own time")] = (max(0, own), 1)
    return got


def _p95(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0


def _hist_ms(values: Sequence[int]) -> tuple[float, float]:
    from engine.hotpath.native import Histogram

    h = Histogram()
    for v in values:
        h.record(max(int(v), 1000))
    return h.value_at_percentile(50.0) / 1e6, h.value_at_percentile(95.0) / 1e6


def _categories(traces: Sequence[_Trace]) -> tuple[Category, ...]:
    total = sum(t.root.duration_ns for t in traces) or 1
    cut = _p95([t.root.duration_ns for t in traces])
    tail_total = sum(t.root.duration_ns for t in traces if t.root.duration_ns >= cut) or 1
    per: dict[tuple[str, str, str], list[tuple[int, int, bool]]] = defaultdict(list)
    for t in traces:
        for key, (ns, n) in _per_trace(t).items():
            per[key].append((ns, n, t.root.duration_ns >= cut))
    out = []
    for (group, kind, label), rows in per.items():
        p50, p95 = _hist_ms([ns for ns, _, _ in rows])
        out.append(Category(group, kind, label, sum(r[0] for r in rows) / total,
                            sum(r[0] for r in rows if r[2]) / tail_total,
                            sum(r[1] for r in rows) / len(traces), p50, p95))
    return tuple(sorted(out, key=lambda c: -c.share))


def _n_plus_1(journey: str, traces: Sequence[_Trace]) -> list[Pattern]:
    found: dict[str, list[int]] = defaultdict(list)
    ns: dict[str, int] = defaultdict(int)
    for t in traces:
        groups: dict[tuple[bytes, str], int] = defaultdict(int)
        for c in t.children:
            group, _, label = category(c)
            if group == "database":
                groups[(c.parent_id, label)] += 1
                ns[label] += c.duration_ns
        for (_, label), n in groups.items():
            if n >= N_PLUS_1_MIN:
                found[label].append(n)
    total = sum(t.root.duration_ns for t in traces) or 1
    out = []
    for label, counts in found.items():
        per = sum(counts) / len(counts)
        out.append(Pattern("n_plus_1", label, per, len(counts), ns[label] / total, 0.0,
                           f"{journey}: N+1 - {label} runs {per:.0f} times per request under "
                           f"one parent ({len(counts)} of {len(traces)} traced requests); "
                           "one joined query would replace them"))
    return out


def _sequential_runs(t: _Trace) -> list[list[Span]]:
    sibs: dict[bytes, list[Span]] = defaultdict(list)
    for c in t.children:
        if category(c)[0] in ("http", "messaging"):
            sibs[c.parent_id].append(c)
    runs = []
    for group in sibs.values():
        group.sort(key=lambda s: s.start_ns)
        if len(group) >= 2 and all(b.start_ns >= a.end_ns for a, b in pairwise(group)):
            runs.append(group)
    return runs


def _sequential(journey: str, traces: Sequence[_Trace]) -> list[Pattern]:
    counts: list[int] = []
    shares: list[float] = []
    savings: list[float] = []
    hosts: set[str] = set()
    cut = _p95([t.root.duration_ns for t in traces])
    for t in traces:
        for run in _sequential_runs(t):
            calls = [c.duration_ns for c in run]
            counts.append(len(run))
            shares.append(sum(calls) / max(t.root.duration_ns, 1))
            if t.root.duration_ns >= cut:
                savings.append((sum(calls) - max(calls)) / max(t.root.duration_ns, 1))
            hosts.update(category(c)[2].removeprefix("calls to ") for c in run)
    if not counts:
        return []
    per, share = sum(counts) / len(counts), sum(shares) / len(shares)
    saving = sum(savings) / len(savings) if savings else 0.0
    return [Pattern("sequential", f"sequential calls to {', '.join(sorted(hosts))}", per,
                    len(counts), share, saving,
                    f"{journey}: {per:.0f} sequential outgoing calls ({', '.join(sorted(hosts))}), "
                    f"{share:.0%} of its server time; in parallel, p95 would be about "
                    f"{saving:.0%} shorter")]


def _exemplar(traces: Sequence[_Trace]) -> dict[str, Any]:
    slow = max(traces, key=lambda t: t.root.duration_ns)
    parts = sorted(((label, ns / 1e6) for (_, _, label), (ns, _) in _per_trace(slow).items()),
                   key=lambda p: -p[1])
    return {"trace_id": slow.root.trace_id.hex(), "server_ms": slow.root.duration_ns / 1e6,
            "spans": [[label, round(ms, 3)] for label, ms in parts[:5]]}


def _journey(name: str, traces: Sequence[_Trace]) -> JourneyTraces:
    p50, p95 = _hist_ms([t.root.duration_ns for t in traces])
    return JourneyTraces(name, len(traces), p50, p95, _categories(traces),
                         tuple(_n_plus_1(name, traces) + _sequential(name, traces)),
                         _exemplar(traces))


def analyse_traces(spans: Sequence[Span], journeys: Sequence[str],
                   windows: Sequence[tuple[int, int]] = (),
                   receiver: dict[str, float] | None = None) -> TraceAnalysis:
    """Per journey, the breakdown of the traced requests whose root span started in one of
    ``windows`` (unix ns; all when empty). Journeys without traces are left out."""
    by_journey, unrooted = _traces(spans, windows)
    out = [_journey(journeys[j], ts) for j, ts in sorted(by_journey.items())
           if 0 <= j < len(journeys) and ts]
    notes = [] if out else ["no spans from the target: it is not instrumented with "
                            "OpenTelemetry or does not export to the engine (OTLP/HTTP); "
                            "the breakdown below comes from Server-Timing and resources"]
    return TraceAnalysis(tuple(out), len(spans), unrooted, tuple(notes), dict(receiver or {}))


def window_ns(started_at: float, duration_s: float) -> tuple[int, int]:
    """A run's window for its requests' root spans, unix ns (0.5 s after for the drain)."""
    return int(started_at * 1e9), int((started_at + duration_s + 0.5) * 1e9)


def runs_traces(capture: Any, runs: Sequence[tuple[str, Any]]) -> dict[str, TraceAnalysis]:
    """Run id -> its trace analysis, for ``(id, RunResult)`` pairs of a traced drive
    (``capture``: engine.traces.session.TraceCapture)."""
    return {rid: analyse_traces(capture.spans, capture.journeys,
                                [window_ns(run.started_at, run.duration_s)], capture.stats)
            for rid, run in runs}


Finding = tuple[str, str, float, tuple[str, ...], str | None]


def _calls(n: float) -> str:
    return f"{n:.0f} call per request" if round(n) == 1 else f"{n:.0f} calls per request"


def _category_finding(j: JourneyTraces, c: Category) -> Finding:
    ev = (f"{j.journey} p95: {c.tail_share:.0%} in {c.label}, {_calls(c.calls_per_request)} "
          f"({j.requests} traced requests; OpenTelemetry spans)",)
    fix = {"database": "database", "dependency": "async"}.get(c.kind, "algorithm")
    return f"{c.label} in {j.journey}", c.kind, c.share, ev, fix


def _pattern_findings(j: JourneyTraces) -> tuple[list[Finding], set[str]]:
    """One candidate for the N+1 statements (fix database), one for sequential calls (fix
    async); the category labels they cover."""
    out: list[Finding] = []
    covered: set[str] = set()
    n1 = [p for p in j.patterns if p.kind == "n_plus_1"]
    share = sum(p.share for p in n1)
    if n1 and share >= MIN_FINDING_SHARE:
        counts = ", ".join(f"{p.per_request:.0f}x {p.label}" for p in n1)
        out.append((f"N+1 queries in {j.journey}", "database", share,
                    (f"{j.journey}: {share:.0%} of its server time in N+1 queries per "
                     f"request: {counts}", *(p.evidence for p in n1)), "database"))
        covered.update(p.label for p in n1)
    seq = next((p for p in j.patterns if p.kind == "sequential"), None)
    if seq is not None and seq.share >= MIN_FINDING_SHARE:
        out.append((f"{seq.label} in {j.journey}", "dependency", seq.share, (seq.evidence,),
                    "async"))
        covered.update(c.label for c in j.categories if c.group == "http")
    return out, covered


def trace_findings(analysis: TraceAnalysis | None, journey: str) -> list[Finding]:
    """The bottleneck candidates of ``journey`` from its spans: (name, kind, share of its
    server time, evidence, suggested fix). Empty when the journey has no traces. N+1
    statements are one candidate, sequential calls another; then each category >= 10%."""
    j = analysis.journey(journey) if analysis else None
    if j is None:
        return []
    out, covered = _pattern_findings(j)
    out += [_category_finding(j, c) for c in j.categories
            if c.share >= MIN_FINDING_SHARE and c.label not in covered]
    return out
