"""The report's profile and resource sections (#21) from hand-made report runs."""

from __future__ import annotations

from typing import Any

from engine.report.md_profile import profile_section
from engine.report.md_resources import resources_table


def _prof(**over: Any) -> dict[str, Any]:
    prof = {"tool": "py-spy", "rate": 100, "samples": 250, "duration_s": 5.0, "on_cpu_s": 2.5,
            "top_self": [{"function": "recommend_slow", "where": "algo.py:19",
                          "self_samples": 200, "total_samples": 200, "self_share": 0.8,
                          "total_share": 0.8}],
            "top_total": [], "stacks": [], "omitted_samples": 0, "notes": []}
    return prof | over


def _cat(group: str, share: float) -> dict[str, Any]:
    return {"group": group, "kind": group, "label": group, "share": share, "tail_share": share,
            "calls_per_request": 1.0}


def test_on_cpu_time_beside_the_spans_off_cpu_time() -> None:
    traces = {"journeys": [
        {"journey": "lookup", "requests": 10, "patterns": [],
         "categories": [_cat("database", 0.7), _cat("database", 0.1), _cat("app", 0.2)]},
        {"journey": "dash", "requests": 10, "patterns": [],
         "categories": [_cat("http", 0.9), _cat("internal", 0.05), _cat("app", 0.05)]}]}
    text = profile_section({"runs": [{"id": "baseline", "cpu_profile": _prof(),
                                      "traces": traces}]})
    assert "250 samples, 2.50 s on the CPU (50% of one core)" in text
    assert "| `recommend_slow` | algo.py:19 | 80.0% | 80.0% | 200 |" in text
    assert "| lookup | 20% | 80% | 0% | 0% |" in text
    assert "| dash | 10% | 0% | 90% | 0% |" in text
    untraced = profile_section({"runs": [{"id": "baseline", "cpu_profile": _prof()}]})
    assert "recommend_slow" in untraced and "side by side" not in untraced


def test_a_profile_without_samples_shows_its_note_only() -> None:
    note = 'profiling is on but py-spy is not on PATH (pip install "perfopt-engine[profile]")'
    text = profile_section({"runs": [{"id": "baseline", "cpu_profile": _prof(
        samples=0, on_cpu_s=0.0, top_self=[], notes=[note])}, {"id": "plain"}]})
    assert text == f"Note (baseline): {note}"
    assert profile_section({"runs": [{"id": "plain"}]}) == ""


def test_resources_row_has_the_targets_and_io_rates() -> None:
    def io(n: int, rate: float) -> dict[str, float]:
        return {"bytes": n, "per_s": rate}

    run = {"id": "baseline", "resource_summary": {
        "samples": 30, "span_s": 3.0, "cpu_p95_pct": 42.4, "cpu_target_pct": 70.0,
        "memory_p95_pct": 81.0, "memory_target_pct": 80.0, "disk_read": io(0, 0.0),
        "disk_write": io(3 * 2**20, 2**20), "net_sent": io(1536, 512.0),
        "net_recv": io(2048, 682.7), "net_scope": "machine"}}
    text = resources_table([run, {"id": "unsampled"}])
    assert ("| `baseline` | 42% (under 70%) | 81% (OVER 80%) | 0 B (0 B/s) | 3.0 MiB (1.0 MiB/s) | "
            "1.5 KiB (512 B/s) | 2.0 KiB (683 B/s) |") in text
    assert "unsampled" not in text and resources_table([{"id": "x"}]) == ""
