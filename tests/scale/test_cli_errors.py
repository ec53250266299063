"""Asking for Dask where it cannot run is a usage error before any load (exit 2), and a
host's start off the agreed instant is named. No cluster needed."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from engine.scale.errors import INSTALL_LINE
from engine.scale.merge import HostOutcome, host_row
from engine.scale.plan import Host, HostReport, firsts, workers_per_host
from tests.support.specs import REPO, VALID, run_cli, write_spec

DASK = 'execution: {engine: dask, scheduler: "tcp://127.0.0.1:9"}\n'
NO_DASK = ("import sys; sys.modules['distributed'] = None\n"
           "from engine.cli import main; sys.exit(main(sys.argv[1:]))")


def test_dask_not_installed_is_exit_2_with_the_install_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, VALID + DASK)
    done = subprocess.run([sys.executable, "-c", NO_DASK, "apply", str(spec), "--no-history",
                           "--out", str(tmp_path / "r")], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert INSTALL_LINE in done.stderr and "nothing was run" in done.stderr


def test_local_specs_do_not_need_dask(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, VALID)
    done = subprocess.run([sys.executable, "-c", NO_DASK, "apply", str(spec), "--dry-run"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("extra", "args", "words"), [
    ("execution: {engine: dask}\n", (), "names no scheduler"),
    ("", ("--scheduler", "127.0.0.1:8786"), "expected a scheduler address like tcp://HOST:8786"),
])
def test_no_usable_scheduler_is_exit_2(tmp_path: Path, extra: str, args: tuple[str, ...],
                                       words: str) -> None:
    spec = write_spec(tmp_path, VALID + extra)
    env = {k: v for k, v in __import__("os").environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    done = run_cli("apply", str(spec), "--no-history", "--out", str(tmp_path / "r"), *args,
                   env=env)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr


def test_a_host_known_to_start_more_than_5_ms_off_is_invalid() -> None:
    host = Host("node-b", "tcp://127.0.0.1:1", 2, offset_ns=3_000_000, rtt_ns=12_000_000)
    row = host_row(HostOutcome(host, 1, HostReport("node-b", (), 0, 0)), None)
    assert not row["valid"]
    assert row["reasons"] == ["started 6.0 ms off the agreed instant (clock offset +3.0 ms "
                              "± 6.0 ms, late 0.0 ms); more than 5 ms"]
    fine = Host("node-a", "tcp://127.0.0.1:2", 2, offset_ns=-40_000_000, rtt_ns=1_000_000)
    assert host_row(HostOutcome(fine, 1, HostReport("node-a", (), 0, 0)), None)["valid"]


def test_workers_split_like_execution_segments() -> None:
    hosts = [Host("a", "x", 4, 0, 0), Host("b", "y", 2, 0, 0)]
    assert workers_per_host(hosts, None, 1) == [1, 1]
    assert workers_per_host(hosts, 0, 1) == [4, 2]
    assert workers_per_host(hosts, None, 0) == [4, 2]
    assert workers_per_host(hosts, 3, 1) == [3, 3]
    assert firsts([4, 2, 3]) == [0, 4, 6]


def test_run_plans_checks_the_cluster_before_any_load_like_apply(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # monitor --run-flow and run hand apply.run_plans their plans: a Dask spec without a
    # scheduler is exit 2 with nothing run there too, not a failed load test mid-run
    from engine.commands import apply
    from engine.plan import plan_spec
    from engine.spec.loader import load_text

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    specs, errors = load_text(VALID + "execution: {engine: dask}\n")
    assert not errors
    args = argparse.Namespace(out=str(tmp_path / "r"))  # run's options carry no --scheduler
    monkeypatch.setattr(apply, "_execute", lambda *a: pytest.fail("the load started"))
    assert apply.run_plans(args, [plan_spec(specs[0])]) == 2
    assert "names no scheduler" in capsys.readouterr().err
