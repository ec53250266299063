"""Markdown of the CPU profile (issue #21): per profiled run, its on-CPU time, the top
functions by self and total samples, and on-CPU time beside the off-CPU/IO time the trace
breakdown found (when the run was traced too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.fmt import fmt_pct
from engine.report.md_parts import table

__all__ = ["profile_section"]

Doc = Mapping[str, Any]
TOP_ROWS = 8
OFF_CPU = ("database", "http", "messaging")


def profile_section(spec: Doc) -> str:
    """The runs' profile summaries and tables; "" when no run was profiled."""
    parts: list[str] = []
    for run in spec.get("runs") or []:
        prof = run.get("cpu_profile")
        if prof is None:
            continue
        parts += [f"Note ({run['id']}): {n}" for n in prof.get("notes") or ()]
        if prof.get("samples"):
            parts.append(_summary(run["id"], prof))
            parts.append(_functions(prof["top_self"]))
            side = _side_by_side(prof, run.get("traces"))
            parts += [side] if side else []
    return "\n\n".join(parts)


def _summary(run_id: str, prof: Doc) -> str:
    dur = float(prof.get("duration_s") or 0.0)
    core = f" ({prof['on_cpu_s'] / dur:.0%} of one core)" if dur > 0 else ""
    omitted = (f"; {prof['omitted_samples']:,} samples in smaller stacks are left out of the "
               "flame graph" if prof.get("omitted_samples") else "")
    return (f"**CPU profile** (run `{run_id}`, {prof['tool']} at {prof['rate']}/s over "
            f"{dur:.1f} s): {prof['samples']:,} samples, {prof['on_cpu_s']:.2f} s on the CPU"
            f"{core}{omitted}. Top functions by self time (total: with what they call):")


def _functions(rows: Sequence[Doc]) -> str:
    return table(["Function", "Where", "Self", "Total", "Self samples"],
                 [[f"`{r['function']}`", r["where"], fmt_pct(r["self_share"], 1),
                   fmt_pct(r["total_share"], 1), f"{r['self_samples']:,}"]
                  for r in rows[:TOP_ROWS]])


def _side_by_side(prof: Doc, traces: Doc | None) -> str:
    """Per traced journey: the handler's own time (on-CPU side) beside its database,
    outgoing HTTP and messaging time (off-CPU/IO), as shares of server time."""
    journeys = (traces or {}).get("journeys") or []
    if not journeys:
        return ""
    rows = []
    for j in journeys:
        by: dict[str, float] = {}
        for c in j["categories"]:
            by[c["group"]] = by.get(c["group"], 0.0) + float(c["share"])
        rows.append([j["journey"], fmt_pct(by.get("app", 0.0) + by.get("internal", 0.0), 0),
                     *(fmt_pct(by.get(g, 0.0), 0) for g in OFF_CPU)])
    return (f"On-CPU and off-CPU time side by side: the profile saw {prof['on_cpu_s']:.2f} s on "
            "the CPU; the spans split each journey's server time into the handler's own "
            "(on-CPU) time and waiting on I/O:\n\n"
            + table(["Journey", "On-CPU: handler", "Off-CPU: database", "Off-CPU: HTTP calls",
                     "Off-CPU: messaging"], rows))
