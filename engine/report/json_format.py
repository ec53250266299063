"""The JSON report: the document itself, stable key order, one trailing newline."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["render"]


def _finite(obj: Any) -> Any:
    # JSON has no NaN/Infinity; a non-finite float means "no value", which the schema calls null
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def render(doc: Mapping[str, Any]) -> str:
    """The document as indented JSON (keys in document order; NaN/inf become null)."""
    return json.dumps(_finite(dict(doc)), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
