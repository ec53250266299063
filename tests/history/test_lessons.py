"""The lessons-learned ledger (#19): entries accumulate across applies, per spec,
atomically and redacted."""

from __future__ import annotations

from pathlib import Path

from engine.analysis.hypothesis import HypothesisVerdict, Verdict
from engine.gates.actions import FlowAction
from engine.history.lessons import (
    MAX_ENTRIES,
    append_entry,
    keep_lessons,
    ledger_path,
    read_entries,
)
from engine.plan import SpecPlan
from engine.records import Driven, Judgement
from engine.result import Status
from engine.spec.loader import load_text
from tests.support.specs import VALID


def _driven(tmp_path: Path, secret: str = "") -> Driven:
    text = VALID.replace("load:", f"history: {{path: {tmp_path / 'h' / 'history.db'}}}\nload:")
    if secret:
        text = text.replace("path: \"/users?email=u{seq}@x.io\"}",
                            f"path: \"/users?email=u{{seq}}@x.io\", headers: "
                            f"{{Authorization: \"{secret}\"}}}}")
    specs, errors = load_text(text)
    assert not errors, errors
    refuted = HypothesisVerdict("H1", "Index", "database", "", "<= -50%", "p95", "lookup", 2.0,
                                "low", Verdict.REFUTED, 0.02, 0.02, 0.0, -0.1, 0.1, 0.0, 1.0,
                                2, None, None, f"no change (token {secret or 'none'})")
    return Driven(specs[0], SpecPlan(specs[0], (), ()), 1.8e9, hypotheses=(refuted,))


def _judgement(lesson: str) -> Judgement:
    action = FlowAction("not-effective", "Optimization not effective: H1", "Re-profile",
                        "Document it")
    return Judgement((), (), Status.FAIL, lessons=(lesson,), actions=(action,))


def test_entries_accumulate_across_applies_per_spec(tmp_path: Path) -> None:
    driven = _driven(tmp_path)
    first, problem = keep_lessons(driven, _judgement("first lesson"), (1, 2), "2026-11-01")
    assert problem == "" and [e["lessons"] for e in first] == [["first lesson"]]
    second, _ = keep_lessons(driven, _judgement("second lesson"), (3,), "2026-11-02")
    assert [e["at"] for e in second] == ["2026-11-01", "2026-11-02"]
    assert second[1]["run_ids"] == [3] and second[1]["verdict"] == "FAIL"
    assert second[1]["hypotheses"][0] == {"id": "H1", "title": "Index", "verdict": "REFUTED",
                                          "message": "no change (token none)"}
    assert second[1]["actions"] == ["Optimization not effective: H1 -> Re-profile; Document it"]
    path = ledger_path(driven.spec.history.path)
    assert path == tmp_path / "h" / "lessons.jsonl"
    append_entry(path, {"spec": "other", "at": "x"})
    assert len(read_entries(path)) == 3 and len(read_entries(path, "svc")) == 2


def test_a_secret_never_reaches_the_ledger(tmp_path: Path) -> None:
    secret = "s3cr3t-t0ken-value"
    driven = _driven(tmp_path, secret)
    entries, _ = keep_lessons(driven, _judgement(f"saw {secret}"), (), "2026-11-01")
    raw = ledger_path(driven.spec.history.path).read_bytes()
    assert secret.encode() not in raw and entries[0]["lessons"] != [f"saw {secret}"]


def test_unreadable_lines_are_skipped_and_the_ledger_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "lessons.jsonl"
    path.write_text('{"spec": "a", "at": "1"}\nnot json\n[1]\n', encoding="utf-8")
    assert read_entries(path) == [{"spec": "a", "at": "1"}]
    for i in range(3):
        append_entry(path, {"spec": "a", "at": str(i + 2)})
    assert len(read_entries(path)) == 4
    assert "not json" in path.read_text(encoding="utf-8")  # kept, not dropped on rewrite
    assert MAX_ENTRIES >= 1000


def test_a_ledger_that_cannot_be_written_is_said_not_raised(tmp_path: Path) -> None:
    (tmp_path / "h").write_text("a file where the history folder should be", encoding="utf-8")
    entries, problem = keep_lessons(_driven(tmp_path), _judgement("x"), (), "2026-11-01")
    assert entries == () and problem.startswith("lessons not kept: ")
