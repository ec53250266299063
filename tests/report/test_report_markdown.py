"""Markdown report: the flow's template, verbatim messages, no invented numbers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.report import markdown, summary
from engine.report.markdown import SECTION_TITLES
from tests.support.docs import blocked_document, full_document, minimal_document
from tests.support.golden import check_golden


@pytest.fixture(scope="module")
def full() -> dict[str, Any]:
    return full_document()


@pytest.fixture(scope="module")
def full_md(full: dict[str, Any]) -> str:
    return markdown.render(full)


def test_golden_full(full_md: str) -> None:
    check_golden("full.md", full_md)


def test_golden_minimal() -> None:
    check_golden("minimal.md", markdown.render(minimal_document()))


def test_title_and_header(full_md: str) -> None:
    assert full_md.startswith("# Performance Optimization Report - users-api\n")
    for line in ("**Project**: shop", "**Component**: users-api", "**Date**: 2026-11-27",
                 "**Trigger**: user-complaint", "**Status**: COMPLETE"):
        assert line in full_md


def test_sections_in_template_order(full_md: str) -> None:
    found = re.findall(r"^## (.+)$", full_md, flags=re.M)
    assert found == list(SECTION_TITLES)
    kinds = re.findall(r"^### (Baseline|Stress|Soak|Spike|Capacity)$", full_md, flags=re.M)
    assert kinds == ["Baseline", "Stress", "Soak", "Spike", "Capacity"]


def test_flow_messages_appear_verbatim(full: dict[str, Any], full_md: str) -> None:
    messages = full["specs"][0]["messages"]
    prefixes = ("SLO breached: ", "Load test failed: ", "Performance regression detected: ",
                "Optimization did not improve ")
    assert all(any(m.startswith(p) for m in messages) for p in prefixes)
    for m in messages:
        assert f"- {m}\n" in full_md


def test_slo_compliance_is_pass_fail_value_vs_target(full_md: str) -> None:
    row = next(line for line in full_md.splitlines() if line.startswith("| lookup-p95 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    before, after = cells[3], cells[4]
    assert re.fullmatch(r"FAIL \(\d+(\.\d+)?ms vs < 25ms\), hypothesis H1 baseline", before)
    assert re.fullmatch(r"(PASS|FAIL) \(\d+(\.\d+)?ms vs < 25ms\)", after)
    assert "| availability | error_rate | < 0.1% | — (not measured) | PASS (" in full_md


def test_minimal_sections_say_no_data_in_one_line() -> None:
    md = markdown.render(minimal_document())
    bodies = dict(re.findall(r"^## (.+?)\n\n(.*?)(?=\n## |\Z)", md, flags=re.M | re.S))
    for name in ("SLO Targets and Compliance", "Optimizations Implemented",
                 "Performance Improvements", "ROI Analysis", "Lessons Learned", "Next Steps"):
        assert bodies[name].strip().count("\n") == 0, name
        assert bodies[name].startswith("_No "), name
    for kind in ("stress", "soak", "spike", "capacity"):
        assert f"_No {kind} test in this apply._" in md
    # numbers that only a stress/soak/hypothesis could produce must not appear
    for invented in ("Breaking point", "LEAK", "Quick wins", "→", "Error budget"):
        assert invented not in md, invented


def test_table_cells_are_escaped() -> None:
    doc = minimal_document()
    doc["specs"][0]["gates"][0]["message"] = "a | b\nc"
    md = markdown.render(doc)
    assert "| a \\| b c |" in md


def test_no_specs_renders_one_line() -> None:
    doc = minimal_document()
    doc["specs"] = []
    assert "No spec was applied" in markdown.render(doc)


def test_summary_golden_and_content(full: dict[str, Any], full_md: str) -> None:
    text = summary.render(full)
    check_golden("summary.md", text)
    assert text.startswith("## perfopt-engine: FAIL (exit code 1)")
    assert "FAIL (53.5ms vs < 25ms)" in text
    assert len(text) < len(full_md) / 3


def test_summary_appends_only_when_env_set(tmp_path: Path, full: dict[str, Any]) -> None:
    assert summary.append_step_summary(full, {}) is None
    target = tmp_path / "step.md"
    target.write_text("earlier step\n", encoding="utf-8")
    assert summary.append_step_summary(full, {"GITHUB_STEP_SUMMARY": str(target)}) == target
    summary.append_step_summary(minimal_document(), {"GITHUB_STEP_SUMMARY": str(target)})
    text = target.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")
    assert text.count("## perfopt-engine:") == 2


def test_a_target_that_failed_to_start_shows_its_last_output_lines() -> None:
    tail = "".join(f"line {i}\n" for i in range(30)) + "``` db migration failed\n"
    md = markdown.render(blocked_document(tail))
    overview = md.split("## Optimization Overview", 1)[1].split("\n## ", 1)[0]
    assert "target failed to start" in overview
    assert "**Target output** (last 10 lines)" in overview
    assert "````text\nline 21\n" in overview and "``` db migration failed\n````" in overview
    assert "line 20\n" not in md


def test_a_healthy_managed_target_shows_no_output(full_md: str) -> None:
    assert "Target output" not in full_md
