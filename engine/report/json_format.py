"""The JSON report: the document itself, stable key order, one trailing newline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["render"]


def render(doc: Mapping[str, Any]) -> str:
    """The document as indented JSON (keys in document order, UTF-8 kept as is)."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
