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
    at_gate = next(i for i, g in enumerate(spec["gates"]) if g["kind"] == "regression")
    spec["gates"][at_gate] = {**spec["gates"][at_gate], "status": "INCONCLUSIVE",
                              "message": "8/12 judged metrics within tolerance; 1 undecided, "
                                         "first p95"}
    lines = render_summary(doc).splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("gates: "))
    name = spec["gates"][at_gate]["name"]
    assert lines[at + 1] == (f"  {name}: INCONCLUSIVE: 8/12 judged metrics within tolerance; "
                             "1 undecided, first p95")
    others = [g["name"] for g in spec["gates"] if g["status"] != "INCONCLUSIVE"]
    assert not any(x.startswith(f"  {n}: ") for n in others for x in lines)


def test_an_undecided_slo_is_said_once() -> None:
    # the SLO rows print each undecided check's reason; its gate's message repeats it
    doc = full_document()
    spec = doc["specs"][0]
    check = spec["slo_checks"][0]
    why = "too few requests for p99: 200, need at least 1000"
    spec["slo_checks"][0] = {**check, "status": "INCONCLUSIVE", "message": why}
    spec["gates"] = [{**g, "status": "INCONCLUSIVE", "message": f"{check['slo']}: {why}"}
                     if g["kind"] == "slo" else g for g in spec["gates"]]
    assert any(g["kind"] == "slo" for g in spec["gates"])
    assert render_summary(doc).count(why) == 1
