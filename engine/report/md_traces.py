"""Markdown of the trace breakdown (issue #21): per journey of each traced run, where the
server time went by span, and the N+1 / sequential-call patterns found."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Doc = Mapping[str, Any]
MAX_ROWS = 6


def traces_section(spec: Doc) -> str:
    """The runs' trace breakdown tables; "" when no run was traced."""
    parts: list[str] = []
    for run in spec.get("runs", []):
        tr = run.get("traces")
        if not tr:
            continue
        parts.extend(f"Note ({run['id']}): {n}" for n in tr.get("notes", []))
        for j in tr.get("journeys", []):
            parts.append(_journey(run["id"], j))
    return "\n\n".join(parts)


def _journey(run_id: str, j: Doc) -> str:
    head = (f"Trace breakdown, {run_id} / {j['journey']} ({j['requests']} traced requests, "
            f"server p50 {j.get('server_p50_ms', 0):.1f} ms, p95 "
            f"{j.get('server_p95_ms', 0):.1f} ms):\n\n"
            "| where | kind | share | share at p95 | calls/request | p95 ms |\n"
            "|---|---|---:|---:|---:|---:|")
    rows = [f"| {c['label'].replace('|', '/')} | {c['group']} | {c['share']:.0%} | "
            f"{c['tail_share']:.0%} | {c['calls_per_request']:.1f} | {c.get('p95_ms', 0):.2f} |"
            for c in j["categories"][:MAX_ROWS]]
    found = [f"- {p['evidence']}" for p in j.get("patterns", [])]
    ex = j.get("exemplar") or {}
    if ex.get("spans"):
        where = ", ".join(f"{label} {ms:.1f} ms" for label, ms in ex["spans"])
        found.append(f"- slowest request ({ex['server_ms']:.1f} ms, trace {ex['trace_id']}): "
                     f"{where}")
    return "\n".join([head, *rows]) + ("\n\n" + "\n".join(found) if found else "")
