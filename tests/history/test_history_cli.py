"""history / baseline / compare commands, driven through their own argparse wiring."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from engine.commands import history as cmd
from engine.history.fingerprint import host_fingerprint
from engine.history.store import HistoryStore
from tests.support.history import DAY, GIT, OTHER_HOST, history_run
from tests.support.specs import VALID, write_spec

NOW = 1.8e9


def cli(*argv: str) -> int:
    """Parse like the real CLI (subcommands registered by the module) and run."""
    parser = argparse.ArgumentParser(prog="perfopt-engine")
    cmd.register(parser.add_subparsers(dest="command"))
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(args.func(args))


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Runs 1-3 same service (PASS), 4 a 40% slowdown (FAIL), 5 on another host. One run a
    side leaves drift to the prior (7.5% at p50): a 98% interval of +-25% or so, so 40% is
    what a one-run comparison can flag on the p50 (a p95's prior is 15%: about +-50%)."""
    path = tmp_path / "history.db"
    here = host_fingerprint()
    with HistoryStore(path) as store:
        for k, age in enumerate((4, 3, 2)):
            store.record("svc", "h1", history_run(k + 1, started_at=NOW - age * DAY, n=3000),
                         "PASS", here, GIT)
        slow = history_run(9, started_at=NOW - DAY, n=3000, scale=1.4)
        store.record("svc", "h1", slow, "FAIL", here, GIT)
        store.record("other", "h2", history_run(5, started_at=NOW, n=300), "PASS",
                     OTHER_HOST, None)
    return str(path)


