"""Confirmed hypotheses kept as regression guards survive between runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.analysis.regression import Guard
from engine.history.guards import load_guards, save_guards
from engine.history.store import HistoryError
from engine.units import Comparison


def _guard(source: str, value: float) -> Guard:
    return Guard("p95", "lookup", Comparison("<=", value, f"<= {value * 1e3:g}ms"), source)


def test_guards_round_trip_per_spec_and_replace_by_hypothesis(tmp_path: Path) -> None:
    path = tmp_path / "history.guards.json"
    save_guards(path, "svc", [_guard("H1: p95 <= -50%", 0.010)])
    save_guards(path, "other", [_guard("H9: p95 <= -10%", 0.5)])
    save_guards(path, "svc", [_guard("H1: p95 <= -50% (again)", 0.008),
                              _guard("H2: p95 <= -20%", 0.02)])
    kept = load_guards(path, "svc")
    assert sorted(g.source.split(":")[0] for g in kept) == ["H1", "H2"]
    h1 = next(g for g in kept if g.source.startswith("H1"))
    assert h1.comparison.value == 0.008 and h1.comparison.holds(0.007)
    assert [g.source for g in load_guards(path, "other")] == ["H9: p95 <= -10%"]


def test_a_missing_guard_file_means_no_guards_yet(tmp_path: Path) -> None:
    assert load_guards(tmp_path / "nope.json", "svc") == []


@pytest.mark.parametrize(("text", "unreadable"), [("{not json", True), ("[1, 2]", True),
                                                 ('{"svc": [{"metric": "p95"}]}', False)])
def test_a_corrupt_guard_file_is_a_history_error_never_no_guards(tmp_path: Path, text: str,
                                                                 unreadable: bool) -> None:
    """A gate that silently lost its guards would pass what they were kept to catch, and a
    save over an unreadable file erased every other spec's guards."""
    bad = tmp_path / "bad.json"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(HistoryError, match="guards file"):
        load_guards(bad, "svc")
    if unreadable:  # saving another spec's guards must not erase what it cannot read
        with pytest.raises(HistoryError, match="guards file"):
            save_guards(bad, "other", [_guard("H9: p95 <= -10%", 0.5)])
        assert bad.read_text(encoding="utf-8") == text
    else:  # a readable file keeps the malformed entry for a person to fix
        save_guards(bad, "other", [_guard("H9: p95 <= -10%", 0.5)])
        assert '"metric": "p95"' in bad.read_text(encoding="utf-8")
