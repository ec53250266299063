"""Request details (#16): status codes, error causes, per-step figures, checks, ended journey
instances, redirects and per-tag results - computed once in analysis, carried in the JSON,
and shown in every report format."""

from __future__ import annotations

import copy
import dataclasses
import json
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest

from engine.analysis.steps import error_causes, run_details
from engine.analysis.tags import tag_results
from engine.pipeline import analyse
from engine.plan import SpecPlan
from engine.records import Analysed, Driven, Judgement, Recorded, RunEntry, RunRole, SpecResult
from engine.report import html, json_format, junit, markdown, summary
from engine.report.assemble import spec_report
from engine.report.console import render_summary
from engine.report.document import REVISION, new_document, run_to_doc, validate_document
from engine.result import CheckResult, Status
from engine.spec.loader import load_text
from tests.support.docs import minimal_document
from tests.support.golden import check_golden
from tests.support.runs import (
    build_journey,
    build_run,
    build_step,
    details_document,
    details_run,
    histogram_ns,
    synthetic_validity,
)
from tests.support.specs import VALID

NEW_JOURNEY_KEYS = ("statuses", "error_causes", "steps", "checks", "ended", "redirects", "tags")


def _ms(*values: float) -> np.ndarray:
    return (np.asarray(values) * 1e6).astype(np.int64)


def _run(*journeys: Any) -> Any:
    return build_run(journeys, synthetic_validity(10.0), duration_s=10.0)


def test_a_tags_percentiles_are_those_of_its_requests_merged_not_an_average() -> None:
    fast = build_step(0, "a", _ms(*[1] * 90), tags={"tier": "gold"})
    slow = build_step(1, "b", _ms(*[100] * 10), errors={"status_5xx": 5}, tags={"tier": "gold"})
    other = build_journey("c", _ms(*[50] * 20), errors={"timeout": 2}, tags={"tier": "gold"})
    (gold,) = tag_results(_run(build_journey("ab", steps=(fast, slow)), other))
    merged = histogram_ns(np.concatenate([_ms(*[1] * 90), _ms(*[100] * 10), _ms(*[50] * 20)]))
    assert (gold.key, gold.value) == ("tier", "gold")
    assert (gold.requests, gold.errors) == (120, 7)
    assert gold.error_rate == pytest.approx(7 / 120)
    for pct, got in ((50.0, gold.p50_s), (95.0, gold.p95_s), (99.0, gold.p99_s)):
        assert got == pytest.approx(merged.value_at_percentile(pct) * 1e-9)
    assert gold.journeys == ("ab", "c")


def test_a_steps_tag_overrides_its_journeys_and_untagged_units_count_nowhere() -> None:
    login = build_step(0, "login", _ms(5, 5), tags={"kind": "auth"})
    read = build_step(1, "read", _ms(7, 7, 7))
    flow = build_journey("flow", steps=(login, read), tags={"kind": "flow", "team": "x"})
    bare = build_journey("bare", _ms(1, 1, 1, 1))
    found = {f"{t.key}={t.value}": t.requests for t in tag_results(_run(flow, bare))}
    assert found == {"kind=auth": 2, "kind=flow": 3, "team=x": 5}
    assert tag_results(_run(bare)) == ()


def test_error_causes_name_the_codes_when_the_statuses_account_for_them() -> None:
    j = build_journey("create", _ms(*[10] * 100), errors={"status_4xx": 50, "timeout": 3},
                      statuses={201: 47, 401: 30, 403: 20})
    assert error_causes(j) == (("401", 30), ("403", 20), ("timeout", 3))
    # followed 3xx hops are not errors: a class the codes do not account for keeps its name
    hops = build_journey("r", _ms(*[10] * 10), errors={"status_3xx": 2},
                         statuses={200: 8, 302: 40})
    assert error_causes(hops) == (("status_3xx", 2),)
    assert error_causes(build_journey("ok", _ms(1, 2), statuses={200: 2})) == ()


def test_step_percentiles_are_the_steps_own_and_an_empty_step_has_none() -> None:
    s0 = build_step(0, "GET /a", _ms(*range(1, 101)))
    s1 = build_step(1, "GET /b", _ms())
    details = run_details(_run(build_journey("two", steps=(s0, s1))))
    a, b = details.journeys["two"].steps
    assert a.p95_s == pytest.approx(s0.response.value_at_percentile(95.0) * 1e-9)
    assert (b.requests, b.p50_s, b.p99_s) == (0, None, None)
    doc = run_to_doc(_run(build_journey("two", steps=(s0, s1))), "r", (), None,
                     details.to_doc())
    assert doc["journeys"][0]["steps"][1]["p50"] is None


