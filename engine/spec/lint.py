"""Warnings about a spec that loads but cannot deliver what it asks for.

Unlike ``SpecError`` these never stop a run: the exit code is unchanged. On the records
(``spec_warnings``): a latency SLO whose name states another percentile than it measures
('stats-p95' with ``percentile: 90``); a latency SLO's percentile needs ``MIN_TAIL_SAMPLES`` requests beyond
it (p95 -> 200, p99 -> 1000) before it may decide anything; a profile that sends fewer
leaves the SLO INCONCLUSIVE at run time (and the strict ``slo`` gate FAILS it), so say so
up front. On the document (``document_warnings``, file:line:col): text that looks like an
environment variable but is not substituted (``$API_TOKEN``, ``{API_TOKEN}``,
``{{API_TOKEN}}``, ``%(API_TOKEN)s``, ``$(API_TOKEN)``: sent as written), a ``${...}`` in a
mapping key (keys are not substituted), and a value taken from the environment too short
for the reports to remove wherever it appears (``engine.redact.MIN_LITERAL``).
Pure arithmetic and text: no numpy or native code (validate and --dry-run stay fast).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from engine.redact import MIN_LITERAL, secret_names
from engine.spec.envsubst import REFERENCE, is_name, string_values
from engine.spec.errors import format_path
from engine.spec.model import LoadProfile, Slo, Spec
from engine.spec.source import Document, Path_, token_position

__all__ = ["MIN_TAIL_SAMPLES", "document_warnings", "named_percentile", "percentile_samples_needed",
           "slo_profile", "spec_warnings"]

MIN_TAIL_SAMPLES = 10
"""Recorded values expected beyond a percentile before it may decide (p99 -> 1000)."""

_JUDGED_KINDS = ("baseline", "soak", "spike")
"""Profiles apply judges the SLOs on (outcome.primary): single runs, not stress/capacity."""


def percentile_samples_needed(percentile: float, min_tail: int = MIN_TAIL_SAMPLES) -> int:
    """Requests a ``percentile`` (e.g. 99.0) needs: ``min_tail`` beyond it; 0 for 100."""
    tail = 1.0 - percentile / 100.0
    return math.ceil(min_tail / tail - 1e-9) if tail > 0 else 0


def slo_profile(spec: Spec) -> LoadProfile | None:
    """The profile the SLOs are judged on: the baseline, else the first single-run profile."""
    judged = [p for p in spec.profiles if p.kind in _JUDGED_KINDS]
    return next((p for p in judged if p.kind == "baseline"), judged[0] if judged else None)


def _sent(p: LoadProfile) -> tuple[float, str] | None:
    """(requests the profile schedules, the arithmetic as text); None when unknowable
    (closed model, CSV replay)."""
    if p.stages:
        if any(s.rate is None for s in p.stages):
            return None
        total, prev = 0.0, 0.0
        for stage in p.stages:
            total += (prev + (stage.rate or 0.0)) / 2 * stage.duration_s
            prev = stage.rate or 0.0
        return total, f"{len(p.stages)} stages totalling {total:.0f} requests"
    if p.base_rate is not None and p.peak_rate is not None:
        parts = [(p.base_rate, p.before_s or 0.0), (p.peak_rate, p.spike_s or 0.0),
                 (p.base_rate, p.after_s or 0.0)]
        return (sum(r * d for r, d in parts),
                " + ".join(f"{r:g}/s x {d:g}s" for r, d in parts))
    if p.rate is not None and p.duration_s > 0:
        return p.rate * p.duration_s, f"{p.rate:g}/s x {p.duration_s:g}s"
    return None


def _slo_warning(spec: Spec, slo: Slo, profile: LoadProfile, sent: tuple[float, str]) -> str:
    pct = slo.sli.percentile
    if slo.sli.kind != "latency" or pct is None:
        return ""
    need = percentile_samples_needed(pct)
    requests, text = sent
    weights = {j.name: j.weight for j in spec.journeys}
    journey = slo.sli.journey
    if journey is not None and journey in weights and len(weights) > 1:
        share = weights[journey] / sum(weights.values())
        requests *= share
        text += f" x {share:.0%} ({journey})"
    if requests >= need:
        return ""
    where = slo.location or spec.source
    return (f"{where}: warning: slo {slo.name!r}: {profile.name} sends about {text} = "
            f"{requests:.0f} requests, a p{pct:g} needs at least {need}")


def spec_warnings(spec: Spec) -> list[str]:
    """One line per SLO whose name states another percentile than it measures, and per SLO
    its judged profile cannot measure with enough requests."""
    named = [w for slo in spec.slos if (w := _name_warning(spec, slo))]
    profile = slo_profile(spec)
    sent = _sent(profile) if profile is not None else None
    if profile is None or sent is None:
        return named
    return named + [w for slo in spec.slos if (w := _slo_warning(spec, slo, profile, sent))]


_NAMED_PERCENTILE = re.compile(r"(?<![a-z0-9])p(\d{2,4}(?:\.\d+)?)(?![a-z0-9.])", re.IGNORECASE)
"""A percentile in an SLO's name: p95, p99.9, p999 (= 99.9), P50."""


