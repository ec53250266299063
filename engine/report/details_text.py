"""Request details in words, for every renderer: the top status codes of a journey, the
error sentence naming its codes, which run's details a report shows, and the terminal's
plain-text lines (status codes, steps, checks, ended instances, redirects, tags).

Everything is read from the document (``Run.journeys[].statuses`` etc., docs/REPORT_FORMAT.md);
nothing is computed here but the order and the words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.fmt import fmt_pct, fmt_s, primary_runs

__all__ = ["TOP_CODES", "check_result", "check_rows", "details_run", "error_sentence",
           "has_details", "multi_step", "plain_lines", "status_text", "step_rows", "tag_rows"]

Doc = Mapping[str, Any]
TOP_CODES = 5
"""Status codes named per journey; the rest are summed as 'other'."""


def status_text(journey: Doc, top: int = TOP_CODES) -> str:
    """'200 x 950, 401 x 50': the journey's most frequent status codes with their counts
    ('profile 200 200' read as two codes)."""
    codes = sorted((journey.get("statuses") or {}).items(), key=lambda c: (-c[1], c[0]))
    text = ", ".join(f"{code} x {n}" for code, n in codes[:top])
    rest = sum(n for _, n in codes[top:])
    return text + (f", other x {rest}" if rest else "")


def _causes(journey: Doc, top: int = TOP_CODES) -> str:
    causes = journey.get("error_causes") or []
    text = ", ".join(f"{c['cause']} x {c['count']}" for c in causes[:top])
    rest = sum(c["count"] for c in causes[top:])
    return text + (f", other x {rest}" if rest else "")


def error_sentence(journey: Doc) -> str:
    """'create: 50 errors (401 x 50)'; '' when the journey had no error."""
    errors = int(journey.get("errors") or 0)
    if not errors:
        return ""
    causes = _causes(journey)
    noun = "error" if errors == 1 else "errors"
    return f"{journey['name']}: {errors} {noun}" + (f" ({causes})" if causes else "")


def has_details(run: Doc) -> bool:
    """Whether the run carries any request detail (documents before revision 2 do not)."""
    keys = ("statuses", "steps", "checks", "ended", "redirects")
    return bool(run.get("tags")) or any(j.get(k) for j in run.get("journeys") or [] for k in keys)


def details_run(spec: Doc) -> Doc | None:
    """The run whose request details the reports show: the spec's primary run (the
    baseline's, else the first profile's), when it has any."""
    runs = primary_runs(spec)
    return runs[0] if runs and has_details(runs[0]) else None


def multi_step(run: Doc) -> list[Doc]:
    """The run's journeys with per-step results."""
    return [j for j in run.get("journeys") or [] if j.get("steps")]


def step_rows(journey: Doc) -> list[list[str]]:
    """Step, requests, p50, p95, p99, errors, error rate of each step."""
    return [[s["name"], str(s["requests"]), fmt_s(s["p50"]), fmt_s(s["p95"]), fmt_s(s["p99"]),
             str(s["errors"]), fmt_pct(s["error_rate"], 3)] for s in journey["steps"]]


def check_result(c: Doc) -> str:
    """FAIL when the check failed at least once, NOT RUN when no response ever reached it
    (timeouts, an earlier step that ended the instance), else PASS."""
    if not c["passed"] and not c["failed"]:
        return "NOT RUN"
    return "FAIL" if c["failed"] else "PASS"


def check_rows(run: Doc) -> list[list[str]]:
    """Journey, step, check, passed, failed, pass rate, result of every check."""
    return [[j["name"], c.get("step_name") or "—",
             c["name"] + (" (fails the request)" if c.get("fail_request") else ""),
             str(c["passed"]), str(c["failed"]), fmt_pct(c["pass_rate"], 2), check_result(c)]
            for j in run.get("journeys") or [] for c in j.get("checks") or []]


def tag_rows(run: Doc) -> list[list[str]]:
    """Tag, journeys, requests, p50, p95, p99, errors, error rate of every tag."""
    return [[t["tag"], ", ".join(t["journeys"]), str(t["requests"]), fmt_s(t["p50"]),
             fmt_s(t["p95"]), fmt_s(t["p99"]), str(t["errors"]), fmt_pct(t["error_rate"], 3)]
            for t in run.get("tags") or []]


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]
    return ["  " + line for line in out]


STEP_HEAD = ("step", "requests", "p50", "p95", "p99", "errors", "error rate")
CHECK_HEAD = ("journey", "step", "check", "passed", "failed", "pass rate", "result")
TAG_HEAD = ("tag", "journeys", "requests", "p50", "p95", "p99", "errors", "error rate")


def plain_lines(run: Doc) -> list[str]:
    """The run's request details as plain text (terminal, JUnit system-out)."""
    journeys = run.get("journeys") or []
    codes = [f"{j['name']} {status_text(j)}" for j in journeys if j.get("statuses")]
    lines = [f"status codes ({run['id']}): " + "; ".join(codes)] if codes else []
    lines += [f"errors: {s}" for j in journeys if (s := error_sentence(j))]
    for j in multi_step(run):
        lines += [f"steps of {j['name']}:", *_table(step_rows(j), STEP_HEAD)]
    checks = check_rows(run)
    if checks:
        lines += ["checks:", *_table(checks, CHECK_HEAD)]
    lines += [f"ended early: {j['name']}: {e['reason']} x {e['count']}"
              for j in journeys for e in j.get("ended") or []]
    followed = [f"{j['name']} {j['redirects']}" for j in journeys if j.get("redirects")]
    lines += ["redirects followed: " + ", ".join(followed)] if followed else []
    tags = tag_rows(run)
    if tags:
        lines += ["tags:", *_table(tags, TAG_HEAD)]
    return lines
