"""Human formatting of document values (seconds, rates, fractions, bytes) for renderers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.units import format_level

__all__ = [
    "cell", "ci_label", "ci_level_note", "fmt_bytes", "fmt_change", "fmt_num", "fmt_pct",
    "fmt_rate", "fmt_s", "fmt_value", "level_note", "primary_runs", "shown_status", "target_output_tail",
]

TAIL_LINES = 10
"""Lines of a failed managed target's output shown under the error."""


def target_output_tail(spec: Mapping[str, Any]) -> list[str]:
    """The last lines a managed target printed when it failed to start or died (the
    document's copy, already redacted); [] otherwise. Terminal and Markdown show these."""
    tail = (spec.get("target") or {}).get("output_tail")
    if not tail or spec.get("status") != "BLOCKED":
        return []
    return str(tail).rstrip("\n").splitlines()[-TAIL_LINES:]

DASH = "—"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def fmt_s(seconds: Any) -> str:
    """0.0123 -> '12.3 ms' (3 significant digits); None -> '—'."""
    if _missing(seconds):
        return DASH
    s = float(seconds)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return "0 ms" if s == 0 else f"{s / 1e-9:.3g} ns"


def fmt_rate(per_second: Any) -> str:
    """1234.5 -> '1,234/s', 12.34 -> '12.3/s'."""
    if _missing(per_second):
        return DASH
    r = float(per_second)
    return f"{r:,.0f}/s" if r >= 100 else f"{r:.3g}/s"


def fmt_pct(fraction: Any, digits: int = 2) -> str:
    """0.00123 -> '0.12%' (a fraction in [0, 1] as percent)."""
    if _missing(fraction):
        return DASH
    pct = float(fraction) * 100.0
    if pct != 0 and abs(pct) < 10 ** -digits:
        return f"{pct:.2g}%"
    return f"{pct:.{digits}f}%"


def fmt_change(ratio: Any) -> str:
    """-0.42 -> '-42.0%', +0.1 -> '+10.0%'."""
    return DASH if _missing(ratio) else f"{float(ratio) * 100:+.1f}%"


def fmt_bytes(n: Any) -> str:
    """Bytes with binary units: 1536 -> '1.5 KiB'."""
    if _missing(n):
        return DASH
    v = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(v) < 1024 or unit == "GiB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return f"{v:.1f} GiB"


def fmt_num(v: Any, digits: int = 3) -> str:
    """A plain number with ``digits`` significant digits; None -> '—'."""
    return DASH if _missing(v) else f"{float(v):.{digits}g}"


def fmt_value(metric: str, value: Any) -> str:
    """Format a metric value by its name: latency metrics in time, rates, ratios."""
    m = metric.split()[-1] if metric else ""
    if m in ("throughput", "rate") or (m.endswith("_rate") and m != "error_rate"):
        return fmt_rate(value)
    if m in ("error_rate", "availability"):
        return fmt_pct(value, 3)
    return fmt_s(value)


def cell(text: Any) -> str:
    """Make ``text`` safe inside a Markdown table cell (no pipes, no newlines)."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip() or DASH


def primary_runs(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The first run of each profile kind against the spec's own target (not A/B variants)."""
    seen: dict[str, Mapping[str, Any]] = {}
    runs: Sequence[Mapping[str, Any]] = spec.get("runs", [])
    for run in runs:
        if run.get("variant", "") == "" and run.get("kind") not in seen:
            seen[str(run.get("kind"))] = run
    if not seen and runs:
        seen[str(runs[0].get("kind"))] = runs[0]
    order = ("baseline", "stress", "soak", "spike", "capacity")
    return sorted(seen.values(),
                  key=lambda r: order.index(r["kind"]) if r.get("kind") in order else 9)


def ci_label(items: Sequence[Mapping[str, Any]]) -> str:
    """'98% CI' from the first item stating its confidence; 'CI' when none does."""
    level = next((i["confidence"] for i in items if i.get("confidence")), None)
    return f"{format_level(level)} CI" if level else "CI"


def ci_level_note(item: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> str:
    """' (99.3%)' after an interval whose level differs from its column's (``ci_label``): a
    journey's check re-judged at its share of the gate's error (engine.analysis.
    regression_family) under a '98% CI' header; '' otherwise."""
    if item.get("ci_low") is None or item.get("ci_high") is None:
        return ""
    return level_note(item.get("confidence"), ci_label(items))


def level_note(level: float | None, header: str) -> str:
    """' (99.3%)' when an interval's ``level`` is not its column ``header``'s ('98% CI'):
    the one rule the report's tables (``ci_level_note``) and `compare` share."""
    return f" ({format_level(level)})" if level and f"{format_level(level)} CI" != header else ""


def shown_status(status: str, judged: bool = True) -> str:
    """A regression check's status as every table shows it (Markdown, HTML, `compare`):
    'not judged' when it does not hold the gate (``judged`` false); an INCONCLUSIVE there
    would read as the reason a PASS gate is not PASS."""
    return status if judged else "not judged"