def test_the_json_carries_every_detail_and_validates() -> None:
    doc = details_document()
    assert validate_document(doc) == [] and doc["revision"] == REVISION >= 2
    run = doc["specs"][0]["runs"][0]
    orders, browse = run["journeys"]
    assert orders["statuses"] == {"200": 570, "201": 270, "401": 30}
    assert orders["error_causes"] == [{"cause": "401", "count": 30}]
    assert [s["name"] for s in orders["steps"]] == ["login", "POST /orders",
                                                   "GET /orders/{var:order_id}"]
    assert sum(s["requests"] for s in orders["steps"]) == orders["requests"]
    create = orders["checks"][1]
    assert (create["step_name"], create["passed"], create["failed"], create["fail_request"]) == \
        ("POST /orders", 270, 30, True)
    assert create["pass_rate"] == pytest.approx(0.9)
    assert orders["ended"] == [{"reason": "extract order_id failed at step POST /orders",
                                "count": 30}]
    assert (browse["redirects"], browse["tags"]) == (120, {"team": "catalog"})
    assert [t["tag"] for t in run["tags"]] == ["kind=auth", "kind=flow", "kind=write",
                                               "team=catalog", "team=checkout"]
    assert json.loads(json_format.render(doc)) == doc


def test_a_document_without_the_details_still_validates_and_renders_without_them() -> None:
    doc = details_document()
    old = copy.deepcopy(doc)
    del old["revision"]
    for run in old["specs"][0]["runs"]:
        del run["tags"]
        for j in run["journeys"]:
            for key in NEW_JOURNEY_KEYS:
                del j[key]
    assert validate_document(old) == []
    for text in (markdown.render(old), render_summary(old), summary.render(old),
                 junit.render(old)):
        assert "401" not in text and "status codes" not in text.lower()


def test_a_broken_detail_is_a_schema_violation() -> None:
    doc = details_document()
    journey = doc["specs"][0]["runs"][0]["journeys"][0]
    journey["statuses"]["OK"] = 3
    journey["checks"][0]["failed"] = -1
    problems = "\n".join(validate_document(doc))
    assert "statuses" in problems and "checks/0/failed" in problems


ERROR_SENTENCES = ("orders: 30 errors (401 x 30)", "browse: 4 errors (timeout x 4)")
STATUS_TEXT = ("200 x 570, 201 x 270, 401 x 30", "200 x 596, 302 x 120")


def test_every_format_names_the_status_codes_and_the_error_causes() -> None:
    doc = details_document()
    texts = {"markdown": markdown.render(doc), "html": html.render(doc),
             "terminal": render_summary(doc), "summary": summary.render(doc),
             "junit": junit.render(doc)}
    for name, text in texts.items():
        for wanted in (*ERROR_SENTENCES, *STATUS_TEXT):
            assert wanted in text, (name, wanted)


def test_the_sections_appear_in_markdown_html_terminal_summary_and_junit() -> None:
    doc = details_document()
    md, page, term = markdown.render(doc), html.render(doc), render_summary(doc)
    for heading in ("Steps of orders", "Checks", "Journey instances ended early", "Tags"):
        assert f"**{heading}**" in md and f"<strong>{heading}</strong>" in page
    assert "| orders | POST /orders | status is 201 (fails the request) | 270 | 30 | 90.00% " \
           "| FAIL |" in md
    assert '<td><span class="st st-fail">FAIL</span></td>' in page  # a failed check is marked
    assert "| orders | extract order_id failed at step POST /orders | 30 |" in md
    assert "| browse | 600 | 200 x 596, 302 x 120 | 120 |" in md
    assert "redirects followed: browse 120" in term
    assert "ended early: orders: extract order_id failed at step POST /orders x 30" in term
    assert "<details><summary>Requests by status, step, check and tag</summary>" in \
        summary.render(doc)


