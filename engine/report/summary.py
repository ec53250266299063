"""Short Markdown summary for CI job pages (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.report.advice_text import first_screen
from engine.report.details_text import details_run, error_sentence, status_text
from engine.report.fmt import fmt_pct, fmt_rate, fmt_s, primary_runs
from engine.report.markdown import title
from engine.report.md_details import TITLE, details_body
from engine.report.md_parts import table
from engine.report.slo_table import compliance_cell

__all__ = ["ENV_VAR", "append_step_summary", "render"]

ENV_VAR = "GITHUB_STEP_SUMMARY"
Doc = Mapping[str, Any]
_ICON = {"PASS": "✅", "FAIL": "❌", "INVALID": "⚠️", "INCONCLUSIVE": "❔"}


def _spec(doc: Doc, spec: Doc) -> str:
    verdict = str(spec.get("verdict"))
    lines = [f"### {_ICON.get(verdict, '•')} {title(spec)}: {verdict}"]
    lines += [f"- {m}" for m in spec.get("messages") or []]
    lines += [f"- **{head}**: {x}" for head, xs in first_screen(spec) for x in xs]
    runs = primary_runs(spec)
    if runs:
        r = runs[0]
        lines.append(f"\n`{r['id']}`: p50 {fmt_s(r['latency']['p50'])}, p95 "
                     f"{fmt_s(r['latency']['p95'])}, p99 {fmt_s(r['latency']['p99'])}, "
                     f"{fmt_rate(r['achieved_rate'])}, errors {fmt_pct(r['error_rate'], 3)}")
    lines += _details(spec)
    checks = spec.get("slo_checks") or []
    if checks:
        lines.append("\n" + table(["SLO", "Result"], [
            [c["slo"], compliance_cell(c["status"], c["value_text"], c["target"])]
            for c in checks]))
    gates = spec.get("gates") or []
    if gates:
        lines.append("\n" + table(["Gate", "Status", "Message"],
                                  [[g["name"], g["status"], g["message"]] for g in gates]))
    return "\n".join(lines)


def _details(spec: Doc) -> list[str]:
    """Status codes and error causes in view; every request detail in a collapsed block."""
    run = details_run(spec)
    if run is None:
        return []
    journeys = run.get("journeys") or []
    codes = "; ".join(f"{j['name']} {status_text(j)}" for j in journeys if j.get("statuses"))
    lines = [f"\nStatus codes: {codes}"] if codes else []
    lines += [f"- {s}" for j in journeys if (s := error_sentence(j))]
    lines.append(f"\n<details><summary>{TITLE}</summary>\n\n{details_body(run)}\n\n</details>")
    return lines


def render(doc: Doc) -> str:
    """A few lines per spec: verdict, flow messages, key latencies, SLOs and gates."""
    head = f"## perfopt-engine: {doc.get('verdict')} (exit code {doc.get('exit_code')})"
    body = "\n\n".join(_spec(doc, s) for s in doc.get("specs") or [])
    return f"{head}\n\n{body}\n"


def append_step_summary(doc: Doc, environ: Mapping[str, str]) -> Path | None:
    """Append ``render(doc)`` to the file named by ``$GITHUB_STEP_SUMMARY``; None when unset.

    Appending (not replacing) is what GitHub expects: several steps share the file.
    ``doc`` must already be redacted (``write_reports`` redacts only its own copy):
    ``apply``'s document is redacted as it is built (``engine.report.assemble``), and the
    ``report`` command redacts the file it read before calling this.
    """
    target = environ.get(ENV_VAR, "").strip()
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(render(doc) + "\n")
    return path
