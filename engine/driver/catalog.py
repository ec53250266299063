"""Everything a worker needs to send a journey's steps: request bytes, expected statuses,
think times and the weighted journey mix, compiled once before the run."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from engine.driver.http import StatusMap, status_map
from engine.driver.templates import DataTable, RenderContext, RequestBuilder, mix_cycle
from engine.spec.model import Journey


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

    def request(self, journey: int, step: int) -> bytes:
        return self.builders[journey][step].build(self.ctx)

    def steps(self, journey: int) -> int:
        return len(self.builders[journey])

    def single(self) -> tuple[bytes, StatusMap, bool] | None:
        """(bytes, status map, head) when every request is the same: one journey of one
        static step that follows no redirects; None otherwise."""
        if len(self.builders) != 1 or len(self.builders[0]) != 1 or self.follows[0][0]:
            return None
        b = self.builders[0][0]
        return (b.build(self.ctx), self.expects[0][0], self.heads[0][0]) if b.static else None

    def repeatable(self) -> bytes | None:
        """The one request (see ``single``) when there is also no think time: closed-model
        users can then resend it at once."""
        one = self.single()
        return one[0] if one is not None and self.think_ns[0][0] == 0 else None

    def next_journey(self) -> int:
        """The next journey of the weighted mix (exact proportions over each cycle)."""
        k = self._k
        self._k = k + 1 if k + 1 < len(self.mix) else 0
        return self.mix[k]


def compile_catalog(journeys: Sequence[Journey], tables: dict[str, DataTable],
                    host_header: str, worker: int = 0, workers: int = 1,
                    seed: int | None = None, iteration_think_s: float = 0.0) -> Catalog:
    """Compile the spec journeys for one worker; ValueError names the bad template.

    ``iteration_think_s`` (the profile's think time, s) is added after each journey's last
    step: a closed-model user pauses that long between iterations."""
    if not journeys:
        raise ValueError("journeys: expected at least one journey to send")
    builders, expects, heads, thinks, follows = [], [], [], [], []
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
        follows.append(tuple(host_header.encode() if r.follow_redirects else None
                             for r in journey.steps))
    mix = mix_cycle([j.weight for j in journeys])
    # workers start at different points of the mix so small runs stay proportional
    offset = (len(mix) * worker) // max(workers, 1)
    ctx = RenderContext(tables, seq_start=worker, seq_step=workers,
                        rng=random.Random(seed if seed is not None else None))
    return Catalog(tuple(j.name for j in journeys), tuple(builders), tuple(expects),
                   tuple(heads), tuple(thinks), tuple(follows), mix, ctx, offset)
