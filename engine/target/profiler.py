"""A sampling profiler on the target under load (issue #21): py-spy around each run, or
perf (engine.target.perf) for a target that is not Python.

Which one (``profiling.tool: auto``, the default): py-spy when the target process or one of
its children runs a Python interpreter (``is_python``: its executable's name starts with
``python`` or ``pypy``; a script's interpreter is its executable), perf otherwise. A Python
interpreter embedded in a native server (uWSGI, mod_wsgi) is perf's unless the spec says
``tool: py-spy``.

``start_profiler`` starts one ``py-spy record`` per target process (``--subprocesses``,
so a shell wrapper's Python child is found; ``--nonblocking``, so the target is never
paused; ``--function``, so a frame is a function, not a line; raw format: folded stacks);
``CpuProfiler.stop`` interrupts them (SIGINT: py-spy writes its file and exits), reads the
folded stacks and returns a ``FoldedProfile``. py-spy's default leaves idle threads out, so
a sample is a moment the target was on the CPU (or holding it in a C call).

Profiling never fails a run: py-spy not on PATH, a target that is not Python (with
``tool: py-spy``), or a sampler that will not stop become the profile's ``note``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from engine.result import FoldedProfile
from engine.spec.model import LoadProfile, Spec
from engine.spec.model_profiling import profiling_of
from engine.target.perf import PerfProfiler, process_tree, start_perf

__all__ = ["INSTALL", "CpuProfiler", "Profiler", "choose_tool", "finish", "is_python",
           "parse_folded", "profile_run", "start_profiler"]

INSTALL = 'pip install "perfopt-engine[profile]"'
TOOL = "py-spy"
MAX_PIDS = 4
"""At most this many target processes are sampled (one py-spy each)."""
STOP_WAIT_S = 10.0
"""How long py-spy may take to write its file after SIGINT before it is killed."""
SAFETY_S = 120.0
"""py-spy's own --duration bound beyond the run's expected length (a killed apply)."""


_RECORD = re.compile(r'^((?:process \d+:"(?s:.*?)";)*)([^\n]*) (\d+)$', re.M)
"""One raw record: --subprocesses' process frames (a command line may span lines: a
``python -c`` script), then the stack's frames, then the sample count."""


def parse_folded(text: str) -> dict[str, int]:
    """py-spy's raw output ('frame;frame;leaf COUNT' per record) -> stack -> samples.

    The ``process PID:"command line"`` frames --subprocesses adds are dropped: a command
    line may carry a secret, and the process is not a code path."""
    out: dict[str, int] = {}
    for m in _RECORD.finditer(text):
        frames = [f for f in m.group(2).split(";")
                  if f and not (f.startswith("process ") and ':"' in f)]
        if frames:
            key = ";".join(frames)
            out[key] = out.get(key, 0) + int(m.group(3))
    return out


@dataclass
class _Spy:
    pid: int
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path


