"""A slower machine is said beside the regression verdict in every output, from one value
(issue #14): runs recorded through the real analyse/judge/record path keep their probe
summary, the current run's note is computed once by the analysis, and the gate message,
JSON, Markdown, HTML, terminal, JUnit and ``compare`` all show that same sentence."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.machine_speed import MACHINE_SPEED, PROBE_WORK
from engine.commands import history as cmd
from engine.history.record import open_store
from engine.history.store import HistoryStore
from engine.pipeline import advised, analyse, judge, record
from engine.plan import SpecPlan
from engine.records import Driven, RunEntry, RunRole, SpecResult
from engine.report import console, html, junit, markdown
from engine.report.assemble import spec_report
from engine.report.document import new_document, validate_document
from engine.result import RunResult, Status
from engine.spec.loader import load_text
from engine.spec.model import Spec
from tests.support.runs import lognormal_ns, make_run
from tests.support.specs import VALID

GATE = "gates:\n  - {name: regression, kind: regression, tolerances: {p95: 5%}, min_effect: 0ms}\n"
PROBE_NS = 500_000


def _run(k: int, rng: np.random.Generator, scale: float, probe_ns: int) -> RunResult:
    drift = float(np.exp(rng.normal(0.0, 0.02))) * scale
    run = make_run({"lookup": lognormal_ns(rng, 4000, 0.02 * drift),
                    "signup": lognormal_ns(rng, 1000, 0.03 * drift)}, duration_s=10.0)
    probes = {"median_ns": probe_ns, "p90_ns": probe_ns * 11 // 10, "probes": 6,
              "work": PROBE_WORK}
    return dataclasses.replace(run, started_at=1.8e9 + 60.0 * k,
                               extra={**run.extra, MACHINE_SPEED: probes})


def _apply(spec: Spec, run: RunResult, store: HistoryStore) -> SpecResult:
    entry = RunEntry("baseline", RunRole("baseline", "baseline"), run)
    driven = Driven(spec, SpecPlan(spec, (), ()), run.started_at, (entry,), run)
    analysed = advised(driven, analyse(driven, store))
    judgement = judge(driven, analysed)
    return SpecResult(driven, analysed, judgement, record(driven, judgement, store, analysed),
                      run.started_at + 10)


@pytest.fixture
def slower(tmp_path: Path) -> SpecResult:
    """Three applies at one machine speed, then one 50% slower on a machine that ran the
    probe 60% slower (an A-vs-A gate on a slow VM looks like this, plus a real shift)."""
    specs, errors = load_text(VALID + GATE + f"history: {{path: {tmp_path / 'h.db'}}}\n")
    assert not errors, errors
    spec, rng = specs[0], np.random.default_rng(3)
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    with store:
        for k in range(3):
            _apply(spec, _run(k, rng, 1.0, PROBE_NS), store)
        return _apply(spec, _run(3, rng, 1.5, PROBE_NS * 8 // 5), store)


def test_the_note_is_one_sentence_in_every_output(slower: SpecResult) -> None:
    result = slower.analysed.regression
    assert result is not None and result.status is Status.FAIL  # said, never excused
    note = result.machine_note
    assert note.startswith("the machine was slower: it ran a fixed CPU probe 60% slower")
    assert result.speed is not None and result.speed.baseline_ns == PROBE_NS  # kept in history
    gate = next(g for g in slower.judgement.gates if g.kind == "regression")
    assert gate.status is Status.FAIL and gate.message.endswith(f"({note})")
    doc = new_document([spec_report(slower)], verdict="FAIL", exit_code=1)
    assert validate_document(doc) == []
    reg = doc["specs"][0]["regression"]
    assert reg["machine_note"] == note and reg["machine_speed"]["slower"] is True
    assert reg["notes"] == [note]  # the one list every renderer below shows
    assert reg["machine_speed"]["current_probe_ns"] == PROBE_NS * 8 // 5
    assert f"Note: {note}." in markdown.render(doc)
    assert f"! note: {note}" in console.render_summary(doc).splitlines()
    assert note in junit.render(doc)
    assert "the machine was slower: it ran a fixed CPU probe 60% slower" in html.render(doc)


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="perfopt-engine")
    cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_compare_says_it_from_the_stored_runs(slower: SpecResult,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    result = slower.analysed.regression
    assert result is not None and result.machine_note
    run_id, db = str(slower.recorded.history_ids[0]), slower.spec.history.path
    capsys.readouterr()
    assert _cli("compare", run_id, "--db", db) == 0
    assert f"note: {result.machine_note}" in capsys.readouterr().out.splitlines()
    assert _cli("compare", run_id, "--json", "--db", db) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["machine_note"] == result.machine_note
    assert result.speed is not None and doc["machine_speed"] == result.speed.to_doc()
    with HistoryStore(db) as store:
        back = store.load_result(int(run_id))
    primary = slower.driven.primary
    assert primary is not None and back.extra[MACHINE_SPEED] == primary.extra[MACHINE_SPEED]


def test_apply_compares_only_with_runs_of_its_own_host(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """apply stamps the current run with this host before judging: a baseline recorded on
    another machine (chosen with ``other_hosts: true``) says nothing about this one's
    speed, so there is no figure at all rather than a comparison with a 3x slower host."""
    from engine.history import record as record_mod
    from engine.history.fingerprint import make_fingerprint

    history = f"history: {{path: {tmp_path / 'h.db'}, baseline: {{other_hosts: true}}}}\n"
    specs, errors = load_text(VALID + GATE + history)
    assert not errors, errors
    spec, rng = specs[0], np.random.default_rng(4)
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    with store:
        other = make_fingerprint("Slow CPU", 2, "6.1", "3.11.7")
        monkeypatch.setattr(record_mod, "host_fingerprint", lambda: other)
        for k in range(3):
            _apply(spec, _run(k, rng, 1.0, PROBE_NS * 3), store)
        here = make_fingerprint("Fast CPU", 2, "6.1", "3.11.7")
        monkeypatch.setattr(record_mod, "host_fingerprint", lambda: here)
        result = _apply(spec, _run(3, rng, 1.0, PROBE_NS), store).analysed.regression
    assert result is not None and len(result.checks) > 0  # the other host's runs were compared
    assert result.speed is None and result.machine_note == ""  # ... but not for speed
