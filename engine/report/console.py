"""Terminal summary of an apply: computed from the report document, printed only by the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.advice_text import first_screen
from engine.report.details_text import details_run, plain_lines
from engine.report.fmt import target_output_tail
from engine.report.md_loadtests import recovery_text, regression_notes, spike_shape

Doc = Mapping[str, Any]


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return out


def _margin(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.1f}%"


def _slo_rows(spec: Doc) -> list[list[str]]:
    return [[c["slo"], c["metric"], c["value_text"], c["target"], _margin(c["margin"]),
             f"±{c['error_bound'] * 100:.2g}%" if c["error_bound"] else "", c["status"]]
            for c in spec["slo_checks"]]


def _slo_reasons(spec: Doc) -> list[str]:
    """Why an SLO has no margin: the reason of each check that could not be judged."""
    return [f"  {c['slo']}: {c['status']}: {c['message']}" for c in spec["slo_checks"]
            if c["status"] in ("INCONCLUSIVE", "INVALID") and c.get("message")]


_SAID_ABOVE = frozenset({"slo", "hypothesis"})
"""Gate kinds whose undecided reasons the lines above already print: each SLO check's
(``_slo_reasons``) and each hypothesis' verdict and message."""


def _gate_reasons(spec: Doc) -> list[str]:
    """Why a gate is undecided: its message under the gates line (a FAIL or an INVALID
    says why in the spec's messages and notes; an INCONCLUSIVE gate said nothing here),
    once: not for the kinds whose reasons are printed above (``_SAID_ABOVE``)."""
    return [f"  {g['name']}: {g['status']}: {g['message']}" for g in spec["gates"]
            if g["status"] == "INCONCLUSIVE" and g.get("message")
            and g.get("kind") not in _SAID_ABOVE]


def _spec_lines(spec: Doc) -> list[str]:
    lines = [f"== {spec['name']} ({spec['component']}, trigger {spec['trigger']}): "
             f"{spec['verdict']} [{spec['status']}]"]
    if spec["slo_checks"]:
        lines += _table(_slo_rows(spec), ["SLO", "metric", "value", "target", "margin",
                                          "resolution", "verdict"])
        lines += _slo_reasons(spec)
    for h in spec["hypotheses"]:
        lines.append(f"hypothesis {h['id']}: {h['verdict']} - {h['message']}")
    for b in spec["error_budgets"]:
        lines.append(f"budget {b['slo']}: burn {b['burn_rate']:.2f}x ({b['tier']}); {b['policy']}")
    lines += _analysis_lines(spec)
    run = details_run(spec)
    lines += plain_lines(run) if run is not None else []
    gates = [f"{g['name']}={g['status']}" + ("" if g["decides_exit"] else "(info)")
             for g in spec["gates"]]
    lines.append("gates: " + ", ".join(gates))
    lines += _gate_reasons(spec)
    lines += [f"! {m}" for m in spec["messages"]]
    lines += [f"! note: {n}" for n in regression_notes(spec.get("regression"))]
    lines += [f"{head.lower()}: {x}" for head, xs in first_screen(spec) for x in xs]
    lines += _target_output(spec)
    return lines


def _target_output(spec: Doc) -> list[str]:
    last = target_output_tail(spec)
    if not last:
        return []
    return [f"--- target output (last {len(last)} lines) ---", *(f"  | {x}" for x in last)]


def _analysis_lines(spec: Doc) -> list[str]:
    """One line per load-test analysis that ran, and the top bottleneck."""
    out = []
    if spec["stress"]:
        s = spec["stress"]
        out.append(f"stress: {s['message']}")
    if spec["soak"]:
        leak = spec["soak"]["leak"]
        out.append(f"soak: {leak['verdict']} ({leak['metric']}), p95 change "
                   f"{_pct(spec['soak']['degradation']['p95_change'])}")
    if spec["spike"]:
        sp = spec["spike"]
        out.append(f"spike: {spike_shape(sp)}; {recovery_text(sp)}")
    if spec["capacity"]:
        broke = {o["rate"] for o in (spec["stress"] or {}).get("others") or []
                 if not o["passed"]}
        pts = ", ".join(f"{p['multiplier']:g}x {_capacity_word(p, broke)}"
                        for p in spec["capacity"]["points"])
        out.append(f"capacity: {pts}")
    if spec["bottlenecks"]:
        b = spec["bottlenecks"][0]
        out.append(f"top bottleneck: {b['name']} "
                   f"({b.get('share_text') or format(b['share'], '.1%') + ' of latency'})")
    return out


def _capacity_word(point: Doc, broke: set[float]) -> str:
    """'ok' (SLOs held), 'FAIL', or 'ok (SLOs; stress limits broken)' for a scenario whose
    run the stress breaking point counts as failed (``stress.others`` at its rate, as
    engine.analysis.bottleneck_runs reads it)."""
    if not point["slo_pass"]:
        return "FAIL"
    return "ok (SLOs; stress limits broken)" if point["rate"] in broke else "ok"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def render_summary(doc: Doc, written: Sequence[str] = ()) -> str:
    """The end-of-run summary: per spec an SLO table, hypotheses, budgets, gates, messages."""
    lines: list[str] = []
    for spec in doc["specs"]:
        lines += _spec_lines(spec)
        lines.append("")
    latest = [w for w in written if "-latest." in w and "+" not in w]
    if written:
        lines.append(f"reports ({len(written)} files): " + ", ".join(latest or written))
    lines.append(f"verdict: {doc['verdict']} (exit {doc['exit_code']})")
    return "\n".join(lines)
