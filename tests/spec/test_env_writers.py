"""Values from the environment are secrets for every writer (issue #16): the history, the
progress lines, the dry-run plan and the literal list the reports redact with."""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path

import numpy as np

from engine.driver.progress import ProgressPrinter, RunFinished, RunStarted
from engine.history.record import record_runs
from engine.history.store import HistoryStore
from engine.plan import SpecPlan
from engine.records import Driven, RunEntry, RunRole
from engine.spec.loader import load_text
from engine.spec.model import Spec
from engine.spec.secrets import literal_secrets
from tests.support.runs import make_run
from tests.support.specs import VALID, run_cli, write_spec

TOKEN = "tok-5d1e0b93aa"
SPEC = VALID.replace("metadata: {name: svc, component: svc-api}",
                     'metadata: {name: svc, component: svc-api, description: "key ${API_TOKEN}"}')


def _spec(env: dict[str, str]) -> Spec:
    specs, errors = load_text(SPEC, "s.yaml", environ=env)
    assert not errors
    return specs[0]


def test_the_literal_list_every_writer_uses_holds_values_from_the_environment() -> None:
    spec = _spec({"API_TOKEN": TOKEN})
    assert spec.description == f"key {TOKEN}"
    assert TOKEN in literal_secrets(spec, {})
    assert "key" not in literal_secrets(spec, {})


def test_a_value_under_the_minimum_length_is_left_to_the_name_rules() -> None:
    spec = _spec({"API_TOKEN": "abc"})
    assert "abc" in spec.secret_values and "abc" not in literal_secrets(spec, {})


def test_the_history_keeps_no_value_from_the_environment(tmp_path: Path) -> None:
    spec = _spec({"API_TOKEN": TOKEN})
    run = dataclasses.replace(
        make_run({"lookup": np.full(500, 5_000_000)}),
        target_url=f"http://127.0.0.1:18999/?key={TOKEN}", aborted=True,
        abort_reason=f"stopped: the target answered 401 to key {TOKEN}")
    run = dataclasses.replace(run, validity=dataclasses.replace(
        run.validity, reasons=(f"reason {TOKEN}",), notes=(f"note {TOKEN}",)))
    driven = Driven(spec, SpecPlan(spec, (), ()), 0.0,
                    (RunEntry("baseline", RunRole("baseline", "baseline"), run),), run)
    db = tmp_path / "history.db"
    with HistoryStore(db) as store:
        recorded = record_runs(driven, [], store, [])
        assert recorded.history_ids and not recorded.messages
        stored = store.load_result(recorded.history_ids[0])
    assert stored.abort_reason == "stopped: the target answered 401 to key [REDACTED]"
    assert stored.validity.notes == ("note [REDACTED]",)
    files = [p for p in tmp_path.iterdir() if p.name.startswith("history.db")]
    assert files and not any(TOKEN.encode() in p.read_bytes() for p in files)


def test_progress_lines_show_no_secret() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=False, secrets=["x-api-key"], secret_values=[TOKEN])
    printer(RunStarted("baseline", "open", f"http://127.0.0.1:18999/?k={TOKEN}", 5.0, 10.0, 1))
    printer(RunFinished("baseline", 10, 0, 5.0, False, False, (f"refused {TOKEN}",)))
    text = out.getvalue()
    assert TOKEN not in text and text.count("[REDACTED]") == 2


def test_the_dry_run_plan_shows_no_value_from_the_environment(tmp_path: Path) -> None:
    text = VALID.replace("url: http://127.0.0.1:18999", 'url: "http://${TARGET_HOST}:18999"')
    path = write_spec(tmp_path, text)
    env = {**os.environ, "TARGET_HOST": "perf-box.internal"}
    result = run_cli("apply", str(path), "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "target=http://[REDACTED]:18999" in result.stdout
    assert "perf-box.internal" not in result.stdout + result.stderr


def test_the_live_stream_redacts_with_the_values_from_the_environment(tmp_path: Path) -> None:
    import argparse

    from engine.live.session import LiveSession

    args = argparse.Namespace(stream=str(tmp_path / "live.jsonl"), metrics_port=None)
    live = LiveSession(lambda event: None, args, [], [TOKEN])
    assert live.open() == ""
    try:
        assert live.stream is not None and TOKEN in live.stream.secret_values
    finally:
        live.close()
