"""How busy the machine was with other work while a run measured (issue #14).

A regression gate compares a current run with earlier ones on the same host. When other
processes (a neighbour's build, another job on the CI runner) took cores during the
current run but not during the baseline, a slower service and a busier machine look the
same. The resource sampler's machine-wide CPU, less the target's and the load
generator's own, says how much other work there was; the gate states it beside its
verdict instead of letting a reader blame the code (the verdict itself is unchanged:
a regression seen on a busy machine is still not a pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psutil

from engine.analysis.resources import measured_here, summarize_run
from engine.result import RunResult

__all__ = ["BUSIER_CORES", "HostLoad", "host_load", "other_cores"]

BUSIER_CORES = 0.5
"""Other work this many cores above the baseline's busiest run is worth saying."""


def other_cores(run: RunResult, cpus: int | None = None) -> float | None:
    """Cores other processes used on average during ``run`` (machine CPU less the target's
    and the generator's), on the machine that generated it (``host_cpus`` as recorded,
    else ``cpus``, else this one's). None without the generator's own CPU (a run recorded
    before it was kept), for a scale-out run (its generators ran elsewhere), for a remote
    target's samples (they describe its machine), or without two samples or a duration."""
    if "generator_cpu_s" not in run.extra or not measured_here(run):
        return None
    s = summarize_run(run)  # over the load's time, as generator_cpu_s / duration_s
    if s.samples < 2 or s.sys_cpu_pct_mean is None or run.duration_s <= 0:
        return None
    cpus = int(run.extra.get("host_cpus") or cpus or psutil.cpu_count() or 1)
    generator = float(run.extra["generator_cpu_s"]) / run.duration_s
    target = (s.cpu_pct_mean or 0.0) / 100.0
    return max(0.0, s.sys_cpu_pct_mean / 100.0 * cpus - target - generator)


@dataclass(frozen=True)
class HostLoad:
    """Other processes' cores during the current run and the baseline's busiest run."""

    current: float
    baseline: float

    @property
    def busier(self) -> bool:
        return self.current - self.baseline >= BUSIER_CORES

    @property
    def note(self) -> str:
        """The sentence for the report when the host was busier, else ''."""
        if not self.busier:
            return ""
        return (f"the host was busier: other processes used {self.current:.1f} cores during "
                f"this run, at most {self.baseline:.1f} during the baseline runs; a slowdown "
                "may be the machine, not the code (re-run on a quiet runner to tell)")

    def to_doc(self) -> dict[str, Any]:
        return {"current_other_cores": round(self.current, 3),
                "baseline_other_cores": round(self.baseline, 3), "busier": self.busier}


def host_load(current: Sequence[RunResult], baseline: Sequence[RunResult],
              cpus: int | None = None) -> HostLoad | None:
    """Other work during the current runs vs the baseline's busiest; None when either side
    was not sampled (an unmanaged target has no machine samples)."""
    now = [c for c in (other_cores(r, cpus) for r in current) if c is not None]
    before = [c for c in (other_cores(r, cpus) for r in baseline) if c is not None]
    if not now or not before:
        return None
    return HostLoad(max(now), max(before))