def test_junit_makes_each_failing_check_a_failure_with_its_counts() -> None:
    root = ET.fromstring(junit.render(details_document()))
    suite = root.find("testsuite")
    assert suite is not None
    checks = [c for c in suite.findall("testcase") if c.get("classname", "").endswith(".check")]
    assert [c.get("name") for c in checks] == [
        "orders / login / status is 200", "orders / POST /orders / status is 201",
        'orders / GET /orders/{var:order_id} / json $.status == "open"']
    failures = [c.find("failure") for c in checks]
    assert failures[0] is None
    assert failures[1] is not None and failures[1].get("message") == \
        "failed 30 of 300, passed 270 (pass rate 90.00%)"
    assert (suite.get("tests"), suite.get("failures")) == ("4", "2")
    assert (root.get("tests"), root.get("failures")) == ("4", "2")
    out = suite.find("system-out")
    assert out is not None and "orders: 30 errors (401 x 30)" in (out.text or "")


def test_a_run_without_checks_adds_no_test_case() -> None:
    doc = minimal_document()
    root = ET.fromstring(junit.render(doc))
    assert root.get("tests") == str(len(doc["specs"][0]["gates"]))


def test_the_analyse_stage_computes_the_details_the_report_prints() -> None:
    """Through the real stages: pipeline.analyse fills Analysed.details, and the report's run
    entry holds exactly those figures (the renderers compute none of them)."""
    specs, errors = load_text(VALID)
    assert not errors
    spec = dataclasses.replace(specs[0], slos=())  # its SLOs name a journey this run lacks
    run = details_run()
    driven = Driven(spec, SpecPlan(spec, (), ()), 1.8e9,
                    (RunEntry("baseline", RunRole("baseline", "baseline"), run),), run)
    analysed = analyse(driven, None)
    report = spec_report(SpecResult(driven, analysed, Judgement((), (), Status.PASS),
                                    Recorded(), 1.8e9 + 10))
    entry = report["runs"][0]
    computed = analysed.details["baseline"].to_doc()
    assert [t["tag"] for t in entry["tags"]] == [t["tag"] for t in computed["tags"]]
    for shown, tag in zip(entry["tags"], computed["tags"], strict=True):
        assert shown["p95"] == pytest.approx(tag["p95"], abs=1e-9)
        assert (shown["requests"], shown["errors"]) == (tag["requests"], tag["errors"])
    steps = computed["journeys"]["orders"]["steps"]
    assert [s["p99"] for s in entry["journeys"][0]["steps"]] == \
        [pytest.approx(s["p99"], abs=1e-9) for s in steps]
    # without the analysis stage's details a run shows no step rows and no tag results
    bare = SpecResult(driven, Analysed(), Judgement((), (), Status.PASS), Recorded(), 1.8e9)
    assert spec_report(bare)["runs"][0]["tags"] == []
    assert validate_document(new_document([report], verdict="PASS", exit_code=0)) == []


def test_a_secret_in_a_tag_or_step_name_is_redacted() -> None:
    token = "tok-9f8e7d6c5b"
    step = build_step(0, "GET /me", _ms(1, 2), tags={"api_key": token})
    check = CheckResult(0, "status is 200", 2, 0)
    run = _run(build_journey("me", steps=(step,), checks=(check,), statuses={200: 2}))
    doc = run_to_doc(run, "r", ["api_key"], None, run_details(run).to_doc())
    assert token not in json.dumps(doc)


@pytest.mark.parametrize("name, render", [
    ("details.md", markdown.render), ("details.html", html.render),
    ("details.junit.xml", junit.render), ("details.summary.md", summary.render),
    ("details.txt", render_summary)])
def test_details_golden(name: str, render: Any) -> None:
    check_golden(name, render(details_document()))


def test_a_check_no_response_ever_reached_is_not_run_never_passed() -> None:
    doc = copy.deepcopy(details_document())
    run = doc["specs"][0]["runs"][0]
    check = next(c for j in run["journeys"] for c in j["checks"] if c["failed"] == 0)
    check.update(passed=0, failed=0, pass_rate=None)
    root = ET.fromstring(junit.render(doc))
    case = next(c for c in root.iter("testcase") if c.get("name", "").endswith(check["name"]))
    skipped = case.find("skipped")
    assert skipped is not None and "never evaluated" in (skipped.get("message") or "")
    assert case.find("failure") is None
    row = next(r for r in markdown.render(doc).splitlines() if check["name"] in r and "|" in r)
    assert "NOT RUN" in row and "PASS" not in row
