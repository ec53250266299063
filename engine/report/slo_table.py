"""SLO compliance before/after as ``PASS|FAIL (value vs target)``.

"After" is the SLO check of this apply. "Before" is, in order of preference: a
``before`` record the analysis put on the check, the matching hypothesis' baseline
measurement, or the regression baseline from history. Nothing found: said so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.report.fmt import fmt_value
from engine.report.md_parts import no_data, table
from engine.units import UnitError, format_value, parse_comparison

__all__ = ["before_cell", "compliance_cell", "slo_compliance"]

Doc = Mapping[str, Any]
_KIND = {"latency": "duration", "throughput": "rate", "error_rate": "percent",
         "availability": "percent"}


def compliance_cell(status: str, value_text: str, target: str) -> str:
    """``PASS (182 ms vs < 200ms)``."""
    return f"{status} ({value_text} vs {target})"


def _metric_key(check: Doc) -> str:
    if check.get("sli") == "latency":
        return str(check.get("metric", "")).split()[-1] if check.get("metric") else "p95"
    return str(check.get("sli"))


def _judge(check: Doc, value: float) -> str:
    try:
        cmp = parse_comparison(str(check["target"]), _KIND.get(str(check.get("sli")), "duration"))
    except (UnitError, KeyError):
        return "MEASURED"
    return "PASS" if cmp.holds(value) else "FAIL"


def _before_value(spec: Doc, check: Doc) -> tuple[float, str] | None:
    key, journey = _metric_key(check), check.get("journey")
    for h in spec.get("hypotheses") or []:
        if h.get("metric") == key and h.get("journey") == journey and h.get("before") is not None:
            return float(h["before"]), f"hypothesis {h['id']} baseline"
    regression = spec.get("regression") or {}
    for r in regression.get("checks") or []:
        if r.get("metric") == key and r.get("journey") == journey and r.get("baseline") is not None:
            return float(r["baseline"]), "history baseline"
    return None


def before_cell(spec: Doc, check: Doc) -> str:
    """The "before" compliance of one SLO check, or a dash with the reason."""
    explicit = check.get("before")
    if isinstance(explicit, Mapping) and explicit.get("value") is not None:
        text = explicit.get("value_text") or fmt_value(_metric_key(check), explicit["value"])
        status = explicit.get("status") or _judge(check, float(explicit["value"]))
        return compliance_cell(str(status), str(text), str(check["target"]))
    found = _before_value(spec, check)
    if found is None:
        return "— (not measured)"
    value, source = found
    text = _value_text(check, value)
    return compliance_cell(_judge(check, value), text, str(check["target"])) + f", {source}"


def _value_text(check: Doc, value: float) -> str:
    # the same formatter as the check's own value_text, so Before and After read alike
    return format_value(str(check.get("sli")), value)


def _margin(check: Doc) -> str:
    m = check.get("margin")
    return "—" if m is None else f"{float(m) * 100:+.1f}%"


def _bound(check: Doc) -> str:
    b = check.get("error_bound")
    # a counted SLI (errors, throughput) has no histogram bucket error to state
    return "—" if not b else f"±{float(b) * 100:.2g}%"


def slo_compliance(spec: Doc) -> str:
    """The SLO table of one spec; one line when the spec declares no SLO check."""
    checks = spec.get("slo_checks") or []
    if not checks:
        return no_data("No SLO was checked in this apply.")
    rows = [[c["slo"], c["metric"], c["target"], before_cell(spec, c),
             compliance_cell(c["status"], c["value_text"], c["target"]), _margin(c), _bound(c)]
            for c in checks]
    return table(["SLO", "Metric", "Target", "Before", "After", "Margin", "Resolution"], rows)
