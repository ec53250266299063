"""The first screen's judgement (#19), as text for every renderer: failed gates with the
flow's actions, the advisor's warnings, the top ROI item with its money, and what to do
next. Formats the report document's ``actions``, ``warnings``, ``money``, ``priorities``,
``next_target`` and ``next_review``; computes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["action_lines", "first_screen", "money_line", "next_line", "warning_lines"]

Doc = Mapping[str, Any]


def action_lines(spec: Doc) -> list[str]:
    """'<failure> -> <action>; <escalation>' per failure."""
    return [f"{a['failure']} -> {a['action']}; {a['escalation']}"
            for a in spec.get("actions") or []]


def warning_lines(spec: Doc) -> list[str]:
    """'<title> (<subject>) [<code>]: <evidence> Remedy: <remediation>' per warning."""
    out = []
    for w in spec.get("warnings") or []:
        about = f" ({w['subject']})" if w.get("subject") else ""
        out.append(f"{w['title']}{about} [{w['code']}]: {w['evidence']}. "
                   f"Remedy: {w['remediation']}")
    return out


def money_line(spec: Doc) -> str:
    """The top ROI item with its money figure when one was measured, else the fleet's
    monthly cost; '' without a cost block or priorities."""
    money = spec.get("money") or {}
    savings = {s["id"]: s for s in money.get("savings") or []}
    top = next(iter(spec.get("priorities") or []), None)
    if top is not None:
        saving = savings.get(top["id"])
        line = f"Top ROI: {top['id']} {top['title']} (ROI {top['roi']:.2g}/h, {top['tier']})"
        if saving and saving.get("monthly") is not None:
            payback = (f", payback {saving['payback_months']:.1f} months"
                       if saving.get("payback_months") is not None else "")
            line += (f": saves {saving['monthly']:,.2f} {saving['currency']} per month"
                     f"{payback} ({saving['inputs']})")
        return line
    fleet = money.get("fleet")
    if fleet and fleet.get("monthly_cost") is not None:
        return f"Capacity cost: {fleet['monthly_cost']:,.2f} per month ({fleet['inputs']})"
    return ""


def next_line(spec: Doc) -> str:
    target, review = spec.get("next_target") or "", spec.get("next_review") or ""
    parts = ([f"next optimization target: {target}"] if target else []) + (
        [f"next review: {review}"] if review else [])
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def first_screen(spec: Doc) -> list[tuple[str, list[str]]]:
    """(heading, lines) blocks in first-screen order; a cost-reduction spec leads with
    the money. Empty blocks are left out."""
    money = money_line(spec)
    blocks = [("Failed gates: actions", action_lines(spec)),
              ("Warnings", warning_lines(spec)),
              ("Return on investment", [money] if money else []),
              ("Next", [line] if (line := next_line(spec)) else [])]
    if spec.get("trigger") == "cost-reduction":
        blocks.insert(0, blocks.pop(2))
    return [(head, lines) for head, lines in blocks if lines]
