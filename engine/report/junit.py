"""JUnit XML for CI test dashboards: one test case per gate.

FAIL -> <failure>, INVALID -> <error> (the measurement could not be trusted),
INCONCLUSIVE / NOT_RUN / MANUAL / ABORTED -> <skipped> with the reason, PASS -> plain.
An slo gate is never <skipped>: an SLO that could not be evaluated is a <failure>
(type SloInconclusive), whether or not the gate was strict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["render"]

Doc = Mapping[str, Any]
_SKIPPED = ("INCONCLUSIVE", "NOT_RUN", "MANUAL", "ABORTED")


def _outcome(gate: Doc) -> str:
    """'failure', 'error', 'skipped' or '' (passed) for one gate."""
    status = gate["status"]
    if status == "FAIL" or (gate["kind"] == "slo" and status == "INCONCLUSIVE"):
        return "failure"
    if status == "INVALID":
        return "error"
    return "skipped" if status in _SKIPPED else ""


def _body(gate: Doc) -> str:
    details = "\n".join(str(d) for d in gate.get("details") or [])
    text = escape(f"{gate['message']}\n{details}".strip())
    msg = quoteattr(str(gate["message"]) or gate["status"])
    status, outcome = gate["status"], _outcome(gate)
    if outcome == "failure":
        kind = "GateFailed" if status == "FAIL" else "SloInconclusive"
        return f'<failure message={msg} type="{kind}">{text}</failure>'
    if outcome == "error":
        return f'<error message={msg} type="RunInvalid">{text}</error>'
    if outcome == "skipped":
        reason = quoteattr(f"{status}: {gate['message']}")
        return f"<skipped message={reason}/>"
    return ""


def _case(spec: Doc, gate: Doc) -> str:
    name = quoteattr(f"{gate['name']}")
    classname = quoteattr(f"perfopt.{spec['name']}.{gate['kind']}")
    advisory = "" if gate.get("decides_exit", True) else \
        '<properties><property name="decides_exit" value="false"/></properties>'
    inner = advisory + _body(gate)
    tail = f">{inner}</testcase>" if inner else "/>"
    return f"    <testcase classname={classname} name={name} time=\"0\"{tail}"


def _suite(doc: Doc, spec: Doc) -> str:
    gates = spec.get("gates") or []
    count = {k: sum(1 for g in gates if _outcome(g) == o) for k, o in
             (("failures", "failure"), ("errors", "error"), ("skipped", "skipped"))}
    cases = "\n".join(_case(spec, g) for g in gates)
    attrs = (f'name={quoteattr(str(spec["name"]))} tests="{len(gates)}" '
             f'failures="{count["failures"]}" errors="{count["errors"]}" '
             f'skipped="{count["skipped"]}" time="{float(spec.get("duration_s") or 0):.3f}" '
             f'timestamp={quoteattr(str(spec.get("started_at") or doc.get("generated_at", "")))}')
    return f"  <testsuite {attrs}>\n{cases}\n  </testsuite>" if cases else f"  <testsuite {attrs}/>"


def render(doc: Doc) -> str:
    """The document's gates as a JUnit ``<testsuites>`` file (one suite per spec)."""
    specs = doc.get("specs") or []
    gates = [g for s in specs for g in s.get("gates") or []]
    failures = sum(1 for g in gates if _outcome(g) == "failure")
    errors = sum(1 for g in gates if _outcome(g) == "error")
    suites = "\n".join(_suite(doc, s) for s in specs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="perfopt-engine" tests="{len(gates)}" failures="{failures}" '
            f'errors="{errors}">\n{suites}\n</testsuites>\n')
