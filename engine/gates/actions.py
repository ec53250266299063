"""The flow's error handling: each failure with its action and escalation.

SLO breach -> identify the bottleneck and optimize (budget exhausted: STOP feature work);
load test failure -> identify the breaking point and optimize the bottleneck, do not
proceed to production; regression -> roll back and investigate the commit range;
optimization not effective -> re-profile, and keep the failure as a lesson learned.
Each failure sentence is the one its analysis wrote; this module only pairs it with
what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.gates.failures import load_failures
from engine.records import Analysed, Driven
from engine.result import Status

__all__ = ["REGRESSION_ESCALATION", "FlowAction", "commit_range", "flow_actions",
           "regression_action"]

SHORT_SHA = 12


@dataclass(frozen=True)
class FlowAction:
    """One failure of the flow and what the flow says to do about it."""

    kind: str
    """slo-breach, budget-exhausted, load-test-failure, regression, not-effective."""
    failure: str
    action: str
    escalation: str

    def to_doc(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def text(self) -> str:
        return f"{self.failure} -> {self.action}; {self.escalation}"


def flow_actions(d: Driven, a: Analysed,
                 head: Callable[[], str | None] | None = None) -> tuple[FlowAction, ...]:
    """Every failure's action, in the flow's order. ``head`` gives the current commit
    (default: git in the working directory), read only when a regression failed."""
    return (*_slo_breaches(d, a), *_budgets(a), *_load_failures(d), *_regressions(a, head),
            *_not_effective(d))


def _slo_breaches(d: Driven, a: Analysed) -> Iterator[FlowAction]:
    exhausted = {b.slo for b in a.budgets if b.burn_rate >= 1.0}
    top = a.bottlenecks[0] if a.bottlenecks else None
    where = f" (top bottleneck: {top.name}, {top.share_text})" if top else \
        " (no bottleneck ranked yet: profile it)"
    for c in a.slo_checks:
        if c.status is not Status.FAIL:
            continue
        escalation = ("error budget exhausted: STOP feature work until it recovers"
                      if c.slo in exhausted else "error budget left: fix it in the normal flow")
        yield FlowAction("slo-breach", c.message,
                         f"Identify the bottleneck and implement an optimization{where}",
                         escalation)


def _budgets(a: Analysed) -> Iterator[FlowAction]:
    failed = {c.slo for c in a.slo_checks if c.status is Status.FAIL}
    for b in a.budgets:
        if b.burn_rate >= 1.0 and b.slo not in failed:
            yield FlowAction("budget-exhausted",
                             f"Error budget of {b.slo} burning at {b.burn_rate:.1f}x",
                             "STOP feature work and prioritise reliability",
                             f"{b.count_text}; escalate to the service owner")


def _load_failures(d: Driven) -> Iterator[FlowAction]:
    for kind in ("baseline", "stress", "soak", "spike", "capacity"):
        for failure in load_failures(kind, d.runs_of(kind), d.soak, d.spike):
            yield FlowAction("load-test-failure", failure,
                             "Identify the breaking point and optimize the bottleneck",
                             "Do not proceed to production")


def _regressions(a: Analysed, head: Callable[[], str | None] | None) -> Iterator[FlowAction]:
    reg = a.regression
    if reg is None or reg.status is not Status.FAIL:
        return
    commits = a.baseline_selection.commits if a.baseline_selection else ()
    action = regression_action(commits[-1] if commits else None, (head or _head)())
    for message in reg.messages:
        yield FlowAction("regression", message, action, REGRESSION_ESCALATION)


REGRESSION_ESCALATION = "Block the release until the regression is explained"


def regression_action(baseline: str | None, current: str | None) -> str:
    """The flow's action for a regression, with the commit range when both are known
    (apply's report and ``compare`` both print this)."""
    span = commit_range(baseline, current)
    return "Roll back the change and investigate the root cause" + (f": {span}" if span else "")


def commit_range(baseline: str | None, current: str | None) -> str:
    """'git log 1a2b3c4d5e6f..7a8b9c0d1e2f' between the newest baseline run's commit and
    the current one; '' when either is unknown or they are the same commit."""
    if not baseline or not current:
        return ""
    if baseline == current:
        return f"same commit as the baseline ({current[:SHORT_SHA]}): look at the environment"
    return f"git log {baseline[:SHORT_SHA]}..{current[:SHORT_SHA]}"


def _head() -> str | None:
    from engine.history.fingerprint import git_info

    info = git_info()
    return info.commit if info else None


def _not_effective(d: Driven) -> Iterator[FlowAction]:
    for v in d.hypotheses:
        if str(v.verdict) == "REFUTED":
            yield FlowAction("not-effective", f"Optimization not effective: {v.id} {v.message}",
                             "Re-profile to identify the actual bottleneck",
                             "Document the failed optimization as a lesson learned")
