"""JUnit XML for CI test dashboards: one test case per gate, and one per declared check of
the spec's primary run (a check that failed at least once is a <failure> with its counts;
checks do not decide the exit code, so they carry decides_exit=false). The run's request
details (status codes, steps, checks, ended instances, redirects, tags) are the suite's
<system-out>.

FAIL -> <failure>, INVALID -> <error> (the measurement could not be trusted: type RunInvalid,
or MachineSlower for a regression gate measured twice on a disturbed machine),
INCONCLUSIVE / NOT_RUN / MANUAL / ABORTED -> <skipped> with the reason, PASS -> plain.
An slo gate is never <skipped>: an SLO that could not be evaluated is a <failure>
(type SloInconclusive), whether or not the gate was strict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from engine.report.details_text import check_result, details_run, plain_lines
from engine.report.fmt import fmt_pct
from engine.result import InvalidCause

__all__ = ["render"]

Doc = Mapping[str, Any]
_SKIPPED = ("INCONCLUSIVE", "NOT_RUN", "MANUAL", "ABORTED")
_ADVISORY = '<properties><property name="decides_exit" value="false"/></properties>'


def _outcome(gate: Doc) -> str:
    """'failure', 'error', 'skipped' or '' (passed) for one gate."""
    status = gate["status"]
    if status == "FAIL" or (gate["kind"] == "slo" and status == "INCONCLUSIVE"):
        return "failure"
    if status == "INVALID":
        return "error"
    return "skipped" if status in _SKIPPED else ""


def _machine_slower(spec: Doc, gate: Doc) -> bool:
    """An INVALID regression gate measured twice on a disturbed machine (``invalid_cause``,
    set where the gate judged it: engine.analysis.regression)."""
    reg = spec.get("regression") or {}
    return gate.get("kind") == "regression" and reg.get("invalid_cause") == InvalidCause.MACHINE_SLOWER


def _body(spec: Doc, gate: Doc) -> str:
    details = "\n".join(str(d) for d in gate.get("details") or [])
    text = escape(f"{gate['message']}\n{details}".strip())
    msg = quoteattr(str(gate["message"]) or gate["status"])
    status, outcome = gate["status"], _outcome(gate)
    if outcome == "failure":
        kind = "GateFailed" if status == "FAIL" else "SloInconclusive"
        return f'<failure message={msg} type="{kind}">{text}</failure>'
    if outcome == "error":
        kind = "MachineSlower" if _machine_slower(spec, gate) else "RunInvalid"
        return f'<error message={msg} type="{kind}">{text}</error>'
    if outcome == "skipped":
        reason = quoteattr(f"{status}: {gate['message']}")
        return f"<skipped message={reason}/>"
    return ""


def _case(spec: Doc, gate: Doc) -> str:
    name = quoteattr(f"{gate['name']}")
    classname = quoteattr(f"perfopt.{spec['name']}.{gate['kind']}")
    advisory = "" if gate.get("decides_exit", True) else _ADVISORY
    inner = advisory + _body(spec, gate)
    tail = f">{inner}</testcase>" if inner else "/>"
    return f"    <testcase classname={classname} name={name} time=\"0\"{tail}"


def _checks(spec: Doc) -> list[tuple[Doc, Doc]]:
    """(journey, check) of every declared check of the spec's primary run."""
    run = details_run(spec)
    return [(j, c) for j in (run or {}).get("journeys") or [] for c in j.get("checks") or []]


def _check_case(spec: Doc, journey: Doc, check: Doc) -> str:
    step = f" / {check['step_name']}" if check.get("step_name") else ""
    name = quoteattr(f"{journey['name']}{step} / {check['name']}")
    classname = quoteattr(f"perfopt.{spec['name']}.check")
    if check_result(check) == "NOT RUN":  # advisory and never evaluated: not a pass
        why = quoteattr("never evaluated: no response reached this step")
        return (f'    <testcase classname={classname} name={name} time="0">{_ADVISORY}'
                f"<skipped message={why}/></testcase>")
    if not check["failed"]:
        return f"    <testcase classname={classname} name={name} time=\"0\">{_ADVISORY}</testcase>"
    total = check["passed"] + check["failed"]
    text = (f"failed {check['failed']} of {total}, passed {check['passed']} "
            f"(pass rate {fmt_pct(check['pass_rate'], 2)})")
    return (f'    <testcase classname={classname} name={name} time="0">{_ADVISORY}'
            f'<failure message={quoteattr(text)} type="CheckFailed">{escape(text)}</failure>'
            "</testcase>")


def _system_out(spec: Doc) -> str:
    run = details_run(spec)
    lines = plain_lines(run) if run is not None else []
    return f"    <system-out>{escape(chr(10).join(lines))}</system-out>" if lines else ""


def _counts(spec: Doc) -> dict[str, int]:
    gates = spec.get("gates") or []
    count = {k: sum(1 for g in gates if _outcome(g) == o) for k, o in
             (("failures", "failure"), ("errors", "error"), ("skipped", "skipped"))}
    count["failures"] += sum(1 for _, c in _checks(spec) if c["failed"])
    count["tests"] = len(gates) + len(_checks(spec))
    return count


def _suite(doc: Doc, spec: Doc) -> str:
    gates = spec.get("gates") or []
    count = _counts(spec)
    cases = "\n".join([*(_case(spec, g) for g in gates),
                       *(_check_case(spec, j, c) for j, c in _checks(spec))])
    body = "\n".join(x for x in (cases, _system_out(spec)) if x)
    attrs = (f'name={quoteattr(str(spec["name"]))} tests="{count["tests"]}" '
             f'failures="{count["failures"]}" errors="{count["errors"]}" '
             f'skipped="{count["skipped"]}" time="{float(spec.get("duration_s") or 0):.3f}" '
             f'timestamp={quoteattr(str(spec.get("started_at") or doc.get("generated_at", "")))}')
    return f"  <testsuite {attrs}>\n{body}\n  </testsuite>" if body else f"  <testsuite {attrs}/>"


def render(doc: Doc) -> str:
    """The document's gates and checks as a JUnit ``<testsuites>`` file (one suite per spec)."""
    specs = doc.get("specs") or []
    counts = [_counts(s) for s in specs]
    failures = sum(c["failures"] for c in counts)
    errors = sum(c["errors"] for c in counts)
    suites = "\n".join(_suite(doc, s) for s in specs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="perfopt-engine" tests="{sum(c["tests"] for c in counts)}" '
            f'failures="{failures}" '
            f'errors="{errors}">\n{suites}\n</testsuites>\n')
