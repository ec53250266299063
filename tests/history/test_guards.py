"""Confirmed hypotheses kept as regression guards survive between runs."""

from __future__ import annotations

from pathlib import Path

from engine.analysis.regression import Guard
from engine.history.guards import load_guards, save_guards
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


def test_missing_or_corrupt_guard_file_means_no_guards(tmp_path: Path) -> None:
    assert load_guards(tmp_path / "nope.json", "svc") == []
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert load_guards(bad, "svc") == []
    bad.write_text('{"svc": [{"metric": "p95"}]}', encoding="utf-8")
    assert load_guards(bad, "svc") == []
