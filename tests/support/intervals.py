"""A source of live interval states for the interval-merge tests: a real Recorder that
records a fixed number of OK requests per 1 s interval, and after each closed interval
gives the trimmed state a worker process (PipeHooks) or a Dask host (HostHooks) sends."""

from __future__ import annotations

from typing import Any

from engine.driver.assemble import RunInfo
from engine.driver.shapes import shape_of
from engine.hotpath.native import OK, Recorder
from engine.spec.loader import load_text
from tests.support.specs import VALID

SEC = 1_000_000_000
START = 10 * SEC


class IntervalSource:
    """One worker's or host's recorder; ``closed`` records ``per_interval`` requests in
    the next interval, closes it and returns what is sent for it."""

    def __init__(self, per_interval: int) -> None:
        self.rec = Recorder(["main"], START)
        self.per_interval = per_interval
        self.k = 0

    def closed(self) -> dict[str, Any]:
        t0 = START + self.k * SEC
        for i in range(self.per_interval):
            self.rec.record(0, t0 + i, t0 + i, t0 + i + 1_000_000, OK)
        self.k += 1
        self.rec.tick(START + self.k * SEC)
        state = self.rec.to_state()
        state["intervals"] = state["intervals"][-1:]
        return state


def run_info(workers: int) -> RunInfo:
    """The RunInfo of the valid spec's first profile, started at START."""
    specs, errors = load_text(VALID)
    assert not errors
    profile = specs[0].profiles[0]
    return RunInfo(profile, "", "http://127.0.0.1:1", shape_of(profile), workers, 0.0, START)
