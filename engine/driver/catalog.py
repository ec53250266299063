"""Everything a worker needs to send a journey's steps: request bytes, expected statuses,
think times, redirect limits, step plans (extract, checks, cookies) and the weighted
journey mix, compiled once before the run.

A catalog is STATEFUL when a journey has several steps, extract or checks: its connections
are then engine.driver.stateful's (per-step results, variables, cookies); otherwise the
fastest connection (the native twin) sends every request."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.driver.http import StatusMap, status_map
from engine.driver.steps import StepPlan, compile_plan, cookie_line, step_name
from engine.driver.templates import DataTable, RenderContext, RequestBuilder, mix_cycle
from engine.hotpath.traceparent import RequestSource
from engine.spec.model import Journey, Request, ThinkTime


@dataclass
class Catalog:
    """Compiled journeys, indexed [journey][step]; ``ctx`` carries {seq}/{rand}/csv state."""

    names: tuple[str, ...]
    builders: tuple[tuple[RequestBuilder, ...], ...]
    expects: tuple[tuple[StatusMap, ...], ...]
    heads: tuple[tuple[bool, ...], ...]
    think_ns: tuple[tuple[int, ...], ...]
    follows: tuple[tuple[bytes | None, ...], ...]
    """Host header to follow redirects with, per step (None: do not follow)."""
    mix: tuple[int, ...]
    ctx: RenderContext
    _k: int = 0
    hops: tuple[tuple[int, ...], ...] = ()
    """Redirect hops to follow per step (0 with follows None)."""
    plans: tuple[tuple[StepPlan, ...], ...] = ()
    """Step plans when the catalog is stateful, else empty."""
    dists: tuple[tuple[ThinkTime | None, ...], ...] = ()
    """Think-time distributions per step (None: the fixed think_ns)."""
    series: tuple[str, ...] = ()
    """Names of the per-step series ("journey\tstep index") of multi-step journeys."""
    check_counts: tuple[int, ...] = field(default=())
    iteration: ThinkTime | None = None
    """The profile's think time as a distribution, drawn after each journey's last step."""

    @property
    def stateful(self) -> bool:
        return bool(self.plans)

    def request_for(self, journey: int, step: int, state: Any) -> bytes:
        """The step's bytes for a journey instance: its variables and cookies."""
        ctx = self.ctx
        ctx.vars = state.vars
        plan = self.plans[journey][step]
        return self.builders[journey][step].build(ctx, cookie_line(state.jar)
                                                  if plan.cookies else "")

    def think(self, journey: int, step: int) -> int:
        """The pause after a step, ns: fixed, or drawn from its (and after the last step,
        the profile's) distribution; think_ns holds the means."""
        pause = self.think_ns[journey][step]
        dist = self.dists[journey][step] if self.dists else None
        if dist is not None:
            pause += int((sample_think(dist, self.ctx.rng) - dist.mean_s) * 1e9)
        it = self.iteration
        if it is not None and step + 1 == len(self.builders[journey]):
            pause += int((sample_think(it, self.ctx.rng) - it.mean_s) * 1e9)
        return max(0, pause)

    def request(self, journey: int, step: int) -> bytes:
        return self.builders[journey][step].build(self.ctx)

    def steps(self, journey: int) -> int:
        return len(self.builders[journey])

    def single(self) -> tuple[bytes | RequestSource, StatusMap, bool, bytes | None, int] | None:
        """(request, status map, head, follow, max hops) when every request is the same: one
        journey of one step, not stateful, static or traced; None otherwise. The request is
        its bytes, or for a traced step its TraceTemplate bound to this catalog's context
        (``next_request()`` writes the next one, numbered as ``request`` numbers them)."""
        if len(self.builders) != 1 or len(self.builders[0]) != 1 or self.stateful:
            return None
        b = self.builders[0][0]
        data: bytes | RequestSource
        if b.static:
            data = b.build(self.ctx)
        elif b.trace is not None:
            b.trace.ctx = self.ctx
            data = b.trace
        else:
            return None
        return data, self.expects[0][0], self.heads[0][0], self.follows[0][0], self.hops[0][0]

    def repeatable(self) -> bytes | RequestSource | None:
        """The one request (see ``single``) when there is also no think time: closed-model
        users can then resend it at once."""
        one = self.single()
        if one is None or self.think_ns[0][0] != 0 or self.dists or self.iteration:
            return None
        return one[0]

    def next_journey(self) -> int:
        """The next journey of the weighted mix (exact proportions over each cycle)."""
        k = self._k
        self._k = k + 1 if k + 1 < len(self.mix) else 0
        return self.mix[k]


