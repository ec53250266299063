"""History store: round trip, pins, migrations from v1, and crash safety under SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.history.schema import MIGRATIONS, SCHEMA_VERSION
from engine.history.store import HistoryError, HistoryStore, UnknownRunError
from tests.support.history import GIT, HOST, SPEC, add_runs, history_run, store_at

ROOT = Path(__file__).resolve().parents[2]


def test_round_trip_rebuilds_the_run_with_identical_histograms(tmp_path: Path) -> None:
    run = history_run(7, started_at=1.7e9, timeouts=3)
    with store_at(tmp_path) as store:
        run_id = store.record(SPEC, "h", run, "PASS", HOST, GIT)
        back = store.load_result(run_id)
    assert [j.name for j in back.journeys] == ["lookup", "signup"]
    for old, new in zip(run.journeys, back.journeys, strict=True):
        assert new.response == old.response
        assert new.service == old.service
        assert dict(new.outcomes) == dict(old.outcomes)
        assert new.server_timing["db"] == old.server_timing["db"]
    assert back.intervals == run.intervals
    assert back.resources == run.resources
    assert back.validity == run.validity
    assert (back.started_at, back.duration_s, back.model) == (1.7e9, run.duration_s, "open")
    assert back.extra["history_run_id"] == run_id


def test_stored_row_carries_summary_git_and_host(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        run_id = store.record(SPEC, "h", history_run(1), "FAIL", HOST, GIT)
        row = store.get(run_id)
    assert (row.status, row.verdict, row.host, row.git_branch) == (
        "COMPLETE", "FAIL", HOST.hash, "main")
    assert row.summary["requests"] == 4000
    assert 0.015 < (row.summary["p50"] or 0) < 0.025
    assert "Test CPU 9000 x2" in row.host_text


def test_runs_are_listed_newest_first_and_filtered(tmp_path: Path) -> None:
    now = time.time()
    with store_at(tmp_path) as store:
        ids = add_runs(store, [3, 1, 2], now=now)
        add_runs(store, [0.5], now=now, profile="stress")
        assert [r.id for r in store.runs(profile="baseline")] == [ids[1], ids[2], ids[0]]
        assert len(store.runs(limit=2)) == 2
        assert [r.profile for r in store.runs(since=now - 0.7 * 86400)] == ["stress"]
        assert store.runs(spec="other") == []


def test_running_run_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        run_id = store.begin_run(SPEC, "h", "baseline", "baseline", "", HOST, None)
    with store_at(tmp_path) as again:  # same live process: not stale
        assert again.get(run_id).status == "RUNNING"
        with pytest.raises(HistoryError, match="no results"):
            again.load_result(run_id)
        again.mark_aborted(run_id)
        assert again.get(run_id).status == "ABORTED"
        with pytest.raises(HistoryError, match="not RUNNING"):
            again.finish_run(run_id, history_run(1), "PASS")


def test_aborted_run_result_is_stored_as_aborted(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        run_id = store.record(SPEC, "h", history_run(1, aborted=True), "FAIL", HOST, None)
        assert store.get(run_id).status == "ABORTED"
        assert store.load_result(run_id).aborted


def test_unknown_run(tmp_path: Path) -> None:
    with store_at(tmp_path) as store, pytest.raises(UnknownRunError, match="no run 42"):
        store.get(42)


def test_pins_replace_and_unpin(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        a, b, c = add_runs(store, [3, 2, 1], now=time.time())
        store.pin("release-1", [a, b])
        store.pin("release-1", [c])
        store.pin("other", [a])
        assert [(p.name, p.run_ids) for p in store.pins()] == [("other", (a,)),
                                                               ("release-1", (c,))]
        assert store.unpin("other") is True
        assert store.unpin("other") is False
        running = store.begin_run(SPEC, "h", "baseline", "baseline", "", HOST, None)
        with pytest.raises(HistoryError, match="only COMPLETE"):
            store.pin("bad", [running])
        with pytest.raises(UnknownRunError):
            store.pin("bad", [999])
        assert store.pinned("bad") is None


def test_missing_database_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no history database"):
        HistoryStore(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="cannot open history database"):
        HistoryStore(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryError, match="upgrade perfopt-engine"):
        HistoryStore(path)


def _write_v1(path: Path) -> None:
    """A database exactly as the v1 schema (first release) wrote it."""
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    run = history_run(3, n=200)
    db.execute("INSERT INTO runs (spec, spec_hash, profile, kind, variant, status, verdict,"
               " started_at, ended_at, summary, host, owner_pid) VALUES"
               " (?, 'h', 'baseline', 'baseline', '', 'COMPLETE', 'PASS', 1.6e9, 1.6e9 + 30,"
               " '{\"p95\": 0.03}', ?, 1)", (SPEC, HOST.hash))
    db.execute("INSERT INTO journeys VALUES (1, 0, 'lookup', ?, ?, '{\"ok\": 200}')",
               (run.journeys[0].response.encode(), run.journeys[0].service.encode()))
    db.execute("INSERT INTO runs (spec, spec_hash, profile, kind, status, started_at, host,"
               " owner_pid) VALUES (?, 'h', 'baseline', 'baseline', 'RUNNING', 1.6e9, ?, 1)",
               (SPEC, HOST.hash))
    db.execute("INSERT INTO pins VALUES ('v1-pin', 1)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_v1_database_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    _write_v1(path)
    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        old = store.get(1)
        assert (old.status, old.summary, old.host_text) == ("COMPLETE", {"p95": 0.03}, "")
        result = store.load_result(1)
        assert result.journeys[0].response.total_count == 200
        assert result.duration_s == 30
        assert result.validity.valid and "before schema v2" in result.validity.reasons[0]
        assert store.get(2).status == "ABORTED"  # a v1 RUNNING row has no live owner
        assert [(p.name, p.run_ids) for p in store.pins()] == [("v1-pin", (1,))]
        new_id = store.record(SPEC, "h", history_run(4), "PASS", HOST, GIT)
        assert store.load_result(new_id).validity.reasons == ()


_CHILD = textwrap.dedent("""
    import sys, time
    import engine.history.serialize as ser
    from engine.history.store import HistoryStore
    from tests.support.history import GIT, HOST, SPEC, history_run

    store = HistoryStore(sys.argv[1])
    print("done", store.record(SPEC, "h", history_run(1), "PASS", HOST, GIT), flush=True)
    run_id = store.begin_run(SPEC, "h", "baseline", "baseline", "", HOST, GIT)
    rows = ser.resource_rows

    def stall(rid, run):  # journeys and intervals are written; the transaction is open
        print("in-transaction", run_id, flush=True)
        time.sleep(60)
        return rows(rid, run)

    ser.resource_rows = stall
    store.finish_run(run_id, history_run(2), "PASS")
