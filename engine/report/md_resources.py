"""Markdown of the runs' resources (issue #21): target CPU and machine memory against the
flow's targets (the checklist's p95 figures), disk and network I/O in bytes and rates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.fmt import fmt_bytes
from engine.report.md_parts import table

__all__ = ["resources_table"]

Doc = Mapping[str, Any]


def _io(fig: Doc) -> str:
    return f"{fmt_bytes(fig['bytes'])} ({fmt_bytes(fig['per_s'])}/s)"


def _against(value: float | None, target: float, scope: str = "") -> str:
    if value is None:
        return "not measured"
    if scope and scope != "the machine":  # one core's share: an upper bound of the machine's
        verdict = "under" if value < target else "an upper bound, not judged against"
        return f"{value:.0f}% of {scope} ({verdict} {target:.0f}%)"
    return f"{value:.0f}% ({'under' if value < target else 'OVER'} {target:.0f}%)"


def _cpu(r: Doc) -> str:
    """The CPU cell: the machine's share against the target, or, when one thread was
    saturated, that share without 'under 70%' and the analysis' own sentence for the thread
    (``thread_note``, the checklist row's words): 'under' beside 'saturated' read as room
    the target did not have."""
    note = r.get("thread_note")
    if not note or r["cpu_p95_pct"] is None:
        return _against(r["cpu_p95_pct"], r["cpu_target_pct"], r.get("cpu_scope", ""))
    return f"{r['cpu_p95_pct']:.0f}% of {r.get('cpu_scope') or 'the machine'}, but its {note}"


def resources_table(runs: Sequence[Doc]) -> str:
    """One row per sampled run; "" when none was sampled."""
    rows = []
    for run in runs:
        r = run.get("resource_summary")
        if not r:
            continue
        rows.append([f"`{run['id']}`",
                     _cpu(r),
                     _against(r["memory_p95_pct"], r["memory_target_pct"]),
                     _io(r["disk_read"]), _io(r["disk_write"]), _io(r["net_sent"]),
                     _io(r["net_recv"])])
    if not rows:
        return ""
    return ("Resources (target CPU p95 as a share of the machine's cores, machine memory p95; "
            "disk: the target's process tree; network: the whole machine, loopback "
            "included):\n\n"
            + table(["Run", "CPU p95", "Memory p95", "Disk read", "Disk write", "Net sent",
                     "Net received"], rows))
