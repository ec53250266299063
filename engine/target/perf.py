"""perf as the sampling profiler for native targets (issue #21): nginx, Go, C, Java's JVM.

``start_perf`` runs one ``perf record -e cpu-clock -F RATE -g -p PIDS -- sleep BOUND``
over the target's processes and their children (found once, when the run starts); the
``sleep`` is only perf's timer, a bound should the engine be killed. ``PerfProfiler.stop``
interrupts it (SIGINT: perf writes its file and exits), reads the samples back with
``perf script`` and folds the stacks itself (``fold_perf_script``), so the run stores the
same ``FoldedProfile`` py-spy gives, with ``tool="perf"``.

The event is ``cpu-clock``, a timer on the CPU the thread runs on: a sample is 1/RATE s of
on-CPU time, in user space or in the kernel on the target's behalf, as py-spy's are, and it
needs no hardware counters (a VM or container often has none). Call stacks are walked by
frame pointers (``-g``): the leaf (self time) is always right; a binary built without them
ends its stacks early or in ``[unknown]`` frames, so totals undercount its callers.
``--no-bpf-event`` (BPF programs are not profiled) cuts perf's exit after SIGINT from about
1 s to 0.2 s here; perf takes 0.2-0.7 s to attach, so a run's first moments go unsampled.

Profiling never fails a run: perf not on PATH, perf_event_open not permitted (a
container's seccomp, ``kernel.perf_event_paranoid``), or a perf that will not stop
become the profile's ``note``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from engine.result import FoldedProfile

__all__ = ["INSTALL", "TOOL", "PerfProfiler", "fold_perf_script", "process_tree", "start_perf"]

TOOL = "perf"
INSTALL = "Debian/Ubuntu: apt-get install linux-perf"
MAX_PIDS = 64
"""At most this many processes are sampled (one perf for all of them)."""
STOP_WAIT_S = 10.0
"""How long perf record may take to write its file after SIGINT before it is killed."""
SCRIPT_WAIT_S = 60.0
"""How long ``perf script`` may take to read the samples back."""
SCRIPT_FIELDS = "comm,tid,time,event,ip,sym,symoff,dso"
"""perf script's fields, pinned (a user's perfconfig does not change what is parsed)."""
PARANOID = Path("/proc/sys/kernel/perf_event_paranoid")
UNKNOWN = "[unknown]"

_FRAME = re.compile(r"^\s+[0-9a-f]+ (.*?)(?: \(([^()]*)\))?$")
"""An indented callchain line: 'ADDRESS SYMBOL+0xOFF (DSO)'."""
_DELETED = " (deleted))"
"""A binary replaced while it ran: perf writes '(/usr/sbin/nginx (deleted))'."""
_OFFSET = re.compile(r"\+0x[0-9a-f]+$")
_DENIED = re.compile(r"permission|not permitted|perf_event_paranoid|access to performance",
                     re.I)


def fold_perf_script(text: str) -> dict[str, int]:
    """``perf script`` output -> folded stack ('root;...;leaf') -> samples.

    A sample is an unindented header ('comm tid time: event:') followed by its callchain,
    one indented frame per line, leaf first. Each frame becomes 'symbol (dso)': the
    symbol without its '+0x..' offset, the DSO by file name ('libc.so.6', 'nginx',
    '[kernel.kallsyms]'); a frame perf could not name is '[unknown] (dso)', or '[unknown]'
    when the DSO is unknown too, and a run of such frames counts once. The command name
    is left out of the stack, as py-spy's process frames are."""
    out: dict[str, int] = {}
    frames: list[str] = []
    for line in (*text.splitlines(), ""):
        if line[:1].isspace() and line.strip():
            frame = _frame(line)
            if frame is not None:
                frames.append(frame)
            continue
        if frames:
            key = _fold(frames)
            out[key] = out.get(key, 0) + 1
            frames = []
    return out


def _frame(line: str) -> str | None:
    line = line.rstrip()
    if line.endswith(_DELETED):
        line = line[:-len(_DELETED)] + ")"
    m = _FRAME.match(line)
    if m is None:
        return None
    symbol = _OFFSET.sub("", m.group(1).strip()).replace(";", ":") or UNKNOWN
    dso = (m.group(2) or "").strip()
    dso = "" if dso in ("", UNKNOWN) else (dso if dso.startswith("[") else Path(dso).name)
    return f"{symbol} ({dso})" if dso else symbol


def _fold(leaf_first: list[str]) -> str:
    """Root to leaf, ';'-joined, a run of identical unknown frames collapsed to one."""
    kept: list[str] = []
    for frame in reversed(leaf_first):
        if not (kept and frame == kept[-1] and frame.startswith(UNKNOWN)):
            kept.append(frame)
    return ";".join(kept)