def named_percentile(name: str) -> float | None:
    """The percentile an SLO's name states ('stats-p95' -> 95.0, 'api_p999' -> 99.9,
    'p100' -> 100.0); None when it states none or no percentile reads that way ('p120')."""
    m = _NAMED_PERCENTILE.search(name)
    if m is None:
        return None
    digits = m.group(1)
    if "." in digits or len(digits) <= 2 or digits == "100":
        value = float(digits)
    elif digits.startswith("9"):  # p999 = 99.9, p9999 = 99.99, p995 = 99.5
        value = float(f"{digits[:2]}.{digits[2:]}")
    else:
        return None
    return value if 0 < value <= 100 else None


def _name_warning(spec: Spec, slo: Slo) -> str:
    """An SLO named 'stats-p95' that measures p90 reads as a p95 in every report."""
    pct, said = slo.sli.percentile, named_percentile(slo.name)
    if slo.sli.kind != "latency" or pct is None or said is None or math.isclose(said, pct):
        return ""
    where = slo.location or spec.source
    return (f"{where}: warning: slo {slo.name!r}: its name says p{said:g} but it measures "
            f"p{pct:g} (percentile: {pct:g}): every report shows the name beside the p{pct:g}")


_LOOKALIKE = re.compile(
    r"(?<![$\w])\$(?P<a>[A-Z][A-Z0-9_]*)\b"  # $API_TOKEN (shell style)
    r"|(?<![$\w{])\{(?P<b>[A-Z][A-Z0-9_]*)\}(?!\})"  # {API_TOKEN} ({seq}, {uuid} are lower case)
    r"|\{\{\s*(?P<c>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}"  # {{API_TOKEN}} (Postman, Jinja)
    r"|%\((?P<d>[A-Za-z_][A-Za-z0-9_]*)\)s"  # %(API_TOKEN)s (Python)
    r"|(?<!\$)\$\((?P<e>[A-Z][A-Z0-9_]*)\)")  # $(API_TOKEN) (make)
"""Text that looks like an environment variable but is not the ``${NAME}`` form."""


def document_warnings(doc: Document, environ: Mapping[str, str]) -> list[str]:
    """Warnings about the environment in one parsed document, each at file:line:col."""
    out: list[tuple[int, int, str]] = []
    for path, token, nth, text in _env_findings(doc.data, environ):
        line, col = token_position(doc, path, token, nth) if token else doc.lines[path]
        out.append((line, col, f"{doc.file}:{line}:{col}: warning: {format_path(path)}: {text}"))
    return [text for _, _, text in sorted(out)]


def _env_findings(data: Any, environ: Mapping[str, str]) -> Iterator[tuple[Path_, str, int, str]]:
    """(path, token as written, which occurrence in the value, what to say)."""
    secret = secret_names()
    for path, value in string_values(data):
        for m in _LOOKALIKE.finditer(value):
            name = next(g for g in m.groups() if g)
            yield (path, m.group(0), value.count(m.group(0), 0, m.start()),
                   f"{m.group(0)!r} is not substituted (it is sent as written); to take {name} "
                   f"from the environment write ${{{name}}}")
        for m in REFERENCE.finditer(value):
            name = m.group("name")
            short = environ.get(name, "") if name and not is_name(path) else ""
            if short and len(short) < MIN_LITERAL and str(path[-1]).lower() not in secret:
                yield (path, m.group(0), value.count(m.group(0), 0, m.start()),
                       f"the value of {name} is {len(short)} character(s): the reports remove "
                       f"a value from the environment only when it has at least {MIN_LITERAL} "
                       "(or stands under a secret name)")
    yield from _keys_with_references(data, ())


def _keys_with_references(data: Any, path: Path_) -> Iterator[tuple[Path_, str, int, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            child = (*path, str(key))
            if "${" in str(key):
                yield (child, "", 0, f"mapping keys are not substituted: {str(key)!r} is used "
                                     "as written")
            yield from _keys_with_references(value, child)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _keys_with_references(item, (*path, i))
