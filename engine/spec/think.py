"""``think_time`` text -> ThinkTime: a fixed duration, a uniform range or an exponential mean.

Accepted: ``"300ms"`` (fixed), ``"100ms-500ms"`` or ``"uniform 100ms-500ms"`` (uniform,
both ends included), ``"exponential mean 300ms"`` or ``"exponential 300ms"``.
"""

from __future__ import annotations

import re
from typing import Any

from engine.spec.context import Ctx, P
from engine.spec.model import ThinkTime
from engine.units import UnitError, parse_duration

EXPECTED = ('a think time like "300ms", "uniform 100ms-500ms" (or "100ms-500ms") '
            'or "exponential mean 300ms"')
_UNIFORM = re.compile(r"^\s*(?:uniform\s+)?(\S+?)\s*-\s*(\S+)\s*$", re.IGNORECASE)
_EXPONENTIAL = re.compile(r"^\s*exponential\s+(?:mean\s+)?(\S+)\s*$", re.IGNORECASE)


def parse_think(text: str) -> ThinkTime:
    """The distribution ``text`` describes; UnitError (with EXPECTED) when it is none."""
    try:
        m = _EXPONENTIAL.match(text)
        if m:
            mean = parse_duration(m.group(1))
            if mean <= 0:
                raise UnitError(EXPECTED, text)
            return ThinkTime("exponential", mean)
        m = _UNIFORM.match(text)
        if m:
            low, high = parse_duration(m.group(1)), parse_duration(m.group(2))
            if high < low:
                raise UnitError(EXPECTED + " with the low end first", text)
            return ThinkTime("uniform", low, high)
        return ThinkTime("fixed", parse_duration(text))
    except UnitError:
        raise UnitError(EXPECTED, text) from None


def build_think(ctx: Ctx, path: P, raw: Any) -> ThinkTime | None:
    """A spec's ``think_time`` (None when absent); a bad one is an error at ``path``."""
    if raw is None:
        return None
    try:
        return parse_think(str(raw))
    except UnitError as exc:
        ctx.error(path, f"expected {exc.expected}, got {str(raw)!r}")
        return None
