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
from engine.history.store import HistoryError


def load_guards(path: Path, spec_name: str) -> list[Guard]:
    """Guards kept for ``spec_name``; [] when the file does not exist yet. An unreadable or
    malformed file raises HistoryError: a gate must not pass without the guards it kept."""
    guards = []
    for entry in _read(path).get(spec_name, []):
        guard = _guard(entry)
        if guard is None:
            raise HistoryError(f"guards file {path}: malformed entry for {spec_name}: {entry!r}")
        guards.append(guard)
    return guards


def _read(path: Path) -> dict[str, list[Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise HistoryError(f"guards file {path} unreadable: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise HistoryError(f"guards file {path}: expected an object of lists by spec name")
    return data


def _guard(entry: Any) -> Guard | None:
    try:
        return Guard.from_doc(entry)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def save_guards(path: Path, spec_name: str, guards: Sequence[Guard]) -> None:
    """Replace the spec's guards by id (source prefix), keeping other specs' entries; an
    unreadable file is refused (HistoryError), never overwritten with only this spec's."""
    data = _read(path)
    new = [g.to_doc() for g in guards]
    ids = {e["source"].split(":")[0] for e in new}
    kept = [e for e in data.get(spec_name, [])
            if not isinstance(e, dict) or str(e.get("source", "")).split(":")[0] not in ids]
    data[spec_name] = kept + new
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True))
