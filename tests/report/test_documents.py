"""Documents beside the reports (#19): MADR ADRs for significant confirmed and for refuted
optimizations, a runbook card per SLO, and the lessons file from the ledger."""

from __future__ import annotations

from typing import Any

from engine.report.documents import (
    ADR_MIN_IMPROVEMENT_PCT,
    adr,
    documents,
    lessons_file,
    of_journey,
    runbook,
)


def _h(verdict: str, gain: float | None, hid: str = "H1") -> dict[str, Any]:
    return {"id": hid, "title": "Index users.email", "type": "database", "verdict": verdict,
            "change_text": "if we add an index, lookup stops scanning", "expectation": "<= -50%",
            "metric": "p95", "journey": "lookup", "effort_hours": 2.0, "risk": "low",
            "before": 0.0093, "after": 0.0015, "improvement_pct": gain, "ci_low": -0.9,
            "ci_high": -0.8, "confidence": 0.98, "rounds": 2, "message": "p95 -84%"}


SPEC: dict[str, Any] = {
    "name": "user-lookup", "component": "users-api", "trigger": "slo-breach",
    "source": "specs/user-lookup.yaml", "history_ids": [7, 8],
    "bottlenecks": [{"rank": 1, "name": "database in lookup", "share_text": "81% of latency",
                     "journeys": ["lookup"], "evidence": ["Server-Timing db p95 8 ms"],
                     "suggestion": "database"},
                    {"rank": 2, "name": "cpu", "share_text": "9% of latency",
                     "journeys": ["stats"], "evidence": [], "suggestion": "algorithm"}],
    "slo_checks": [{"slo": "lookup-p95", "metric": "lookup p95", "target": "< 10ms",
                    "journey": "lookup",
                    "value_text": "9.3 ms", "status": "PASS"}],
    "error_budgets": [{"slo": "lookup-p95", "budget": 0.05, "window_requests": 1e6,
                       "allowed_failures": 5e4}],
    "money": {"fleet": None, "savings": [{"id": "H1", "monthly": 1130.0, "currency": "EUR",
                                          "inputs": "the inputs"}]},
    "lessons": ["H1 (database) made p95 84% better for 4h of effort."], "next_steps": ["Measure H2"],
    "lessons_ledger": [
        {"at": "2026-11-01T10:00:00", "verdict": "PASS", "lessons": ["old lesson"],
         "hypotheses": [{"id": "H2", "title": "Cache", "verdict": "REFUTED",
                         "message": "no change"}]},
        {"at": "2026-11-02T10:00:00", "verdict": "FAIL", "lessons": ["new lesson"],
         "hypotheses": [{"id": "H1", "title": "Index", "verdict": "CONFIRMED",
                         "message": "p95 -84%"}]}],
}


def test_a_significant_confirmed_optimization_gets_an_accepted_madr() -> None:
    text = adr(SPEC, _h("CONFIRMED", 84.0), "2026-11-29")
    assert text.startswith("# H1: Index users.email\n\n* Status: accepted\n* Date: 2026-11-29")
    for section in ("## Context and Problem Statement", "## Considered Options",
                    "## Decision Outcome", "### Consequences", "## Links"):
        assert section in text
    assert "* #1 database in lookup: 81% of latency (Server-Timing db p95 8 ms)" in text
    assert "cpu" not in text.split("## Considered Options")[0]  # not a lookup bottleneck
    assert 'Chosen option: "Index users.email"' in text
    assert "p95 9.3 ms -> 1.5 ms (84.0% better, 98% interval of the change [-90.0%, -80.0%]" \
        in text
    assert "* Money: 1,130.00 EUR per month (the inputs)" in text
    assert "* History run ids: 7, 8" in text


def test_an_adrs_context_is_its_own_before_runs_bottlenecks() -> None:
    """The spec's own bottlenecks are measured with every change in; an ADR stands on what its
    before runs showed, and says so. An older document (no before_bottlenecks) keeps the
    spec's, worded as before."""
    h = {**_h("CONFIRMED", 84.0), "before_bottlenecks": [
        {"rank": 1, "name": "db time in lookup", "share_text": "88% of total latency",
         "journeys": ["lookup"], "evidence": ["a full scan"], "suggestion": "database"}]}
    text = adr(SPEC, h, "2026-12-01")
    context = text.split("## Considered Options")[0]
    assert "The bottleneck analysis of its before runs (without the change) ranked:" in context
    assert "* #1 db time in lookup: 88% of total latency (a full scan)" in context
    assert "database in lookup" not in context  # the spec's own (after) list is not used
    old = adr(SPEC, _h("CONFIRMED", 84.0), "2026-12-01")
    assert "The bottleneck analysis ranked:" in old and "database in lookup" in old