@dataclass
class CpuProfiler:
    """py-spy processes sampling the target's pids; ``stop`` gives the folded stacks."""

    rate: int
    pids: tuple[int, ...]
    spies: list[_Spy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = 0.0
    workdir: Path | None = None

    def start(self, exe: str, bound_s: float) -> CpuProfiler:
        self.workdir = Path(tempfile.mkdtemp(prefix="perfopt-profile-"))
        self.started = time.monotonic()
        for pid in self.pids[:MAX_PIDS]:
            out, err = self.workdir / f"{pid}.folded", self.workdir / f"{pid}.err"
            cmd = [exe, "record", "--pid", str(pid), "--rate", str(self.rate), "--format", "raw",
                   "--function", "--nonblocking", "--subprocesses",
                   "--duration", str(max(1, int(bound_s))), "-o", str(out)]
            with open(err, "wb") as err_file:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=err_file)
            self.spies.append(_Spy(pid, proc, out, err))
        return self

    def stop(self) -> FoldedProfile:
        """Interrupt every py-spy, read its stacks, clean up; never raises."""
        duration = time.monotonic() - self.started if self.started else 0.0
        for spy in self.spies:
            if spy.proc.poll() is None:
                spy.proc.send_signal(signal.SIGINT)
            elif spy.out.exists():  # it reached its --duration bound: the run was longer
                self.notes.append(f"{TOOL} on pid {spy.pid} stopped before the run ended "
                                  "(its bound); the profile covers the run's start")
        stacks: dict[str, int] = {}
        for spy in self.spies:
            for key, n in self._collect(spy).items():
                stacks[key] = stacks.get(key, 0) + n
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.spies and not stacks and not self.notes:
            self.notes.append(f"{TOOL} took no samples: the target was idle during the run")
        return FoldedProfile(TOOL, self.rate, round(duration, 3), stacks, self.pids,
                             "; ".join(self.notes))

    def _collect(self, spy: _Spy) -> dict[str, int]:
        try:
            spy.proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            spy.proc.kill()
            spy.proc.wait()
            self.notes.append(f"{TOOL} on pid {spy.pid} did not stop within {STOP_WAIT_S:g} s")
            return {}
        try:
            return parse_folded(spy.out.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            self.notes.append(f"{TOOL} could not profile pid {spy.pid}: {_reason(spy.err)}")
            return {}


def _reason(err: Path) -> str:
    """py-spy's 'Error: ...' line (its backtrace left out)."""
    try:
        lines = err.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no output"
    found = next((ln for ln in lines if ln.startswith("Error:")), "")
    return found.removeprefix("Error:").strip() or (lines[0].strip() if lines else "no output")


Profiler = CpuProfiler | PerfProfiler
_PYTHON = re.compile(r"^(python|pypy)[0-9.]*[a-z]?$")
"""An interpreter's executable name: python, python3, python3.11, python3.13t, pypy3."""


def is_python(pids: tuple[int, ...]) -> bool:
    """Does one of ``pids`` or their children run a Python interpreter?"""
    for pid in process_tree(pids):
        try:
            proc = psutil.Process(pid)
            exe = proc.exe() or (proc.cmdline() or [""])[0]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if _PYTHON.match(Path(exe).name):
            return True
    return False


def choose_tool(tool: str, pids: tuple[int, ...]) -> str:
    """The sampler for ``pids``: the spec's, or with auto py-spy for Python, else perf."""
    if tool != "auto":
        return tool
    return TOOL if is_python(pids) else "perf"


def start_profiler(pids: tuple[int, ...], process_name: str | None, rate: int,
                   expected_s: float, tool: str = "auto") -> Profiler | FoldedProfile:
    """A running profiler over the target's processes, or the FoldedProfile saying why not."""
    if not pids and process_name:
        pids = _pids_named(process_name)
    if not pids:
        return FoldedProfile(tool if tool != "auto" else TOOL, rate, 0.0,
                             note="profiling needs a target process "
                                  "(target.start, target.process or demo)")
    chosen = choose_tool(tool, pids)
    if chosen != TOOL:
        why = "; the target is not Python, so py-spy cannot sample it" if tool == "auto" else ""
        return start_perf(pids, rate, expected_s + SAFETY_S, why)
    exe = shutil.which(TOOL)
    if exe is None:
        return FoldedProfile(TOOL, rate, 0.0, note=f"profiling is on but {TOOL} is not on PATH "
                                                   f"({INSTALL})")
    return CpuProfiler(rate, pids).start(exe, expected_s + SAFETY_S)


def _pids_named(name: str) -> tuple[int, ...]:
    """The processes the sampler finds by ``name`` (engine.target.sampler), this one excepted."""
    from engine.target.sampler import find_processes

    return tuple(p for p in find_processes(name) if p != os.getpid())[:MAX_PIDS]


def profile_run(spec: Spec, pids: tuple[int, ...], process_name: str | None,
                profile: LoadProfile, max_run_s: float | None
                ) -> Profiler | FoldedProfile | None:
    """With the spec's ``profiling:`` on, the profiler for one run of ``profile``; else None."""
    settings = profiling_of(spec)
    if settings is None:
        return None
    return start_profiler(pids, process_name, settings.rate, max_run_s or _expected_s(profile),
                          settings.tool)


def _expected_s(profile: LoadProfile) -> float:
    """How long a run of ``profile`` is planned to take (its load shape), for py-spy's bound."""
    from engine.driver.shapes import shape_of

    try:
        return max(shape_of(profile).duration_s, profile.duration_s + profile.ramp_up_s)
    except (ValueError, OSError):
        return 3600.0


def finish(profiler: Profiler | FoldedProfile | None) -> FoldedProfile | None:
    """The run's profile: the stopped profiler's stacks, or why there are none."""
    return profiler.stop() if isinstance(profiler, (CpuProfiler, PerfProfiler)) else profiler
