"""A small JSONPath subset for extract and checks: ``$``, ``.key``, ``['key']``, ``[index]``.

``$.items[0].id`` -> ("items", 0, "id"). No wildcards, filters or slices: a step takes one
value from a response, and one path names it.
"""

from __future__ import annotations

import re
from typing import Any

PathKey = tuple[str | int, ...]
_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(-?\d+)\]|\[['\"]([^'\"]*)['\"]\]")
MISSING = object()
"""What ``lookup`` returns when the path does not exist in the document."""


def parse_path(text: str) -> PathKey:
    """The keys of ``text``; ValueError saying what was expected."""
    if not text.startswith("$"):
        raise ValueError(f"expected a JSON path starting with '$', got {text!r}")
    keys: list[str | int] = []
    pos = 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"expected .key, [index] or ['key'] at {text[pos:]!r} of {text!r}")
        if m.group(1) is not None:
            keys.append(m.group(1))
        elif m.group(2) is not None:
            keys.append(int(m.group(2)))
        else:
            keys.append(m.group(3))
        pos = m.end()
    return tuple(keys)


def lookup(doc: Any, keys: PathKey) -> Any:
    """The value at ``keys`` in ``doc``, or MISSING."""
    cur = doc
    for k in keys:
        if isinstance(k, int):
            if not isinstance(cur, list) or not -len(cur) <= k < len(cur):
                return MISSING
            cur = cur[k]
        elif isinstance(cur, dict) and k in cur:
            cur = cur[k]
        else:
            return MISSING
    return cur
