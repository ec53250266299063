"""Stateful journeys: variables, a cookie jar, extraction and checks, per instance.

A journey INSTANCE (one pass of a journey in the open model, or a closed-model virtual user
for all its iterations) carries an ``Instance``: the variables its steps extracted and a
cookie jar. ``StatefulConnection`` (the Python Connection with headers and, where a step
needs it, the body kept) settles each answer before it is recorded: checks are counted
(a failed ``fail_request`` check turns an ok answer into CHECK), variables are extracted
(a failure ends the instance, counted with its reason), Set-Cookie goes into the jar. The
cookie jar is for one origin: Path and Domain are ignored, Max-Age <= 0 and a past Expires
delete. Catalogs without multi-step journeys, extract or checks never come here.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

from engine.driver.http import (
    STATUS_SLOTS,
    Connection,
    Owner,
    Sink,
    Timings,
    connection_factory,
)
from engine.driver.steps import StepPlan, evaluate, extract_all, set_cookie
from engine.hotpath.native import CHECK, OK, STATUS_5XX, Recorder

MAX_BODY = 1 << 20
"""Body bytes kept per answer for extraction and checks (1 MiB); the rest is dropped."""
MAX_REASONS = 50
"""Distinct early-end reasons kept per journey (the rest count under 'other')."""


class Instance:
    """Variables and cookies of one journey instance (or one virtual user)."""

    __slots__ = ("ended", "jar", "vars")

    def __init__(self) -> None:
        self.vars: dict[str, str] = {}
        self.jar: dict[str, str] = {}
        self.ended = ""


class Stats:
    """A worker's per-journey status codes, check counts, early ends and step series."""

    def __init__(self, journeys: int, checks: list[int], series: list[str], start_ns: int,
                 interval_ns: int) -> None:
        self.statuses = array("q", bytes(8 * STATUS_SLOTS * journeys))
        self.checks = [[0] * (2 * n) for n in checks]
        self.ended: list[dict[str, int]] = [{} for _ in range(journeys)]
        self.steps: Any = Recorder(series, start_ns, interval_ns) if series else None

    def end(self, journey: int, reason: str) -> None:
        counts = self.ended[journey]
        if reason not in counts and len(counts) >= MAX_REASONS:
            reason = "other reasons"
        counts[reason] = counts.get(reason, 0) + 1

    def step_record(self, series: int, intended_ns: int, sent_ns: int, done_ns: int,
                    outcome: int) -> None:
        if series >= 0 and self.steps is not None:
            self.steps.record(series, intended_ns, sent_ns, done_ns, outcome)

    def report(self) -> dict[str, Any]:
        """JSON-able, for the WorkerReport (engine.driver.assemble merges them)."""
        return {"statuses": _sparse(self.statuses), "checks": self.checks,
                "ended": self.ended,
                "steps": self.steps.to_state() if self.steps is not None else None}


def _sparse(counts: array) -> list[list[int]]:  # type: ignore[type-arg]
    return [[i, int(n)] for i, n in enumerate(counts) if n]


class _Settle:
    """The connection's Sink: settles a stateful answer, then records it (journey and step)."""

    __slots__ = ("conn", "rec", "stats")

    def __init__(self, conn: StatefulConnection, rec: Sink, stats: Stats) -> None:
        self.conn, self.rec, self.stats = conn, rec, stats

    def record(self, journey: int, intended_ns: int, sent_ns: int, done_ns: int,
               outcome: int) -> None:
        conn = self.conn
        plan = conn.plan
        if plan is not None:
            outcome = conn.settle(plan, outcome)
            self.stats.step_record(plan.series, intended_ns, sent_ns, done_ns, outcome)
        self.rec.record(journey, intended_ns, sent_ns, done_ns, outcome)


class StatefulConnection(Connection):
    """A Connection that keeps what its step's extract, checks and cookies need."""

    __slots__ = ("body", "hdrs", "plan", "size", "state", "stats")
    needs_headers = True

    def __init__(self, recorder: Sink, owner: Owner, timings: Timings | None,
                 stats: Stats) -> None:
        super().__init__(_Settle(self, recorder, stats), owner, timings, stats.statuses)
        self.stats = stats
        self.plan: StepPlan | None = None
        self.state: Instance | None = None
        self.hdrs: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.size = 0

    def prepare(self, plan: StepPlan, state: Instance) -> None:
        """The next request is ``plan``'s step of instance ``state``."""
        self.plan, self.state = plan, state

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        plan = self.plan
        if plan is None:
            return
        if plan.headers:
            self.hdrs.append((name.lower(), value))
        if plan.cookies and len(name) == 10 and name.lower() == b"set-cookie":
            state = self.state
            if state is not None:
                set_cookie(state.jar, value)  # hops' cookies count too (login -> 303)

    def on_body(self, body: bytes) -> None:
        plan = self.plan
        if plan is not None and plan.body and self.size < MAX_BODY:
            self.body.append(body)
            self.size += len(body)

    def _write(self, data: bytes, intended_ns: int, sent_ns: int = 0) -> None:
        self.hdrs, self.body, self.size = [], [], 0
        super()._write(data, intended_ns, sent_ns)

    def _redirect(self, outcome: int) -> bytes | None:
        hop = super()._redirect(outcome)
        plan, state = self.plan, self.state
        if hop is None or plan is None or state is None or not plan.cookies or not state.jar:
            return hop
        cookie = "; ".join(f"{k}={v}" for k, v in state.jar.items())
        return hop[:-2] + b"Cookie: " + cookie.encode("latin-1", "replace") + b"\r\n\r\n"

    def settle(self, plan: StepPlan, outcome: int) -> int:
        """Count the checks, extract the variables; the outcome to record."""
        status = self.status if outcome <= STATUS_5XX else 0  # 0: no answer to read
        body = b"".join(self.body)[:MAX_BODY] if self.body else b""
        if plan.checks and status:
            failed = evaluate(plan, self.stats.checks[self.journey], status, self.hdrs, body)
            if failed and outcome == OK:
                outcome = CHECK
        state = self.state
        if plan.extracts and state is not None and not state.ended:
            why = extract_all(plan, state, status, self.hdrs, body, outcome)
            if why:
                state.ended = why
                self.stats.end(self.journey, why)
        return outcome


def connections_for(cat: Any, stats: Stats | None) -> Callable[..., Connection]:
    """How a pool or a virtual user makes connections for catalog ``cat``: stateful ones
    for a stateful catalog, else the fastest twin (connection_factory), counting statuses."""
    if cat.plans:
        assert stats is not None
        return lambda rec, owner, timings: StatefulConnection(rec, owner, timings, stats)
    cls = connection_factory()
    statuses = stats.statuses if stats is not None else None
    return lambda rec, owner, timings: cls(rec, owner, timings, statuses)