def paranoid_level() -> int | None:
    """kernel.perf_event_paranoid, None when unreadable (not Linux)."""
    try:
        return int(PARANOID.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def not_permitted(level: int | None) -> str:
    """The note for a platform that refuses perf_event_open to this process."""
    where = f"perf_event_paranoid={level}" if level is not None else "perf_event_open refused"
    return (f"perf not permitted: {where}; run as root or lower it "
            "(sysctl kernel.perf_event_paranoid=1); in a container, allow perf_event_open "
            "(seccomp) and CAP_PERFMON")


def _precheck() -> str:
    """Why perf cannot run here at all, before trying ('' when it may)."""
    level = paranoid_level()
    if os.geteuid() != 0 and level is not None and level > 2:
        return not_permitted(level)  # Debian's level 3: no perf_event_open without privilege
    return ""


def process_tree(pids: Iterable[int]) -> tuple[int, ...]:
    """``pids`` and their descendants alive now (a shell's child, nginx's workers)."""
    seen: dict[int, None] = {}
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            family = [proc, *proc.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        seen.update((p.pid, None) for p in family)
    return tuple(seen)[:MAX_PIDS]


@dataclass
class PerfProfiler:
    """One perf record over the target's processes; ``stop`` gives the folded stacks."""

    rate: int
    pids: tuple[int, ...]
    exe: str
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="perfopt-perf-")))
    notes: list[str] = field(default_factory=list)
    started: float = 0.0

    @property
    def data(self) -> Path:
        return self.workdir / "perf.data"

    @property
    def err(self) -> Path:
        return self.workdir / "record.err"

    def start(self, bound_s: float) -> PerfProfiler:
        cmd = [self.exe, "record", "-e", "cpu-clock", "-F", str(self.rate), "-g",
               "--no-buildid-cache", "--no-bpf-event", "-o", str(self.data),
               "-p", ",".join(map(str, self.pids)), "--", "sleep", str(max(1, int(bound_s)))]
        self.started = time.monotonic()
        with open(self.err, "wb") as err_file:
            # its own session: a terminal's Ctrl-C reaches apply, which stops perf itself
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err_file,
                                         start_new_session=True)
        return self

    def stop(self) -> FoldedProfile:
        """Interrupt perf record, fold what it recorded, clean up; never raises."""
        duration = time.monotonic() - self.started if self.started else 0.0
        stacks = (self._script() if self._stop_record() else None) or {}
        shutil.rmtree(self.workdir, ignore_errors=True)
        if not stacks and not self.notes:
            self.notes.append(f"{TOOL} took no samples: the target was idle during the run")
        return FoldedProfile(TOOL, self.rate, round(duration, 3), stacks, self.pids,
                             "; ".join(self.notes))

    def _stop_record(self) -> bool:
        """True when perf record ended and left its file."""
        proc = self.proc
        if proc is None:
            return False
        ended_itself = proc.poll() is not None  # its sleep bound ended, or it never started
        if not ended_itself:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.notes.append(f"{TOOL} record did not stop within {STOP_WAIT_S:g} s")
            return False
        if "Captured and wrote" not in _read(self.err):  # perf's closing line when it wrote
            self.notes.append(self._failure())
            return False
        if ended_itself:
            self.notes.append(f"{TOOL} stopped before the run ended (its bound); the profile "
                              "covers the run's start")
        return True

    def _failure(self) -> str:
        text = _read(self.err)
        if _DENIED.search(text):
            return not_permitted(paranoid_level())
        pids = ",".join(map(str, self.pids))
        return f"{TOOL} could not profile pids {pids}: {_first_error(text)}"

    def _script(self) -> dict[str, int] | None:
        cmd = [self.exe, "script", "-F", SCRIPT_FIELDS, "-i", str(self.data)]
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=SCRIPT_WAIT_S, check=False)
        except subprocess.TimeoutExpired:
            self.notes.append(f"{TOOL} script did not finish within {SCRIPT_WAIT_S:g} s")
            return None
        if done.returncode != 0:
            reason = _first_error(done.stderr.decode("utf-8", "replace"))
            self.notes.append(f"{TOOL} script failed: {reason}")
            return None
        return fold_perf_script(done.stdout.decode("utf-8", "replace"))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _first_error(text: str) -> str:
    """perf's first line that is not its '[ perf record: ... ]' chatter or a warning."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("[ perf", "WARNING"))]
    found = (useful or lines or ["no output"])[0]
    return found.removeprefix("Error:").strip() or found


def start_perf(pids: tuple[int, ...], rate: int, bound_s: float,
               why: str = "") -> PerfProfiler | FoldedProfile:
    """A running perf over ``pids`` and their children, or the FoldedProfile saying why not.

    ``why`` says why perf was chosen (auto: the target is not Python), for the notes."""
    exe = shutil.which(TOOL)
    if exe is None:
        return FoldedProfile(TOOL, rate, 0.0, note=f"profiling is on but {TOOL} is not on PATH "
                                                   f"({INSTALL}){why}")
    blocked = _precheck()
    if blocked:
        return FoldedProfile(TOOL, rate, 0.0, note=blocked)
    tree = process_tree(pids)
    if not tree:
        return FoldedProfile(TOOL, rate, 0.0, pids=pids,
                             note=f"{TOOL} found no live process among pids "
                                  f"{','.join(map(str, pids))}")
    return PerfProfiler(rate, tree, exe).start(bound_s)
