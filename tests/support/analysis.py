"""Synthetic RunResults for the analysis tests: histograms from lists of seconds.

``make_run`` builds a run whose journeys, intervals and resource samples are
exactly what a test says, so verdicts can be asserted without a server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.hotpath.native import OUTCOME_NAMES, Histogram
from engine.result import JourneyResult, ResourceSample, RunInterval, RunResult, Validity
from engine.spec.model import LoadProfile, Spec
from engine.target.sampler import Sampler
from tests.support.runs import build_run, histogram_ns, synthetic_validity


def hist(seconds: Sequence[float] | np.ndarray) -> Histogram:
    """A response-time histogram (ns) holding ``seconds``."""
    return histogram_ns(np.round(np.asarray(seconds, dtype=np.float64) * 1e9))


def spread(center_s: float, n: int, rel: float = 0.1, seed: int = 1) -> np.ndarray:
    """``n`` latencies around ``center_s`` (uniform +-rel), deterministic."""
    rng = np.random.default_rng(seed)
    return np.asarray(center_s * (1 + rel * (2 * rng.random(n) - 1)))


def outcomes(ok: int, **errors: int) -> dict[str, int]:
    """Outcome counters: ``outcomes(90, timeout=10)``."""
    unknown = set(errors) - set(OUTCOME_NAMES)
    assert not unknown, f"unknown outcome names {unknown}"
    return {"ok": ok, **errors}


@dataclass
class J:
    """One journey of a synthetic run: latencies (s), errors and Server-Timing (s)."""

    name: str
    latencies: Sequence[float] | np.ndarray
    errors: Mapping[str, int] = field(default_factory=dict)
    server_timing: Mapping[str, Sequence[float] | np.ndarray] = field(default_factory=dict)

    def result(self) -> JourneyResult:
        lat = hist(self.latencies)
        n_err = sum(self.errors.values())
        outs = outcomes(max(0, len(self.latencies) - n_err), **self.errors)
        timing = {k: hist(v) for k, v in self.server_timing.items()}
        return JourneyResult(self.name, lat, lat.copy(), outs, timing)


def interval(index: int, start_s: float,
             latencies: Sequence[Sequence[float] | np.ndarray],
             errors: Sequence[Mapping[str, int]] | None = None, duration_s: float = 1.0,
             target_rate: float | None = None) -> RunInterval:
    """One interval: per journey, latencies (s) and error counters."""
    errs = errors or [{} for _ in latencies]
    outs = []
    for lat, err in zip(latencies, errs, strict=True):
        counts = outcomes(max(0, len(lat) - sum(err.values())), **err)
        outs.append(tuple(counts.get(name, 0) for name in OUTCOME_NAMES))
    return RunInterval(index, start_s, duration_s, target_rate,
                       tuple(hist(lat).encode() for lat in latencies), tuple(outs))


def sample(t_s: float, cpu: float = 10.0, rss: int = 50 << 20, threads: int = 4,
           fds: int = 20, sys_cpu: float = 30.0, sys_mem: float = 40.0) -> ResourceSample:
    """A resource sample with defaults for everything a test does not care about."""
    return ResourceSample(t_s, cpu, rss, threads, fds, 5, 0, 0, 0, sys_cpu, sys_mem, 0, 0)


def validity(target_rate: float | None = None, achieved: float = 0.0, valid: bool = True,
             reasons: Sequence[str] = (), generator_cpu: float = 20.0,
             generator_rss_growth: int = 0) -> Validity:
    return synthetic_validity(achieved, target=target_rate, valid=valid, reasons=reasons,
                              generator_cpu=generator_cpu, rss_growth=generator_rss_growth,
                              lag_p99_s=0.001, lag_max_s=0.002, sent=0.0)


def make_run(journeys: Sequence[J], *, duration_s: float = 10.0, rate: float | None = None,
             kind: str = "baseline", intervals: Sequence[RunInterval] = (),
             resources: Sequence[ResourceSample] = (), valid: bool = True,
             reasons: Sequence[str] = (), achieved: float | None = None,
             generator_cpu: float = 20.0, generator_rss_growth: int = 0,
             profile: str = "") -> RunResult:
    """A RunResult with the given journeys; achieved rate defaults to requests / duration."""
    results = tuple(j.result() for j in journeys)
    sent = sum(r.requests for r in results)
    val = validity(rate, sent / duration_s if achieved is None else achieved, valid, reasons,
                   generator_cpu, generator_rss_growth)
    return build_run(results, val, duration_s=duration_s, kind=kind, profile=profile,
                     intervals=intervals, resources=resources)


# --- end-to-end: fixture specs against the demo service --------------------------

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "profiles"
_DROP = ("--host", "--port", "--fix")


def fixture_spec(name: str) -> Spec:
    """The spec in tests/fixtures/profiles/NAME.yaml (must load cleanly)."""
    from engine.spec.loader import load_file  # e2e-only imports stay out of the unit tests

    specs, errors = load_file(FIXTURES / f"{name}.yaml")
    assert not errors and len(specs) == 1, errors
    return specs[0]


def demo_args(spec: Spec, without: Sequence[str] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(fixes, extra demo flags but those in ``without``) of a spec whose target is the demo."""
    assert spec.target.start is not None and spec.target.demo_fix is not None
    argv = list(spec.target.start.command[3:])  # after: python -m engine.demo
    extra: list[str] = []
    while argv:
        flag = argv.pop(0)
        value = argv.pop(0) if argv and not argv[0].startswith("--") else None
        if flag not in _DROP and flag not in without:
            extra += [flag] if value is None else [flag, value]
    return tuple(spec.target.demo_fix), tuple(extra)


@contextlib.contextmanager
def spec_demo(spec: Spec, fix: Sequence[str] | None = None, without: Sequence[str] = (),
              extra: Sequence[str] = ()) -> Iterator[tuple[str, int]]:
    """Start the spec's demo on a free port (optionally with other fixes, without some
    flags such as ``--leak-kb``, or with ``extra`` flags); yield (url, pid)."""
    from tests.support.demo import demo_process

    fixes, flags = demo_args(spec, without)
    with demo_process(fixes if fix is None else fix, (*flags, *extra)) as (url, target):
        assert target.pid is not None
        yield url, target.pid


def drive(url: str, pid: int, spec: Spec, profile: LoadProfile) -> RunResult:
    """One profile run with the target's process tree sampled (as apply does)."""
    from engine.driver.run import run_profile

    sampler = Sampler(pid, t0=time.monotonic()).start()
    try:
        run = run_profile(url, spec.journeys, profile, max_duration_s=profile.duration_s + 30)
    finally:
        samples = sampler.stop()
    return dataclasses.replace(run, resources=samples)


def constant(profile: LoadProfile, rate: float, duration_s: float) -> LoadProfile:
    """A constant-rate step derived from ``profile`` (stress and capacity steps)."""
    return dataclasses.replace(profile, rate=rate, duration_s=duration_s, ramp_up_s=0.0,
                               start_rate=None, step_rate=None, base_rate=None,
                               peak_rate=None, stages=())


def slo_ok(spec: Spec) -> Callable[[RunResult], bool]:
    """A step check: every SLO of ``spec`` holds on the run (no data = broken)."""
    from engine.analysis.metrics import metric_value

    def check(run: RunResult) -> bool:
        for slo in spec.slos:
            metric = (f"p{slo.sli.percentile:g}" if slo.sli.kind == "latency"
                      else "throughput" if slo.sli.kind == "throughput" else slo.sli.kind)
            value = metric_value(run, metric, slo.sli.journey)
            if value is None or not slo.objective.holds(value):
                return False
        return True

    return check