def test_history_lists_runs_newest_first_with_metrics(db: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("history", "--db", db) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["ID", "STARTED", "(UTC)", "SPEC"]
    assert [ln.split()[0] for ln in lines[1:]] == ["5", "4", "3", "2", "1"]
    assert "FAIL" in lines[2] and "this" in lines[2] and "00000000" in lines[2]
    assert OTHER_HOST.hash[:8] in lines[1]
    assert "ms" in lines[3]


def test_history_filters_by_spec_name_and_profile(db: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("history", "other", "--db", db) == 0
    assert [ln.split()[0] for ln in capsys.readouterr().out.splitlines()[1:]] == ["5"]
    assert cli("history", "svc", "--db", db, "--profile", "stress") == 0
    assert "no runs of svc" in capsys.readouterr().out


def test_history_of_a_spec_file_uses_its_name(db: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, VALID)  # metadata.name: svc
    assert cli("history", str(spec), "--db", db, "--json") == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in runs] == [4, 3, 2, 1] and runs[0]["verdict"] == "FAIL"


def test_history_of_a_broken_spec_file_is_a_usage_error(
        tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, "apiVersion: perfopt/v1\nkind: Nope\n")
    assert cli("history", str(spec), "--db", db) == 2
    assert "cannot read spec" in capsys.readouterr().err


def test_missing_database_is_a_clear_message(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.db"
    for argv in (("history",), ("baseline", "list"), ("compare", "1", "2")):
        assert cli(*argv, "--db", str(missing)) == 2
        err = capsys.readouterr().err
        assert f"no history database at {missing}" in err and "Traceback" not in err
    assert not missing.exists()


def test_history_show_details_and_journeys(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("history", "show", "4", "--db", db) == 0
    out = capsys.readouterr().out
    assert out.startswith("run 4: svc / baseline")
    assert "verdict FAIL" in out and "(this host)" in out and "(main)" in out
    assert "lookup" in out and "signup" in out and "3 interval(s)" in out


def test_unknown_or_malformed_run_is_exit_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("history", "show", "99", "--db", db) == 2
    assert "no run 99" in capsys.readouterr().err
    assert cli("history", "show", "--db", db) == 2
    assert "needs a RUN" in capsys.readouterr().err
    assert cli("history", "show", "x1", "--db", db) == 2
    assert "not a run id" in capsys.readouterr().err
    assert cli("compare", "1", "42", "--db", db) == 2


def test_show_of_an_unfinished_run_has_no_journey_table(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with HistoryStore(db) as store:
        run_id = store.begin_run("svc", "h", "baseline", "baseline", "", host_fingerprint(),
                                 None)
    assert cli("history", "show", str(run_id), "--db", db) == 0
    out = capsys.readouterr().out
    assert "status    RUNNING" in out and "JOURNEY" not in out


def test_baseline_pin_list_unpin(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("baseline", "pin", "release-1", "1", "2", "--db", db) == 0
    assert "pinned release-1: run(s) 1, 2" in capsys.readouterr().out
    assert cli("baseline", "pin", "latest", "--spec", "svc", "--db", db) == 0
    assert "run(s) 3" in capsys.readouterr().out  # run 4 failed: not a baseline
    assert cli("baseline", "list", "--db", db) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:2] == ["latest", "3"] and out[2].split()[:3] == ["release-1", "1", "2"]
    assert cli("history", "--db", db) == 0
    assert "release-1" in capsys.readouterr().out
    assert cli("baseline", "unpin", "release-1", "--db", db) == 0
    assert cli("baseline", "unpin", "release-1", "--db", db) == 2
    assert "no baseline pinned as 'release-1'" in capsys.readouterr().err


def test_baseline_pin_refuses_bad_runs(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("baseline", "pin", "x", "77", "--db", db) == 2
    assert "no run 77" in capsys.readouterr().err
    assert cli("baseline", "pin", "x", "--spec", "nope", "--db", db) == 2
    assert "no COMPLETE run with verdict PASS" in capsys.readouterr().err
    assert cli("baseline", "--db", db) == 2  # an action is required


def test_compare_flags_a_40_percent_slowdown(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("compare", "1", "4", "--db", db) == 0
    out = capsys.readouterr().out
    # one run a side: the median's drift prior (7.5%) lets +40% through as significant; a
    # p95's (StatsConfig.tail_drift, 15%) does not
    assert "Performance regression detected: p50 degraded by" in out
    assert "Performance regression detected: p95" not in out
    assert "regression gate verdict: FAIL" in out
    assert cli("compare", "1", "4", "--gate", "--db", db) == 1


def test_compare_same_service_is_not_a_regression(db: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("compare", "1", "2", "--gate", "--db", db) == 0
    out = capsys.readouterr().out
    assert "Performance regression detected" not in out
    p95 = next(ln for ln in out.splitlines() if ln.startswith("p95 "))
    assert p95.split()[-1] == "PASS" and "[" in p95  # with its interval
    assert "98% CI" in out and "95% CI" not in out  # the gate's level, not a fixed label


def test_compare_applies_the_gates_minimum_effect(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A 1.5x shift of a ~0.4 ms service moves no percentile by the default 1 ms minimum
    effect: `compare --gate` passes it, as the regression gate of `apply` would (the p50:
    with one run a side a p95's own drift prior leaves +50% undecided, not significant)."""
    path = str(tmp_path / "fast.db")
    with HistoryStore(Path(path)) as store:
        for k, scale in enumerate((0.02, 0.03)):
            store.record("svc", "h1", history_run(k + 1, started_at=NOW + k, n=3000,
                                                  scale=scale), "PASS", host_fingerprint(), GIT)
    assert cli("compare", "1", "2", "--gate", "--db", path) == 0
    p50 = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("p50 "))
    assert p50.split()[-2:] == ["worse", "PASS"]  # significantly worse, but immaterial


def test_compare_json_and_tolerance_override(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("compare", "1", "4", "--json", "--tolerance", "p50=50%", "--tolerance",
               "p95=0.4", "--tolerance", "p99=0.5", "--db", db) == 0
    doc = json.loads(capsys.readouterr().out)
    checks = {c["metric"]: c for c in doc["checks"]}
    assert checks["p50"]["tolerance"] == 0.5 and checks["p95"]["tolerance"] == 0.4
    # +40%, significant, but within the overridden tolerance: not a regression
    assert checks["p50"]["status"] != "FAIL" and checks["p50"]["ci_low"] > 0
    assert checks["p95"]["status"] != "FAIL" and checks["p99"]["tolerance"] == 0.5
    assert cli("compare", "1", "4", "--tolerance", "p95", "--db", db) == 2
    assert "expected METRIC=FRACTION" in capsys.readouterr().err


def test_compare_notes_different_hosts_and_spec_changes(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("compare", "1", "5", "--db", db) == 0
    out = capsys.readouterr().out
    assert "different hosts" in out and "spec hash differs" in out


def test_register_skips_placeholders_the_cli_already_added() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("history")
    cmd.register(sub)
    assert set(sub.choices) == {"history", "baseline", "compare"}
    assert parser.parse_args(["compare", "1", "2"]).func is cmd.run_compare


def test_aborted_run_cannot_be_compared(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with HistoryStore(db) as store:
        run_id = store.begin_run("svc", "h", "baseline", "baseline", "", host_fingerprint(),
                                 None)
        store.mark_aborted(run_id)
    assert cli("compare", "1", str(run_id), "--db", db) == 2
    assert "ABORTED: it has no results" in capsys.readouterr().err


def test_history_of_a_spec_marks_where_a_metric_shifted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "history.db"
    with HistoryStore(path) as store:
        ids = [store.record("svc", "h", history_run(k + 1, started_at=NOW - (12 - k) * DAY,
                                                    n=800, n_intervals=1,
                                                    scale=1.0 if k < 6 else 1.3),
                            "PASS", host_fingerprint(), GIT) for k in range(12)]
    assert cli("history", "svc", "--db", str(path)) == 0
    out = capsys.readouterr().out
    assert "change points (svc, profile baseline, 12 runs):" in out
    p95 = next(ln for ln in out.splitlines() if ln.strip().startswith("p95 "))
    assert f"from run {ids[6]} " in p95 and "+" in p95
    assert cli("history", "--db", str(path)) == 0  # no spec: no change-point section
    assert "change points" not in capsys.readouterr().out


def test_history_keeps_each_runs_own_verdict() -> None:
    """Issue #14: healthy stress steps were stored FAIL (the spec's gate failed on the
    baseline) and a complete baseline ABORTED (a later profile was interrupted)."""
    from dataclasses import replace as _replace

    import numpy as _np

    from engine.gates.evaluate import GateResult
    from engine.history.record import run_verdict
    from engine.result import Status as _Status
    from tests.support.runs import make_run as _make_run

    run = _make_run(_np.full(100, 10_000_000))
    failed = [GateResult("slo", "slo", _Status.FAIL, "SLO breached", (), True)]
    assert run_verdict(run, failed) == "FAIL"  # the run the gate judged
    assert run_verdict(run, ()) == "PASS"  # a stress step the gates did not judge
    assert run_verdict(_replace(run, aborted=True), ()) == "ABORTED"


def test_a_whole_run_before_a_ctrl_c_is_stored_pass(tmp_path: Path) -> None:
    """The apply was interrupted (a later profile stopped): the run that finished whole is
    PASS, eligible as a baseline; only the run the Ctrl-C cut short is ABORTED."""
    from dataclasses import replace as _replace

    import numpy as _np

    from engine.history.record import record_runs
    from engine.plan import SpecPlan
    from engine.records import Driven, RunEntry, RunRole
    from engine.spec.loader import load_text
    from tests.support.runs import make_run as _make_run

    specs, _ = load_text(VALID)
    whole = _make_run(_np.full(100, 10_000_000))
    cut = _replace(whole, aborted=True, abort_reason="interrupted")
    entries = tuple(RunEntry(i, RunRole("baseline", "baseline"), r)
                    for i, r in (("baseline", whole), ("soak", cut)))
    driven = Driven(specs[0], SpecPlan(specs[0], (), ()), 0.0, entries, whole, interrupted=True)
    with HistoryStore(tmp_path / "h.db") as store:
        ids = record_runs(driven, (), store, ()).history_ids
        assert [store.get(i).verdict for i in ids] == ["PASS", "ABORTED"]