def test_small_or_undecided_gains_get_no_adr_and_refuted_ones_a_rejected_adr() -> None:
    assert adr(SPEC, _h("CONFIRMED", ADR_MIN_IMPROVEMENT_PCT - 1), "d") == ""
    assert adr(SPEC, _h("INCONCLUSIVE", 84.0), "d") == ""
    rejected = adr(SPEC, _h("REFUTED", 1.0), "d")
    assert "* Status: rejected" in rejected and 'Chosen option: "Leave as is"' in rejected
    assert "refuted the expectation (<= -50%)" in rejected


def test_a_runbook_card_per_slo() -> None:
    text = runbook(SPEC, SPEC["slo_checks"][0])
    assert text.startswith("# Runbook: lookup-p95 (lookup p95 < 10ms)")
    assert "* **page** when the error budget burns at 14.4x the budget rate over 1 h" in text
    assert "* **ticket** when the error budget burns at 1x the budget rate over 3 d" in text
    assert "1,000,000 requests per window at the measured rate -> 50,000 failures allowed" \
        in text
    assert "1. database in lookup (81% of latency)\n\n" in text  # only lookup's bottlenecks
    assert "* database in lookup: suggested optimization type database" in text
    assert "STOP feature work" in text and "perfopt-engine apply specs/user-lookup.yaml" in text


def test_an_slo_without_an_error_budget_pages_on_its_objective_not_on_burn_rates() -> None:
    """The quick start's throughput cards paged 'when the error budget burns at 14.4x' for an
    SLO no budget table listed."""
    check = {"slo": "throughput", "metric": "throughput", "target": ">= 70/s",
             "journey": None, "value_text": "80/s", "status": "PASS"}
    text = runbook(SPEC, check)
    assert "burns at" not in text and "Budget" not in text
    assert ("* **page** when throughput breaks >= 70/s (this SLO has no error budget: no "
            "burn-rate alert)") in text
    assert "STOP feature work" not in text
    assert text.rstrip().endswith("`perfopt-engine apply specs/user-lookup.yaml` passes the "
                                  "slo gate.")


def test_the_lessons_file_accumulates_the_ledger_newest_first() -> None:
    text = lessons_file(SPEC, SPEC["lessons_ledger"])
    assert "## What worked\n\n* H1 Index: p95 -84%" in text
    assert "## What did not, and why\n\n* H2 Cache: no change" in text
    assert "## Recommendations\n\n* Measure H2" in text
    assert text.index("2026-11-02T10:00:00") < text.index("2026-11-01T10:00:00")


def test_documents_names_every_file() -> None:
    doc = {"generated_at": "2026-11-29T10:00:00Z",
           "specs": [dict(SPEC, hypotheses=[_h("CONFIRMED", 84.0), _h("REFUTED", 1.0, "H2"),
                                            _h("INCONCLUSIVE", None, "H3")])]}
    assert sorted(documents(doc)) == ["adr/user-lookup-H1.md", "adr/user-lookup-H2.md",
                                      "lessons/user-lookup.md",
                                      "runbooks/user-lookup-lookup-p95.md"]


def test_a_cause_and_the_queueing_behind_it_are_read_together() -> None:
    """user-lookup's lookup-p95 runbook listed the queueing behind db time in stats but not
    the cause; its stats-p95 runbook the cause but not the 73% queueing; H2's ADR left the
    queueing out. A journey's bottlenecks bring their linked cause or symptom along."""
    ranked = [{"rank": 1, "name": "db time in stats", "journeys": ["stats"], "behind": "",
               "share_text": "26.5%", "suggestion": "database"},
              {"rank": 2, "name": "queueing outside the handlers", "share_text": "73.1%",
               "journeys": ["lookup", "profile"], "behind": "db time in stats",
               "suggestion": "database"},
              {"rank": 3, "name": "app time in profile", "journeys": ["profile"], "behind": "",
               "share_text": "1%", "suggestion": "algorithm"}]
    names = [b["name"] for b in of_journey(ranked, "stats")]
    assert names == ["db time in stats", "queueing outside the handlers"]
    names = [b["name"] for b in of_journey(ranked, "lookup")]
    assert names == ["db time in stats", "queueing outside the handlers"]
    assert [b["name"] for b in of_journey(ranked, None)] == [b["name"] for b in ranked]
    check = {"slo": "lookup-p95", "metric": "lookup p95", "target": "< 50ms",
             "journey": "lookup", "value_text": "1 ms", "status": "PASS"}
    text = runbook({**SPEC, "bottlenecks": ranked}, check)
    assert "1. db time in stats (26.5%)\n2. queueing outside the handlers (73.1%)" in text
