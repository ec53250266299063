"""Pid files for managed targets, and the sweep of those a dead apply left behind.

``PR_SET_PDEATHSIG`` takes a target down with apply on Linux, but not a child that
detached from it, and not on other systems. So apply writes ``target-<pid>.json``
(the target's pid, start time, command line, its ``PERFOPT_TARGET_ID`` and apply's own
pid) while a target runs and removes it on a clean stop. The next apply sweeps a file
whose apply is gone: a process that is still the one started (same pid, start time and
command line), and every process carrying its id, is stopped with a warning naming it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from engine.files import atomic_write
from engine.target.procguard import marked

__all__ = ["STATE_DIR", "remove", "sweep", "write"]

STATE_DIR = os.path.join(".perfopt", "targets")
"""Where apply keeps its pid files (relative to the working directory)."""
MAX_FILES = 64  # a sweep reads at most this many pid files
STOP_GRACE_S = 1.0


def write(folder: str | os.PathLike[str], proc: psutil.Process, marker: str,
          command: Sequence[str]) -> Path | None:
    """Record a started target; None (no pid file) when the folder cannot be written."""
    path = Path(folder) / f"target-{proc.pid}.json"
    record = {"pid": proc.pid, "create_time": _created(proc), "cmdline": list(command),
              "marker": marker, "apply_pid": os.getpid(),
              "apply_create_time": _created(psutil.Process())}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(record))
    except OSError:
        return None
    return path


def remove(path: Path | None) -> None:
    """Remove a pid file (and its folder once empty); missing is fine."""
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def sweep(folder: str | os.PathLike[str], warn: Callable[[str], None]) -> list[int]:
    """Stop what earlier, dead applies left running; return the pids stopped."""
    stopped: list[int] = []
    for path in sorted(Path(folder).glob("target-*.json"))[:MAX_FILES]:
        record = _read(path)
        if record is None or _apply_alive(record):
            continue
        procs = _leftovers(record)
        if procs:
            warn(f"warning: stopping pid {procs[0].pid} ({' '.join(record['cmdline'])}), a "
                 f"target an earlier apply left running (pid file {path})")
            stopped += _stop(procs)
        remove(path)
    return stopped


def _read(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        remove(path)  # unreadable: nothing it says can be trusted
        return None
    if not isinstance(record, dict) or not isinstance(record.get("pid"), int):
        remove(path)
        return None
    record.setdefault("cmdline", [])
    return record


def _apply_alive(record: dict[str, Any]) -> bool:
    """The apply that wrote the file still runs (this one, or another apply: leave it)."""
    pid = record.get("apply_pid")
    if not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return True  # a target this apply runs (hypothesis variants run side by side)
    return _same(pid, record.get("apply_create_time"), None)


def _leftovers(record: dict[str, Any]) -> list[psutil.Process]:
    """The recorded target if it is still the process started, plus its marked descendants."""
    procs = []
    if _same(record["pid"], record.get("create_time"), record["cmdline"]):
        procs.append(psutil.Process(record["pid"]))
    marker = record.get("marker")
    if isinstance(marker, str) and marker:
        seen = {p.pid for p in procs} | {os.getpid()}
        procs += marked(marker, [p for p in psutil.process_iter() if p.pid not in seen])
    return procs


def _same(pid: int, create_time: object, cmdline: list[str] | None) -> bool:
    try:
        proc = psutil.Process(pid)
        if isinstance(create_time, int | float) and abs(proc.create_time() - create_time) > 0.5:
            return False
        return cmdline is None or proc.cmdline() == cmdline
    except psutil.Error:
        return False


def _created(proc: psutil.Process) -> float | None:
    try:
        return proc.create_time()
    except psutil.Error:
        return None


def _stop(procs: list[psutil.Process]) -> list[int]:
    pids = [p.pid for p in procs]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in procs:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)
        _, procs = psutil.wait_procs(procs, timeout=STOP_GRACE_S)
        if not procs:
            break
    return pids
