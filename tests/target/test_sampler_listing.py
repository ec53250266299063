"""The sampler re-lists the target's process tree from the tree's own
/proc/<pid>/task/<tid>/children files (issue #20: psutil's children(recursive=True) reads
/proc/<n>/stat of every process on the machine), and must find what psutil finds: children
forked by any thread, grandchildren; a process gone mid-walk is skipped; where the files are
not there it lists with psutil."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from engine.target import proc_read
from engine.target.proc_read import Known, descendants, processes
from engine.target.sampler import Sampler

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc is Linux's")

TREE = """
import os, threading, time

def sleeper():
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    return pid

def from_thread(box):
    box.append(sleeper())
    time.sleep(60)  # its child stays listed under this thread while the thread lives

box = []
threading.Thread(target=from_thread, args=(box,), daemon=True).start()
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.write(w, str(sleeper()).encode())
    time.sleep(60)
    os._exit(0)
grandchild = int(os.read(r, 64))
while not box:
    time.sleep(0.01)
print(box[0], child, grandchild, flush=True)
time.sleep(60)
"""


@pytest.fixture
def tree() -> Iterator[tuple[int, list[int]]]:
    """A python process with a child forked by a non-main thread, a child forked by the main
    thread and that child's child: (root pid, [thread's child, child, grandchild])."""
    proc = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        kids = [int(p) for p in proc.stdout.readline().split()]
        assert len(kids) == 3, kids
        yield proc.pid, kids
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _psutil_pids(pid: int) -> set[int]:
    return {p.pid for p in psutil.Process(pid).children(recursive=True)}


def test_the_proc_files_list_what_psutil_lists(tree: tuple[int, list[int]]) -> None:
    root, (thread_kid, kid, grandkid) = tree
    main_thread_kids = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    assert str(thread_kid) not in main_thread_kids  # only its thread's file lists it
    listed = descendants(root)
    assert listed is not None and len(listed) == len(set(listed))
    assert set(listed) == _psutil_pids(root) == {thread_kid, kid, grandkid}


def test_the_sampler_lists_from_proc_and_reuses_its_objects(
        tree: tuple[int, list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    root, kids = tree

    def no_scan(*_: Any, **__: Any) -> list[psutil.Process]:
        raise AssertionError("psutil's scan of every process was used")

    monkeypatch.setattr(psutil.Process, "children", no_scan)
    s = Sampler(root)
    s._resolve()
    first = {p.pid: p for p in s._members(True)}
    assert set(first) == {root, *kids}
    again = {p.pid: p for p in s._members(True)}
    assert all(again[pid] is first[pid] for pid in first)  # no new psutil objects


def test_a_recycled_pid_gets_a_new_object_and_a_gone_one_none() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid is free
    me = psutil.Process()
    stale: Known = {me.pid: (-1, me), gone.pid: (0, me)}  # not its start time: another process
    (found,) = processes([me.pid, gone.pid], stale)
    assert found.pid == me.pid and found is not me
    assert found.create_time() == me.create_time()
    assert set(stale) == {me.pid}
    assert processes([me.pid], stale) == [found] and processes([me.pid], stale)[0] is found
    assert descendants(gone.pid) == []


def test_a_process_gone_mid_walk_is_skipped(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """1 lists 2 and 3; 3 exits before its own files are read, 2's child 4 is still found."""
    for pid, tid, kids in ((1, 1, "2 3"), (1, 7, ""), (2, 2, "4 "), (4, 4, "")):
        (tmp_path / str(pid) / "task" / str(tid)).mkdir(parents=True)
        (tmp_path / str(pid) / "task" / str(tid) / "children").write_text(kids)
    monkeypatch.setattr(proc_read, "_PROC_TASK", f"{tmp_path}/{{}}/task")
    monkeypatch.setattr(proc_read, "_PROC_CHILDREN", f"{tmp_path}/{{}}/task/{{}}/children")
    assert sorted(descendants(1) or []) == [2, 3, 4]
    assert descendants(3) == []


@pytest.mark.parametrize("error", [FileNotFoundError, PermissionError])
def test_without_the_proc_files_the_sampler_lists_with_psutil(
        tree: tuple[int, list[int]], monkeypatch: pytest.MonkeyPatch,
        error: type[OSError]) -> None:
    root, kids = tree

    def no_children_file(path: str, *a: Any, **kw: Any) -> Any:
        if str(path).endswith("/children"):
            raise error(path)
        return open(path, *a, **kw)

    monkeypatch.setattr(proc_read, "open", no_children_file, raising=False)
    assert descendants(root) is None
    scans = []
    scan = psutil.Process.children

    def counted(self: psutil.Process, recursive: bool = False) -> list[psutil.Process]:
        scans.append(self.pid)
        return scan(self, recursive=recursive)

    monkeypatch.setattr(psutil.Process, "children", counted)
    s = Sampler(root)
    s._resolve()
    assert {p.pid for p in s._members(True)} == {root, *kids}
    assert scans == [root]
