"""Terminal summary (engine.report.console): what a user sees without opening a report."""

from __future__ import annotations

from engine.report.console import render_summary
from tests.support.docs import blocked_document, full_document


def _tail(n: int) -> str:
    return "".join(f"line {i}\n" for i in range(n)) + "db migration failed\n"


def test_a_target_that_failed_to_start_shows_its_last_output_lines() -> None:
    text = render_summary(blocked_document(_tail(30)))
    lines = text.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("--- target output"))
    assert lines[head - 1].startswith("! Load test failed: target failed to start")
    shown = lines[head + 1:head + 11]
    assert shown[-1] == "  | db migration failed"
    assert shown[0] == "  | line 21"  # the last 10 lines only
    assert "line 20" not in text
    assert text.rstrip().endswith("verdict: INVALID (exit 3)")


def test_a_healthy_managed_target_prints_no_output() -> None:
    assert "target output" not in render_summary(full_document())


def test_an_inconclusive_gate_says_why_under_the_gates_line() -> None:
    doc = full_document()
    spec = doc["specs"][0]
    spec["gates"][0] = {**spec["gates"][0], "status": "INCONCLUSIVE",
                        "message": "8/12 judged metrics within tolerance; 1 undecided, first p95"}
    lines = render_summary(doc).splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("gates: "))
    name = spec["gates"][0]["name"]
    assert lines[at + 1] == (f"  {name}: INCONCLUSIVE: 8/12 judged metrics within tolerance; "
                             "1 undecided, first p95")
    others = [g["name"] for g in spec["gates"][1:] if g["status"] != "INCONCLUSIVE"]
    assert not any(x.startswith(f"  {n}: ") for n in others for x in lines)
