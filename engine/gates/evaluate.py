"""Gate stage: each gate kind is a function in a registry; the verdict decides the exit code.

A gate never passes on missing, invalid or too-little data: it says INVALID
or INCONCLUSIVE and why. INCONCLUSIVE blocks only gates marked ``strict``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from engine.analysis.evidence import analysis_failure
from engine.records import Analysed, CheckItem, Driven, GateResult
from engine.result import ExitCode, Status, worst
from engine.spec.model import Gate, Spec

if TYPE_CHECKING:  # validate and --dry-run must not import numpy (tests/test_architecture.py)
    from engine.analysis.regression import RegressionCheck


@dataclass(frozen=True)
class Evidence:
    """What a gate judges: the driven and analysed records, and the checklist."""

    driven: Driven
    analysed: Analysed
    checklist: tuple[CheckItem, ...] = ()


GateFn = Callable[[Evidence, Gate], GateResult]


def _result(gate: Gate, status: Status, message: str, details: Iterable[str] = ()) -> GateResult:
    return GateResult(gate.name, gate.kind, status, message, tuple(details))


def slo_gate(e: Evidence, gate: Gate) -> GateResult:
    checks = e.analysed.slo_checks
    if e.driven.target_error:
        return _result(gate, Status.INVALID, e.driven.target_error)
    if not checks:
        reason = "no SLOs defined" if not e.driven.spec.slos else "no run to judge the SLOs on"
        return _result(gate, Status.INCONCLUSIVE, reason)
    status = worst([c.status for c in checks])
    failing = [c.message if c.status == Status.FAIL else f"{c.slo}: {c.message}"
               for c in checks if c.status != Status.PASS]
    summary = f"{sum(c.status == Status.PASS for c in checks)}/{len(checks)} SLOs met"
    return _result(gate, status, failing[0] if failing else summary, [c.message for c in checks])


def validity_gate(e: Evidence, gate: Gate) -> GateResult:
    runs = e.driven.runs
    if e.driven.target_error:
        return _result(gate, Status.INVALID, e.driven.target_error)
    if not runs:
        return _result(gate, Status.INCONCLUSIVE, "no load run happened")
    bad = [r for r in runs if not r.run.validity.valid]
    if bad:
        details = [f"{r.id}: {'; '.join(r.run.validity.reasons)}" for r in bad]
        return _result(gate, Status.INVALID, f"{len(bad)} run(s) invalid: {details[0]}", details)
    return _result(gate, Status.PASS, f"{len(runs)} run(s) did what they were asked")


def regression_gate(e: Evidence, gate: Gate) -> GateResult:
    reg = e.analysed.regression
    if reg is None:
        why = "history disabled" if not e.driven.spec.history.enabled else "no run to compare"
        return _result(gate, Status.INCONCLUSIVE, f"no regression check: {why}")
    status = Status(str(reg.status))
    judged = [c for c in reg.checks if c.judged]
    passed = sum(str(c.status) == "PASS" for c in judged)
    aside = len(reg.checks) - len(judged)
    invalid = reg.invalid_reason  # why, before what the checks say
    message = invalid or (reg.messages[0] if reg.messages else (
        reg.note or f"{passed}/{len(judged)} judged metrics within tolerance of the baseline"
        + (f" ({aside} not judged)" if aside else "") + _undecided(judged)))
    message += "".join(f" ({note})" for note in reg.notes if note != invalid)
    return _result(gate, status, message, [c.message for c in reg.checks])


def _undecided(judged: Sequence[RegressionCheck]) -> str:
    """Why an INCONCLUSIVE gate is undecided, in its message: how many judged checks are,
    and the first one's reason (its interval, the smallest change this noise detects), so
    the terminal and JUnit say it, not only the Markdown table."""
    open_ = [c for c in judged if str(c.status) == str(Status.INCONCLUSIVE)]
    if not open_:
        return ""
    return f"; {len(open_)} undecided, first {open_[0].message}"


def hypothesis_gate(e: Evidence, gate: Gate) -> GateResult:
    verdicts = e.driven.hypotheses
    if not verdicts:
        return _result(gate, Status.INCONCLUSIVE, "no hypothesis was measured")
    mapping = {"CONFIRMED": Status.PASS, "REFUTED": Status.FAIL, "INVALID": Status.INVALID,
               "INCONCLUSIVE": Status.INCONCLUSIVE}
    statuses = [mapping[str(v.verdict)] for v in verdicts]
    details = [f"{v.id}: {v.verdict} - {v.message}" for v in verdicts]
    confirmed = sum(s == Status.PASS for s in statuses)
    return _result(gate, worst(statuses), f"{confirmed}/{len(verdicts)} hypotheses confirmed",
                   details)


def error_budget_gate(e: Evidence, gate: Gate) -> GateResult:
    """A budget is only as good as its SLO's check on the same run: an invalid run or one
    too small to judge the SLO cannot show a budget burning under 1x either."""
    if e.driven.target_error:
        return _result(gate, Status.INVALID, e.driven.target_error)
    budgets = e.analysed.budgets
    if not budgets:
        return _result(gate, Status.INCONCLUSIVE, "no SLO with an error budget was measured")
    checks = {c.slo: c for c in e.analysed.slo_checks}
    details = [f"{b.slo}: burn {b.burn_rate:.2f}x ({b.tier})" for b in budgets]
    unjudged = [checks[b.slo] for b in budgets if b.slo in checks
                and checks[b.slo].status in (Status.INVALID, Status.INCONCLUSIVE)]
    if any(c.status is Status.INVALID for c in unjudged):
        bad = next(c for c in unjudged if c.status is Status.INVALID)
        return _result(gate, Status.INVALID, f"{bad.slo}: {bad.message}", details)
    burning = [b for b in budgets if b.burn_rate >= 1.0]
    if burning:
        return _result(gate, Status.FAIL, f"error budget burning at {burning[0].burn_rate:.1f}x "
                                          f"for {burning[0].slo}", details)
    if unjudged:
        return _result(gate, Status.INCONCLUSIVE, f"{unjudged[0].slo}: its SLO could not be "
                                                  f"judged: {unjudged[0].message}", details)
    return _result(gate, Status.PASS, "every error budget burns under 1x", details)


def checklist_gate(e: Evidence, gate: Gate) -> GateResult:
    items = e.checklist
    failed = [i for i in items if i.status in (Status.FAIL, Status.INVALID)]
    open_items = [i for i in items if i.status in (Status.INCONCLUSIVE, Status.NOT_RUN)]
    details = [f"step {i.step}: {i.criterion}: {i.status}" for i in failed + open_items]
    if failed:
        return _result(gate, Status.FAIL, f"{len(failed)} checklist criteria failed", details)
    if open_items:
        return _result(gate, Status.INCONCLUSIVE, f"{len(open_items)} criteria not yet met", details)
    return _result(gate, Status.PASS, "every measurable criterion met")


def _soak_problems(d: Driven) -> tuple[list[str], list[str]]:
    """(failures, open questions) of the soak analysis, if one ran."""
    soak = d.soak
    if soak is None:
        return [], []
    fail = analysis_failure("soak", soak, None)
    unknown = [f"soak: {soak.leak.message}"] if soak.leak.verdict not in ("LEAK", "NO_LEAK") \
        else []
    if soak.partial:  # a cut-short soak's degradation is partial evidence, as its leak is
        unknown += [f"soak: {x}" for x in soak.degradation]
    return [fail] if fail else [], unknown


def _spike_stress_problems(d: Driven) -> tuple[list[str], list[str]]:
    fails: list[str] = []
    unknown: list[str] = []
    spike_fail = analysis_failure("spike", None, d.spike)
    fails += [spike_fail] if spike_fail else []
    if d.spike is not None and d.spike.verdict != "RECOVERED" and not spike_fail:
        unknown.append(f"spike: {d.spike.message}")
    if d.stress is not None and (d.stress.partial or not d.stress.steps):
        unknown.append(f"stress: {d.stress.message}")
    else:
        _peak_problem(d, fails, unknown)
    return fails, unknown


def _peak_problem(d: Driven, fails: list[str], unknown: list[str]) -> None:
    """A stress profile with ``expected_peak``: a breaking point below it FAILs; a peak
    the spec expects but no stress run tested is an open question, never a pass."""
    profile = next((p for p in d.spec.profiles if p.kind == "stress"), None)
    if profile is None or profile.expected_peak is None:
        return
    if d.stress is None:
        unknown.append(f"stress: expected peak {profile.expected_peak:g}/s not tested "
                       "(the stress profile did not run)")
        return
    held, text = d.stress.against_peak(profile.expected_peak)
    if held is False:
        fails.append(f"stress: {text}")
    elif held is None:
        unknown.append(f"stress: {text}")


def load_gate(e: Evidence, gate: Gate) -> GateResult:
    """Soak leak or degradation, or a spike that did not recover, FAIL; no load-test
    analysis at all is INCONCLUSIVE (never PASS on missing data)."""
    d = e.driven
    if d.target_error:
        return _result(gate, Status.INVALID, d.target_error)
    ran = [n for n, a in (("soak", d.soak), ("spike", d.spike), ("stress", d.stress))
           if a is not None]
    if not ran:
        return _result(gate, Status.INCONCLUSIVE, "no load-test analysis ran (soak, spike, stress)")
    invalid = [r for kind in ("soak", "spike") for r in d.runs_of(kind) if not r.validity.valid]
    if invalid:
        return _result(gate, Status.INVALID, f"{invalid[0].kind} run invalid: "
                                             f"{'; '.join(invalid[0].validity.reasons)}")
    soak_fails, soak_open = _soak_problems(d)
    other_fails, other_open = _spike_stress_problems(d)
    fails, unknown = soak_fails + other_fails, soak_open + other_open
    if fails:
        return _result(gate, Status.FAIL, fails[0], fails + unknown)
    if unknown:
        return _result(gate, Status.INCONCLUSIVE, unknown[0], unknown)
    return _result(gate, Status.PASS, f"{', '.join(ran)}: no leak, degradation or unrecovered "
                                      "spike")


def advice_gate(e: Evidence, gate: Gate) -> GateResult:
    """FAIL when the advisor found a failure mode the gate names in ``fail_on``."""
    found = [a for a in e.analysed.advice if a.code in gate.fail_on]
    if found:
        return _result(gate, Status.FAIL, found[0].text, [a.text for a in found])
    others = len(e.analysed.advice)
    return _result(gate, Status.PASS, f"none of {', '.join(gate.fail_on)} found"
                   + (f" ({others} other warning(s))" if others else ""))


REGISTRY: dict[str, GateFn] = {
    "slo": slo_gate, "validity": validity_gate, "regression": regression_gate,
    "hypothesis": hypothesis_gate, "error_budget": error_budget_gate, "checklist": checklist_gate,
    "load": load_gate, "advice": advice_gate,
}


def unknown_gate_error(specs: Iterable[Spec], selected: Iterable[str]) -> str:
    """'' when every ``--gate`` NAME is a gate name or kind of some spec, else the usage
    error to print: a typo must not silently select nothing and let CI go green."""
    specs = list(specs)
    names = sorted({g.name for s in specs for g in s.gates})
    kinds = sorted({g.kind for s in specs for g in s.gates})
    for name in selected:
        if name not in names and name not in kinds:
            return (f"unknown gate {name!r}: known gates are {', '.join(names) or 'none'} "
                    f"(kinds: {', '.join(kinds) or 'none'})")
    return ""


def is_strict(gate: Gate, analysed: Analysed) -> bool:
    """``strict`` as written; unset, the kind's default. The slo gate is strict once an SLO
    was checked: an SLO that could not be evaluated (too few requests for its percentile)
    FAILS instead of letting CI go green."""
    if gate.strict is not None:
        return gate.strict
    return gate.kind == "slo" and bool(analysed.slo_checks)


def decides_exit(gate: Gate, selected: Sequence[str] = ()) -> bool:
    """Does ``gate`` decide the exit code under apply's ``--gate`` names or kinds (all when
    none are given)?"""
    return not selected or gate.name in selected or gate.kind in selected


def evaluate_gates(e: Evidence, selected: Sequence[str] = ()) -> tuple[GateResult, ...]:
    """Every gate of the spec; only ``selected`` names (all when empty) decide the exit code."""
    results = []
    for gate in e.driven.spec.gates:
        result = REGISTRY[gate.kind](e, gate)
        decides = decides_exit(gate, selected)
        if is_strict(gate, e.analysed) and result.status == Status.INCONCLUSIVE:
            result = replace(result, status=Status.FAIL,
                             message=f"strict gate inconclusive: {result.message}")
        results.append(replace(result, decides_exit=decides))
    return tuple(results)


def spec_verdict(interrupted: bool, gates: Iterable[GateResult]) -> Status:
    """ABORTED when interrupted, else the worst deciding gate by SEVERITY."""
    if interrupted:
        return Status.ABORTED
    return worst(g.status for g in gates if g.decides_exit)


def exit_code(verdicts: Sequence[Status]) -> int:
    """130 interrupted > 3 invalid > 1 failed > 0 (INCONCLUSIVE alone does not block)."""
    codes = {Status.ABORTED: ExitCode.INTERRUPTED, Status.INVALID: ExitCode.RUN_INVALID,
             Status.FAIL: ExitCode.GATE_FAILED}
    return int(codes.get(worst(verdicts, Status.PASS), ExitCode.PASS))


def overall(verdicts: Sequence[Status]) -> Status:
    """The document's verdict over all specs."""
    return worst(verdicts)
