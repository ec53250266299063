"""Confirmed optimizations kept as regression guards, beside the history database.

A small JSON file (``<history>.guards.json``) keyed by spec name, written
atomically, so the gain a hypothesis proved cannot silently erode later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.analysis.regression import Guard
from engine.files import atomic_write


def load_guards(path: Path, spec_name: str) -> list[Guard]:
    """Guards kept for ``spec_name``; [] when the file is absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data.get(spec_name, []) if isinstance(data, dict) else []
    return [g for g in (_guard(e) for e in entries) if g is not None]


def _guard(entry: Any) -> Guard | None:
    try:
        return Guard.from_doc(entry)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def save_guards(path: Path, spec_name: str, guards: Sequence[Guard]) -> None:
    """Replace the spec's guards by id (source prefix), keeping other specs' entries."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    new = [g.to_doc() for g in guards]
    ids = {e["source"].split(":")[0] for e in new}
    kept = [e for e in data.get(spec_name, []) if str(e.get("source", "")).split(":")[0] not in ids]
    data[spec_name] = kept + new
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True))
