"""Whether this machine itself ran slower during the current run than during the baseline
runs (issue #14).

On a shared VM the same code sometimes runs ~1.7x slower for seconds at a time, with no
busier neighbour process to show for it (engine.analysis.host_load sees none) and flat
steal time: an A-vs-A regression gate then FAILs and the reader blames the code. The
resource sampler's thread times a fixed piece of work in its own thread CPU time during
every run (engine.target.speed_probe, ``RunResult.extra['machine_speed']``); this module
compares the current run's median probe time with the baseline runs' and says so beside
the verdict when the machine was clearly slower. The figure never changes a verdict by
itself: apply measures a primary run once more when the gate would not pass it on a
slower machine (engine.history.record.remeasure) and judges the second run, whatever it
shows, so a real regression measured on a slow machine is still not a pass.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.analysis.resources import measured_here
from engine.result import RunResult

__all__ = ["MACHINE_SPEED", "MEASURED_AGAIN", "PROBE_ROWS", "PROBE_WORK", "SLOWER_BY",
           "MachineSpeed", "machine_speed", "measured_again", "probe_ns", "probe_work"]

MACHINE_SPEED = "machine_speed"
"""The ``RunResult.extra`` key of a run's probe summary, {median_ns, p90_ns, probes, work}
(engine.target.session stores it; the history keeps it)."""
MEASURED_AGAIN = "measured_again"
"""The ``RunResult.extra`` key of a run that measured its profile a second time because the
first met a slower machine (engine.drive._judged_run): why, in words. The history keeps it,
so ``compare`` judges the stored run as apply did (engine.analysis.regression.judge_regression:
a second FAIL on a machine still slower is INVALID)."""
PROBE_ROWS = 20_000
"""Rows engine.target.speed_probe scans per probe by default: ~0.7 ms of one core on the dev VM."""


def probe_work(rows: int) -> str:
    """The name a probe of ``rows`` rows writes in its summary (``work``)."""
    return f"sqlite-scan-{rows}"


PROBE_WORK = probe_work(PROBE_ROWS)
"""The work whose times are compared; runs that timed other work (another row count, or the
numpy sort of the first version) give no figure."""
SLOWER_BY = 0.20
"""A current median probe time this much above the baseline runs' median is worth saying:
above the spread of whole-run medians on a quiet machine (docs/STATISTICS.md), well under
the ~1.7x episodes that made A-vs-A gates fail."""


def probe_ns(run: RunResult) -> float | None:
    """The median thread CPU time (ns) of the machine-speed probes during ``run``; None for
    a run without probes (recorded before the probe existed, or a target that is not a local
    process), for probes of other work than ``PROBE_WORK``, and, by host_load's rule
    (``measured_here``), for a scale-out run or a remote target's samples."""
    doc = run.extra.get(MACHINE_SPEED)
    if not isinstance(doc, Mapping) or doc.get("work") != PROBE_WORK or not measured_here(run):
        return None
    median, probes = doc.get("median_ns"), doc.get("probes")
    if not isinstance(median, int | float) or not isinstance(probes, int) or probes < 1:
        return None
    return float(median) if median > 0 else None


@dataclass(frozen=True)
class MachineSpeed:
    """Median probe times (ns): the current runs' and the baseline runs'."""

    current_ns: float
    baseline_ns: float

    @property
    def slowdown(self) -> float:
        """How much longer the probe took now, as a fraction (+0.41 = 41% slower)."""
        return self.current_ns / self.baseline_ns - 1.0

    @property
    def slower(self) -> bool:
        return self.current_ns >= self.baseline_ns * (1.0 + SLOWER_BY)  # no 0.19999 at 20%

    @property
    def note(self) -> str:
        """The sentence for the report when the machine was slower, else ''."""
        if not self.slower:
            return ""
        return (f"the machine was slower: it ran a fixed CPU probe {self.slowdown:.0%} slower "
                f"during this run than during the baseline runs ({_ms(self.current_ns)} vs "
                f"{_ms(self.baseline_ns)} median); a slowdown here may be the machine's, not "
                "the code's (re-run to tell)")

    def to_doc(self) -> dict[str, Any]:
        return {"current_probe_ns": round(self.current_ns), "baseline_probe_ns":
                round(self.baseline_ns), "slowdown": round(self.slowdown, 4),
                "slower": self.slower}


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.2f} ms"


def machine_speed(current: Sequence[RunResult],
                  baseline: Sequence[RunResult]) -> MachineSpeed | None:
    """The current runs' median probe time vs the baseline runs' (each side: the median of
    its runs' medians); None when either side has no probes. A baseline run recorded on
    another host (``extra['host']``, when the current run's is known) is left out: another
    machine's speed says nothing about this one's."""
    host = next((r.extra["host"] for r in current if r.extra.get("host")), None)
    now = [t for t in map(probe_ns, current) if t is not None]
    before = [t for t in (probe_ns(r) for r in baseline
                          if host is None or r.extra.get("host") in (None, host))
              if t is not None]
    if not now or not before:
        return None
    return MachineSpeed(statistics.median(now), statistics.median(before))


def measured_again(current: Sequence[RunResult]) -> str:
    """Why the current run is a second measurement (``MEASURED_AGAIN``), or ''."""
    return next((str(r.extra[MEASURED_AGAIN]) for r in current if r.extra.get(MEASURED_AGAIN)),
                "")
