"""A regression seen on a slower machine is measured once more, then judged (issue #14),
through `apply` against the real demo and a real history.

The machine cannot be slowed on purpose, so the history's baseline runs are made to say
the machine-speed probe ran three times faster then (their stored probe medians divided by
3; their Server-Timing dropped, so the demo's unchanged own work cannot say otherwise): to
the gate, the current run met a machine 200% slower. With a real 200% slowdown of
the demo, the gate FAILs the first run against four baseline runs; apply sets it aside,
restarts the demo, runs the baseline again and judges the second run (still slower than
the doctored baseline: no third, and a second FAIL is INVALID).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_regression_e2e import SPEC  # /dashboard, 60/s for 5 s, last: 4
from tests.support.demo import free_port
from tests.support.specs import REPO, run_cli

pytestmark = pytest.mark.slow


def _apply(tmp: Path, args: str = "",
           spec_text: str = SPEC) -> tuple[int, dict]:  # type: ignore[type-arg]
    spec = tmp / "dash.yaml"
    spec.write_text(spec_text.format(port=free_port(), args=args), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PERFOPT_LOOPBACK_ONLY": "1"}
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp, env=env, timeout=180)
    assert "Traceback" not in result.stderr, result.stderr
    doc = json.loads((tmp / "reports" / "dash-latest.json").read_text(encoding="utf-8"))
    return result.returncode, doc["specs"][0]


def _faster_baseline(db: Path, keep_timing: bool = False, by: int = 3) -> int:
    """Divide the stored probe medians ``by`` and, unless ``keep_timing``, drop the stored
    Server-Timing (the demo's own work would show that its machine was not slower: the probe
    alone decides, as for a target without Server-Timing); the number of runs changed.
    The stored generator lag p99 is set to 1 s, so a late spell of our own generator on
    this shared VM (lag p99 2.2 ms against 0.13 ms once made the probe test's run be
    measured again) cannot be mistaken for the probe's doing: these tests are of the probe,
    the lag rule's are in tests/history/test_remeasure_lag.py."""
    with sqlite3.connect(db) as con:
        cur = con.execute(
            "UPDATE runs SET meta = json_set(meta, '$.machine_speed.median_ns', "
            "json_extract(meta, '$.machine_speed.median_ns') / ?, "
            "'$.validity.schedule_lag_p99_s', 1.0) "
            "WHERE json_extract(meta, '$.machine_speed.median_ns') IS NOT NULL", (by,))
        if not keep_timing:
            con.execute("UPDATE journeys SET server_timing = '{}'")
        return cur.rowcount


def test_a_regression_on_a_slower_machine_is_measured_again_and_judged(tmp_path: Path) -> None:
    seeded = 0
    for _ in range(4):  # a seed run may meet a slow spell of this VM and be measured again
        code, spec = _apply(tmp_path)
        assert spec["runs"][-1]["id"] == "baseline", spec["messages"]
        seeded += len(spec["runs"])
    db = tmp_path / ".perfopt" / "history.db"
    assert _faster_baseline(db) == seeded  # every run kept its probe summary
    code, spec = _apply(tmp_path, '"--slowdown-pct", "200"')
    assert [r["id"] for r in spec["runs"]] == ["baseline-set-aside", "baseline"], spec["messages"]
    assert [r["variant"] for r in spec["runs"]] == ["set-aside", ""]
    # the second run met a freshly started demo, and apply stopped that one too
    port = int(spec["target"]["url"].rsplit(":", 1)[1])
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
    again = [m for m in spec["messages"] if m.startswith("baseline measured again: ")]
    assert len(again) == 1 and "ran a fixed CPU probe" in again[0], spec["messages"]
    regression = spec["regression"]
    assert regression["machine_speed"]["slower"] is True  # the second run met it too
    # never waved through: still (made to look) slower, a second FAIL is INVALID, exit 3
    assert regression["status"] in ("INVALID", "INCONCLUSIVE"), regression
    assert code == (3 if regression["status"] == "INVALID" else 0)
    if regression["status"] == "INVALID":
        assert regression["notes"][0].startswith("cannot tell the code from the machine")
        assert any(c["status"] == "FAIL" for c in regression["checks"])  # what it measured
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT verdict FROM runs ORDER BY id").fetchall()
    # the set-aside run is kept, never a baseline; the judged one carries the gate's verdict
    assert len(rows) == seeded + 2
    assert [v for (v,) in rows][-2:] == ["INCONCLUSIVE", "FAIL"  # a gate INVALID: no baseline
                                         if regression["status"] == "INVALID" else "PASS"]



LOOKUP = SPEC.replace("fix: [parallel]", "fix: [pool, cache]").replace(
    "path: /dashboard", 'path: "/users?email=u{{rand:1-100000}}@demo.test"')
"""/users?email= scans the users table (no index fix): its time is the demo's db work."""


def test_a_slower_probe_the_demos_own_work_did_not_show_excuses_nothing(tmp_path: Path) -> None:
    """Only the history's probe medians are doctored: the demo's own db time (Server-Timing)
    reads as in the baseline runs, so the slower probe did not reach it. The 200% slowdown
    (a sleep after the handler, in `app`, not `db`) FAILs once with no second measurement,
    and the note says why (issue #14: nine slowed power runs were INVALID so). The probe is
    made 10x slower: the db time must then change by 90% (``REACHED`` 10% of it) to count,
    far past its own run-to-run spread (about 12%)."""
    seeded = 0
    for _ in range(4):
        code, spec = _apply(tmp_path, spec_text=LOOKUP)
        seeded += len(spec["runs"])
    assert _faster_baseline(tmp_path / ".perfopt" / "history.db", keep_timing=True,
                            by=10) == seeded
    code, spec = _apply(tmp_path, '"--slowdown-pct", "200"', spec_text=LOOKUP)
    regression = spec["regression"]
    assert [r["id"] for r in spec["runs"]] == ["baseline"], spec["messages"]
    assert code == 1 and regression["status"] == "FAIL", regression
    speed = regression["machine_speed"]
    assert speed["probe_slower"] is True and speed["slower"] is False, speed
    assert speed["target"]["component"] == "db" and abs(speed["target"]["change"]) < 0.5, speed
    assert "did not reach the target's work" in regression["machine_note"], regression
