"""Self-contained HTML report: the Markdown report (markdown-it-py) plus inline SVG charts.

No scripts, fonts, images or stylesheets are fetched: everything is inline, so the
file opens offline and from CI artifacts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markdown_it import MarkdownIt

from engine.report import charts, flame, markdown
from engine.report import md_loadtests as lt
from engine.report.advice_text import first_screen
from engine.report.fmt import fmt_pct, fmt_rate, fmt_s, primary_runs
from engine.report.html_style import CSS
from engine.report.md_production import production_chart

__all__ = ["render"]

Doc = Mapping[str, Any]
_STATUS_RE = re.compile(r"<td>(PASS|FAIL|INCONCLUSIVE|INVALID|MANUAL|NOT_RUN|ABORTED|NO|yes"
                        r"|CONFIRMED|REFUTED)\b")


def _md() -> MarkdownIt:
    # html=False: document strings are data, never markup (no injection from a target's output)
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _badge(status: str) -> str:
    return f'<span class="badge v-{escape(status.lower())}">{escape(status)}</span>'


def _kpi(label: str, value: str, note: str = "") -> str:
    small = f'<div class="kpi-note">{escape(note)}</div>' if note else ""
    return (f'<div class="kpi"><div class="kpi-label">{escape(label)}</div>'
            f'<div class="kpi-value">{escape(value)}</div>{small}</div>')


def _kpis(spec: Doc) -> str:
    runs = primary_runs(spec)
    checks = spec.get("slo_checks") or []
    passed = sum(1 for c in checks if c["status"] == "PASS")
    cards = []
    if runs:
        r = runs[0]
        cards += [_kpi("p95 latency", fmt_s(r["latency"]["p95"]), r["id"]),
                  _kpi("p99 latency", fmt_s(r["latency"]["p99"]), r["id"]),
                  _kpi("throughput", fmt_rate(r["throughput"]),
                       f"OK answers; target {fmt_rate(r['target_rate'])}") if "throughput" in r
                  else _kpi("achieved", fmt_rate(r["achieved_rate"]),
                            f"target {fmt_rate(r['target_rate'])}"),
                  _kpi("error rate", fmt_pct(r["error_rate"], 3), f"{r['requests']:,} requests")]
    cards.append(_kpi("SLOs met", f"{passed} / {len(checks)}" if checks else "—"))
    return f'<div class="kpis">{"".join(cards)}</div>'


def _hero(doc: Doc, spec: Doc) -> str:
    facts = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>"
                    for k, v in markdown.header_fields(doc, spec))
    msgs = spec.get("messages") or []
    alert = ('<ul class="alerts">' + "".join(f"<li>{escape(m)}</li>" for m in msgs) + "</ul>"
             if msgs else "")
    alert += "".join(f'<section class="judgement"><h2>{escape(head)}</h2><ul>'
                     + "".join(f"<li>{escape(x)}</li>" for x in xs) + "</ul></section>"
                     for head, xs in first_screen(spec))
    return (f'<header class="hero"><div class="hero-top"><h1>{escape(markdown.title(spec))}</h1>'
            f'{_badge(str(spec.get("verdict")))}</div><dl class="facts">{facts}</dl>'
            f"{_kpis(spec)}{alert}</header>")


def _grid(svgs: Sequence[str], caption: str) -> str:
    if not svgs:
        return ""
    figs = "".join(f'<figure class="card">{s}</figure>' for s in svgs)
    return f'<div class="chart-grid" aria-label="{escape(caption)}">{figs}</div>'


def _colour_status(html: str) -> str:
    return _STATUS_RE.sub(lambda m: f'<td><span class="st st-{m.group(1).lower()}">'
                                    f"{m.group(1)}</span>", html)


def _spec_html(doc: Doc, spec: Doc, md: MarkdownIt) -> str:
    parts = [_hero(doc, spec), '<section class="glance"><h2>At a glance</h2>',
             _grid(charts.glance_charts(spec), "key charts"), "</section>"]
    for title, body in markdown.sections(doc, spec):
        if title == "Load Test Results":  # each test type's charts right under its tables
            body_html = "".join(_colour_status(md.render(lt.kind_section(spec, k) + "\n"))
                                + _grid(charts.kind_charts(spec, k), f"{k} charts")
                                for k in lt.KINDS)
            section = md.render(f"## {title}\n") + body_html
        else:
            section = _colour_status(md.render(f"## {title}\n\n{body}\n"))
        if title == "Production Monitoring":  # the per-day chart under its tables
            section += _grid([c for c in [production_chart(spec)] if c], "production charts")
        if title == "Bottleneck Analysis":  # the CPU profile's flame graphs (#21)
            section += "".join(f'<figure class="flame-card">{svg}</figure>'
                               for svg in flame.flame_graphs(spec))
        parts.append(f'<section class="report-section">{section}</section>')
    return f'<article class="spec">{"".join(parts)}</article>'


def render(doc: Doc) -> str:
    """The whole document as one self-contained HTML page (UTF-8)."""
    md = _md()
    specs = doc.get("specs") or []
    title = markdown.title(specs[0]) if specs else "Performance Optimization Report"
    body = "".join(_spec_html(doc, s, md) for s in specs) or "<p>No spec was applied.</p>"
    foot = (f'<footer>Generated {escape(str(doc.get("generated_at")))} by perfopt-engine '
            f'{escape(str((doc.get("tool") or {}).get("version", "")))} · verdict '
            f'{escape(str(doc.get("verdict")))} · exit code {escape(str(doc.get("exit_code")))}'
            "</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}{foot}</main></body></html>\n")