""")


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)


def test_sigkill_inside_finish_run_leaves_a_readable_db(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    child = _spawn(_CHILD, str(path))
    assert child.stdout is not None
    done_id = int(child.stdout.readline().split()[1])
    line = child.stdout.readline().split()
    assert line[0] == "in-transaction", line
    with HistoryStore(path) as reader:  # a reader is not blocked by the open write
        assert reader.get(int(line[1])).status == "RUNNING"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with HistoryStore(path) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.get(int(line[1])).status == "ABORTED"
        assert store._rows("journeys", int(line[1]), "position") == []  # rolled back
        assert store.load_result(done_id).journeys[0].response.total_count == 2000


_LOOP = textwrap.dedent("""
    import sys
    from engine.history.store import HistoryStore
    from tests.support.history import GIT, HOST, SPEC, history_run

    store = HistoryStore(sys.argv[1])
    for k in range(10_000):
        store.record(SPEC, "h", history_run(k % 5 + 1, n=300, n_intervals=20), "PASS", HOST, GIT)
        print(k, flush=True)
""")


def test_sigkill_at_an_arbitrary_moment_keeps_every_complete_run_whole(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    child = _spawn(_LOOP, str(path))
    assert child.stdout is not None
    lines = [child.stdout.readline() for _ in range(5)]
    assert lines[-1].strip() == "4", lines  # the writer really was writing
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with HistoryStore(path) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = store.runs(limit=None)
        assert all(r.status in ("COMPLETE", "ABORTED") for r in runs)
        for r in runs:
            if r.status == "COMPLETE":
                assert len(store.load_result(r.id).intervals) == 20


_WRITER = textwrap.dedent("""
    import sys
    from engine.history.store import HistoryStore
    from tests.support.history import GIT, HOST, SPEC, history_run

    with HistoryStore(sys.argv[1]) as store:
        for k in range(6):
            store.record(SPEC, "h", history_run(k + 1, n=200, n_intervals=5), "PASS", HOST, GIT)
""")


def test_concurrent_writers_all_land(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    writers = [_spawn(_WRITER, str(path)) for _ in range(3)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    with HistoryStore(path) as store:
        runs = store.runs(limit=None)
        assert len(runs) == 18 and {r.status for r in runs} == {"COMPLETE"}


def test_a_write_that_cannot_get_the_lock_is_a_history_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with store_at(tmp_path) as store:
        store._db.execute("PRAGMA busy_timeout = 50")  # don't wait 30 s for the lock
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(HistoryError, match="locked"):
                store.begin_run(SPEC, "h", "baseline", "baseline", "", HOST, None)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.runs() == []  # and the store still works afterwards
        store.begin_run(SPEC, "h", "baseline", "baseline", "", HOST, None)


def test_a_stored_run_keeps_what_the_busier_host_note_reads(tmp_path: Path) -> None:
    """The generator's own CPU and the machine's CPU count come back with a stored run, so
    a baseline from the history is measured like the live current run (issue #14)."""
    import dataclasses

    from engine.analysis.host_load import other_cores

    run = history_run(1)
    run = dataclasses.replace(run, extra={**run.extra, "generator_cpu_s": 3.0, "host_cpus": 2})
    with HistoryStore(tmp_path / "h.db") as store:
        rid = store.record("svc", "h", run, "PASS", HOST, None)
        back = store.load_result(rid)
    assert back.extra["generator_cpu_s"] == 3.0 and back.extra["host_cpus"] == 2
    assert other_cores(back) == other_cores(run) is not None
