"""Markdown of a run's request details: status codes and error causes per journey, per-step
figures of multi-step journeys, checks, journey instances ended early, redirects followed
and per-tag results (the HTML report renders the same Markdown)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.report import details_text as dt
from engine.report.md_parts import bullets, table

__all__ = ["TITLE", "checks_block", "details_body", "request_details"]

Doc = Mapping[str, Any]
TITLE = "Requests by status, step, check and tag"


def _statuses(run: Doc) -> list[str]:
    journeys = [j for j in run.get("journeys") or [] if j.get("statuses") or j.get("errors")]
    if not journeys:
        return []
    parts = ["**Status codes**\n\n" + table(
        ["Journey", "Requests", "Status codes", "Redirects followed"],
        [[j["name"], str(j["requests"]), dt.status_text(j) or "—", str(j.get("redirects", 0))]
         for j in journeys])]
    sentences = [s for j in journeys if (s := dt.error_sentence(j))]
    if sentences:
        parts.append(bullets(f"{s}." for s in sentences))
    return parts


def _steps(run: Doc) -> list[str]:
    return [f"**Steps of {j['name']}**\n\n" + table(
        ["Step", "Requests", "p50", "p95", "p99", "Errors", "Error rate"], dt.step_rows(j))
        for j in dt.multi_step(run)]


def checks_block(run: Doc) -> str:
    """The checks table ('' without checks): a check that failed at least once reads FAIL."""
    rows = dt.check_rows(run)
    if not rows:
        return ""
    return "**Checks**\n\n" + table(["Journey", "Step", "Check", "Passed", "Failed",
                                     "Pass rate", "Result"], rows)


def _ended(run: Doc) -> list[str]:
    rows = [[j["name"], e["reason"], str(e["count"])]
            for j in run.get("journeys") or [] for e in j.get("ended") or []]
    if not rows:
        return []
    return ["**Journey instances ended early**\n\n"
            + table(["Journey", "Reason", "Instances"], rows)]


def _tags(run: Doc) -> list[str]:
    rows = dt.tag_rows(run)
    if not rows:
        return []
    return ["**Tags**\n\n" + table(["Tag", "Journeys", "Requests", "p50", "p95", "p99",
                                    "Errors", "Error rate"], rows)]


def details_body(run: Doc) -> str:
    """The run's request details: status codes and error causes, steps, checks, ended
    instances, tags (each only where the run has some)."""
    checks = checks_block(run)
    parts = [f"Run `{run['id']}`; times are response times of each step's requests (a "
             "followed redirect chain is one request).",
             *_statuses(run), *_steps(run), *([checks] if checks else []), *_ended(run),
             *_tags(run)]
    return "\n\n".join(parts)


def request_details(spec: Doc) -> str:
    """The details subsection of the spec's primary run; '' when it carries none."""
    run = dt.details_run(spec)
    return "" if run is None else f"### {TITLE}\n\n{details_body(run)}"
