"""The lessons-learned ledger: one entry per spec per apply, kept beside the history
database so lessons outlive the run that learned them (reports/lessons/ renders it).

JSON Lines, rewritten atomically with the new entry appended (the newest MAX_ENTRIES are
kept); entries are redacted by the caller before they reach here. A ledger line that
cannot be read is skipped, never fatal: the lessons are advice, not evidence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.files import atomic_write
from engine.records import Driven, Judgement
from engine.redact import redact
from engine.spec.secrets import literal_secrets

__all__ = ["LEDGER_NAME", "MAX_ENTRIES", "append_entry", "keep_lessons", "ledger_path",
           "lessons_entry", "read_entries"]

LEDGER_NAME = "lessons.jsonl"
MAX_ENTRIES = 2000


def ledger_path(history_path: str | Path) -> Path:
    """The ledger beside the history database."""
    return Path(history_path).parent / LEDGER_NAME


def read_entries(path: Path, spec: str | None = None) -> list[dict[str, Any]]:
    """Every readable entry (of ``spec`` when given), oldest first."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and (spec is None or entry.get("spec") == spec):
            out.append(entry)
    return out


def append_entry(path: Path, entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Append ``entry`` (atomically, keeping the newest MAX_ENTRIES) and return the
    entries of its spec, oldest first. OSError when the folder cannot be written."""
    try:  # the lines as they are: one that cannot be read is kept, never dropped
        kept = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (FileNotFoundError, NotADirectoryError):
        kept = []
    lines = [*kept, json.dumps(dict(entry), sort_keys=True)][-MAX_ENTRIES:]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, "".join(ln + "\n" for ln in lines))
    return read_entries(path, str(entry.get("spec")))


def lessons_entry(driven: Driven, judgement: Judgement, run_ids: Sequence[int],
                  at: str) -> dict[str, Any]:
    """What one apply learned about one spec (not yet redacted)."""
    return {"at": at, "spec": driven.spec.name, "verdict": str(judgement.verdict),
            "run_ids": list(run_ids), "lessons": list(judgement.lessons),
            "hypotheses": [{"id": v.id, "title": v.title, "verdict": str(v.verdict),
                            "message": v.message} for v in driven.hypotheses],
            "actions": [a.text for a in judgement.actions]}


def keep_lessons(driven: Driven, judgement: Judgement, run_ids: Sequence[int],
                 at: str) -> tuple[tuple[dict[str, Any], ...], str]:
    """Append this apply's lessons (redacted with the spec's secrets) to the ledger beside
    its history; (the spec's entries, oldest first; '' or why the ledger was not kept)."""
    spec = driven.spec
    entry = redact(lessons_entry(driven, judgement, run_ids, at), spec.secrets,
                   literal_secrets(spec, os.environ))
    try:
        return tuple(append_entry(ledger_path(spec.history.path), entry)), ""
    except (OSError, ValueError) as exc:  # ValueError: a ledger that is not UTF-8
        return (), f"lessons not kept: {getattr(exc, 'strerror', None) or exc}"
