"""JUnit XML: one test case per gate; FAIL -> failure, INVALID -> error, undecided -> skipped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from engine.report import junit
from tests.support.docs import full_document, minimal_document
from tests.support.golden import check_golden


def test_golden() -> None:
    check_golden("full.junit.xml", junit.render(full_document()))


def test_one_case_per_gate_with_status_mapping() -> None:
    doc = full_document()
    root = ET.fromstring(junit.render(doc))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [g["name"] for g in doc["specs"][0]["gates"]]
    failure = cases["slo"].find("failure")
    assert failure is not None and failure.get("message") == "1 of 3 SLOs breached"
    assert "availability: FAIL" in (failure.text or "")
    assert cases["hypothesis"].find("error") is not None
    skipped = cases["regression"].find("skipped")
    assert skipped is not None and (skipped.get("message") or "").startswith("INCONCLUSIVE: ")
    assert (cases["error-budget"].find("skipped").get("message") or "").startswith("NOT_RUN")  # type: ignore[union-attr]
    assert len(list(cases["validity"])) == 0
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("5", "1", "1", "2")


def test_passing_document_has_no_failures() -> None:
    root = ET.fromstring(junit.render(minimal_document()))
    assert root.get("failures") == "0" and root.get("errors") == "0" and root.get("tests") == "1"


def test_messages_are_escaped() -> None:
    doc = minimal_document()
    gate = doc["specs"][0]["gates"][0]
    gate.update(status="FAIL", message='p95 < 200ms & "quoted" <tag>')
    root = ET.fromstring(junit.render(doc))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == 'p95 < 200ms & "quoted" <tag>'


def test_an_inconclusive_slo_gate_is_a_failure_never_skipped() -> None:
    """Even non-strict (exit 0), an SLO that could not be evaluated is red in the dashboard."""
    doc = minimal_document()
    gate = doc["specs"][0]["gates"][0]
    gate.update(kind="slo", status="INCONCLUSIVE",
                message="lookup-p99: too few requests for p99: 200, need at least 1000")
    root = ET.fromstring(junit.render(doc))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("type") == "SloInconclusive"
    assert root.find("testsuite/testcase/skipped") is None
    assert root.get("failures") == "1" and root.find("testsuite").get("failures") == "1"  # type: ignore[union-attr]