def compile_catalog(journeys: Sequence[Journey], tables: dict[str, DataTable],
                    host_header: str, worker: int = 0, workers: int = 1,
                    seed: int | None = None, iteration_think_s: float = 0.0,
                    iteration: ThinkTime | None = None) -> Catalog:
    """Compile the spec journeys for one worker; ValueError names the bad template.

    ``iteration_think_s`` (the profile's think time, s) is added after each journey's last
    step: a closed-model user pauses that long between iterations."""
    if not journeys:
        raise ValueError("journeys: expected at least one journey to send")
    builders, expects, heads, thinks, follows, hops = [], [], [], [], [], []
    for journey in journeys:
        if not journey.steps:
            raise ValueError(f"journey {journey.name!r}: expected at least one request")
        bs = tuple(RequestBuilder(r, host_header, tables, f"journey {journey.name!r} step {i}")
                   for i, r in enumerate(journey.steps))
        builders.append(bs)
        expects.append(tuple(status_map(r.expect_status) for r in journey.steps))
        heads.append(tuple(b.is_head for b in bs))
        think = [r.think_time_s for r in journey.steps]
        think[-1] += iteration_think_s
        thinks.append(tuple(int(t * 1e9) for t in think))
        limits = tuple(_hops(journey, r) for r in journey.steps)
        hops.append(limits)
        follows.append(tuple(host_header.encode() if n > 0 else None for n in limits))
    mix = mix_cycle([j.weight for j in journeys])
    # workers start at different points of the mix so small runs stay proportional
    offset = (len(mix) * worker) // max(workers, 1)
    ctx = RenderContext(tables, seq_start=worker, seq_step=workers,
                        rng=random.Random(seed if seed is not None else None))
    plans, series, checks = _plans(journeys)
    dists = tuple(tuple(r.think if r.think and r.think.kind != "fixed" else None
                        for r in j.steps) for j in journeys)
    return Catalog(tuple(j.name for j in journeys), tuple(builders), tuple(expects),
                   tuple(heads), tuple(thinks), tuple(follows), mix, ctx, offset,
                   tuple(hops), plans, dists if any(any(d) for d in dists) else (),
                   series, checks, iteration)


def _hops(journey: Journey, r: Request) -> int:
    return max(0, r.redirects if r.redirects is not None else journey.redirects)


def is_stateful(journeys: Sequence[Journey]) -> bool:
    """A journey with several steps, extract or checks needs the stateful connections."""
    return any(len(j.steps) > 1 or any(r.extract or r.checks for r in j.steps)
               for j in journeys)


def series_name(journey: str, step: int) -> str:
    """The per-step series of a multi-step journey's step (its recorder 'journey' name)."""
    return f"{journey}\t{step}"


def _plans(journeys: Sequence[Journey]) -> tuple[tuple[tuple[StepPlan, ...], ...],
                                                  tuple[str, ...], tuple[int, ...]]:
    """Step plans (empty when no journey is stateful), series names, checks per journey."""
    checks = tuple(sum(len(r.checks) for r in j.steps) for j in journeys)
    if not is_stateful(journeys):
        return (), (), checks
    plans: list[tuple[StepPlan, ...]] = []
    series: list[str] = []
    for j in journeys:
        row, base = [], 0
        for k, r in enumerate(j.steps):
            index = -1
            if len(j.steps) > 1:
                index = len(series)
                series.append(series_name(j.name, k))
            row.append(compile_plan(r, index, j.cookies, base))
            base += len(r.checks)
        plans.append(tuple(row))
    return tuple(plans), tuple(series), checks


def step_names(journey: Journey) -> tuple[str, ...]:
    return tuple(step_name(r) for r in journey.steps)


def sample_think(d: ThinkTime, rng: random.Random) -> float:
    """One pause drawn from ``d``, seconds."""
    if d.kind == "uniform":
        return rng.uniform(d.low_s, d.high_s)
    if d.kind == "exponential":
        return rng.expovariate(1.0 / d.low_s)
    return d.low_s
