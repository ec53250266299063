"""The machine-speed probe beside the resource sampler (issue #14): a fixed piece of work
timed in thread CPU time at a run's start, every 2 s and at its end, without holding the
GIL a driver in the same process needs."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from engine.analysis.machine_speed import MACHINE_SPEED, PROBE_WORK, probe_ns
from engine.spec.model import Journey, LoadProfile, Request, RunSettings, Spec, Target
from engine.target.sampler import Sampler
from engine.target.session import ExecOptions, Executor, TargetSession
from engine.target.speed_probe import PROBE_ROWS, SpeedProbe
from tests.support.servers import TestServer


def test_a_probe_is_scheduled_every_period_and_summarized() -> None:
    probe = SpeedProbe(every_s=2.0)
    assert probe.summary() is None
    assert probe.maybe(100.0) and not probe.maybe(101.9) and probe.maybe(102.0)
    assert probe.count == 2
    took = probe.probe()
    summary = probe.summary()
    assert summary is not None and summary["probes"] == 3 and took > 0
    assert 0 < summary["median_ns"] <= summary["p90_ns"]
    assert summary["work"] == PROBE_WORK == f"sqlite-scan-{PROBE_ROWS}"  # the rows it scans


def test_a_probe_of_other_rows_names_the_rows_it_scanned() -> None:
    """A summary says the work it timed, so a smaller table's times are never compared with
    the default's (engine.analysis.machine_speed.probe_ns gives no figure for them)."""
    probe = SpeedProbe(rows=2_000)
    probe.probe()
    summary = probe.summary()
    assert summary is not None and summary["work"] == "sqlite-scan-2000" != PROBE_WORK


def _ran_beside(work: Callable[[], object]) -> bool:
    """Did this thread run Python while another thread was inside ``work``? With a 5 s
    switch interval neither thread forces the other off the GIL: this one gets it while
    ``work`` runs only if ``work`` lets go of it."""
    started, finished = threading.Event(), threading.Event()

    def other() -> None:
        started.set()
        work()
        finished.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    try:
        thread = threading.Thread(target=other)
        thread.start()  # waits (GIL released) until the thread runs; returns with the GIL
        started.wait(5.0)
        beside = not finished.is_set()
        thread.join()
    finally:
        sys.setswitchinterval(interval)
    return beside


def test_the_probe_leaves_the_gil_to_the_driver_while_it_scans() -> None:
    probe = SpeedProbe()
    values = np.random.default_rng(1).random(16_384).tolist()
    assert not _ran_beside(lambda: [sorted(values) for _ in range(5)])  # holding the GIL
    assert _ran_beside(lambda: [probe.probe() for _ in range(5)])  # SQLite lets go of it


class _WhereProbe(SpeedProbe):
    """Records which thread ran each probe."""

    def __init__(self, every_s: float) -> None:
        super().__init__(every_s)
        self.threads: set[int] = set()

    def probe(self) -> int:
        self.threads.add(threading.get_ident())
        return super().probe()


def test_the_sampler_thread_probes_at_its_start_while_it_runs_and_at_its_end() -> None:
    probe = _WhereProbe(every_s=0.1)
    sampler = Sampler(os.getpid(), interval_s=0.05, probe=probe).start()
    time.sleep(0.35)
    sampler.stop()
    assert probe.count >= 4  # start, >= 2 periodic, end
    # all on the sampler's own thread: never the caller's (the driver's event loop)
    assert len(probe.threads) == 1 and threading.get_ident() not in probe.threads
    assert Sampler(os.getpid()).probe is None  # only the drive session asks for one


@pytest.mark.slow
def test_a_real_run_of_a_local_target_records_its_probes(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("PERFOPT_LOOPBACK_ONLY", "1")
    journey = Journey("j", 1.0, (Request("GET", "/"),))
    profile = LoadProfile("p", "baseline", RunSettings(connections=4), duration_s=1.0, rate=50)
    with TestServer("ok") as server:
        spec = Spec("s", "c", "proactive", Target(server.url), (journey,), (), (profile,))
        executor = Executor(spec, ExecOptions(max_run_s=30))
        local = executor.run(TargetSession(spec.target, pids=(os.getpid(),)), profile)
        remote = executor.run(TargetSession(spec.target), profile)  # no local process
    speed = local.extra[MACHINE_SPEED]
    assert local.requests > 0 and local.resources
    assert speed["probes"] >= 2 and 0 < speed["median_ns"] <= speed["p90_ns"]
    assert probe_ns(local) == speed["median_ns"]
    assert remote.requests > 0 and MACHINE_SPEED not in remote.extra and probe_ns(remote) is None
