"""Host reports -> the one RunResult a single-host run produces, plus a row per host.

Recorder states carry times on their host's monotonic clock; each is first rebased onto
the coordinator's (its agreed start becomes the run's start), then merged exactly like a
local run's worker states (engine.driver.assemble.build_result): encoded HDR histograms
added, counters summed. Each host's own reports give its validity (its share of the rate);
the run is INVALID if any host is, or was lost, or started off the agreed instant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.driver.assemble import RunInfo, build_result
from engine.driver.runtime import WorkerReport
from engine.result import RunResult, Validity
from engine.scale.errors import ClusterUnavailable
from engine.scale.plan import Host, HostReport

MAX_SKEW_S = 0.005
"""A host whose start is known to be further than this from the agreed instant (half its
best clock round trip plus how late it started) makes the run INVALID."""


@dataclass(frozen=True)
class HostOutcome:
    """One host's end of the run: its report, or when and why it was lost."""

    host: Host
    workers: int
    report: HostReport | None = None
    lost: str = ""
    """Why nothing came back: 'lost at 12.3 s' or the host's error."""


def rebase(state: dict[str, Any], start_ns: int) -> dict[str, Any]:
    """A recorder state moved onto the clock where its start is ``start_ns``."""
    delta = start_ns - int(state["start_ns"])
    out = dict(state, start_ns=start_ns)
    out["intervals"] = [dict(iv, start_ns=int(iv["start_ns"]) + delta,
                             end_ns=int(iv["end_ns"]) + delta) for iv in state["intervals"]]
    return out


def _rebased(report: HostReport, start_ns: int) -> list[WorkerReport]:
    return [dataclasses.replace(r, state=rebase(r.state, start_ns)) for r in report.reports]


def _share(info: RunInfo, workers: int, total: int) -> RunInfo:
    return dataclasses.replace(info, shape=info.shape.scaled(workers / total), workers=workers)


def merge_hosts(info: RunInfo, outcomes: Sequence[HostOutcome], abort: str,
                extra: dict[str, Any]) -> RunResult:
    """The merged RunResult of the hosts that reported; hosts in ``extra['hosts']``."""
    total = sum(o.workers for o in outcomes)
    tol = info.profile.settings.rate_tolerance
    done = [o for o in outcomes if o.report is not None]
    rows, reasons = [], []
    reports: list[WorkerReport] = []
    for o in outcomes:
        own = _rebased(o.report, info.start_ns) if o.report is not None else []
        reports += own
        one = build_result(_share(info, o.workers, total), own, tol) if own else None
        row = host_row(o, one)
        rows.append(row)
        reasons += [f"generator {o.host.name} {r}" if r == o.lost else
                    f"generator {o.host.name}: {r}" for r in row["reasons"]]
    if not reports:
        raise ClusterUnavailable("no generator host reported: " + "; ".join(reasons))
    share = sum(o.workers for o in done)
    run = build_result(_share(info, share, total), reports, tol, abort)
    run = dataclasses.replace(run, workers=total,
                              extra={**run.extra, **extra, "hosts": rows})
    return _invalid(run, reasons) if reasons else run


def _invalid(run: RunResult, reasons: Sequence[str]) -> RunResult:
    v: Validity = run.validity
    mine = [r for r in reasons if r.split(": ", 1)[-1] not in v.reasons]
    return dataclasses.replace(run, validity=dataclasses.replace(
        v, valid=False, reasons=(*v.reasons, *mine), notes=()))


def host_row(o: HostOutcome, run: RunResult | None) -> dict[str, Any]:
    """The per-host table row (JSON-able): what it was asked, did, and whether it counts."""
    h = o.host
    late = (o.report.late_ns if o.report else 0) / 1e6
    skew = h.rtt_ns / 2e6 + late
    reasons = [o.lost] if o.lost else []
    if run is not None:
        reasons += list(run.validity.reasons)
    if o.report is not None and skew > MAX_SKEW_S * 1e3:
        reasons.append(f"started {skew:.1f} ms off the agreed instant (clock offset "
                       f"{h.offset_ns / 1e6:+.1f} ms ± {h.rtt_ns / 2e6:.1f} ms, late "
                       f"{late:.1f} ms); more than {MAX_SKEW_S * 1e3:.0f} ms")
    v = run.validity if run is not None else None
    return {
        "name": h.name, "address": h.address, "workers": o.workers,
        "clock_offset_ms": round(h.offset_ns / 1e6, 3),
        "clock_uncertainty_ms": round(h.rtt_ns / 2e6, 3), "start_late_ms": round(late, 3),
        "requests": run.requests if run else 0, "errors": run.errors if run else 0,
        "dropped": v.dropped if v else 0,
        "target_rate": v.target_rate if v else None,
        "achieved_rate": round(v.achieved_rate, 6) if v else 0.0,
        "generator_cpu_pct": round(v.generator_cpu_pct, 3) if v else 0.0,
        "valid": not reasons, "reasons": reasons,
        "histograms": {j.name: j.response.encode() for j in run.journeys} if run else {},
    }
