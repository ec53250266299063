"""Where a run happened: a host fingerprint and the git commit/branch of the working tree.

Latency from two different machines is not comparable, so every stored run carries a
short, stable hash of the hardware and software that shape its numbers (CPU model,
core count, kernel release, Python version). Hostnames are left out on purpose: two
identical CI runners should match, and one laptop renamed should not stop matching.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GitInfo", "HostFingerprint", "git_info", "host_fingerprint"]

_GIT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class HostFingerprint:
    """What the machine is. ``hash`` is 12 hex digits of SHA-256 over the other fields."""

    cpu_model: str
    cores: int
    """Logical CPUs available to this process (affinity-aware where the OS tells)."""
    kernel: str
    python: str
    hash: str

    @property
    def text(self) -> str:
        """Human description, e.g. ``AMD EPYC 7B13 x2, Linux 6.1.0, Python 3.11.9``."""
        return f"{self.cpu_model} x{self.cores}, {platform.system()} {self.kernel}, " \
               f"Python {self.python}"


@dataclass(frozen=True)
class GitInfo:
    """The commit (40 hex) and branch ('' when detached) the run was made from."""

    commit: str
    branch: str


def make_fingerprint(cpu_model: str, cores: int, kernel: str, python: str) -> HostFingerprint:
    """Build a fingerprint from explicit fields (tests and imports of foreign runs)."""
    key = "\x1f".join((cpu_model, str(cores), kernel, python))
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return HostFingerprint(cpu_model, cores, kernel, python, digest)


def host_fingerprint() -> HostFingerprint:
    """Fingerprint of the machine this process runs on."""
    return make_fingerprint(_cpu_model(), _cores(), platform.release(),
                            platform.python_version())


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """First ``model name`` of /proc/cpuinfo; platform.processor() elsewhere."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cores() -> int:
    # sched_getaffinity sees cgroup/taskset limits, which is what the load generator gets.
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def git_info(cwd: str | Path | None = None) -> GitInfo | None:
    """Commit and branch of the repository containing ``cwd``, or None outside one.

    Tolerates git being absent, slow (5 s timeout) or the directory not being a
    repository: history is still recorded, just without the commit.
    """
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return None
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd) or ""
    return GitInfo(commit, "" if branch == "HEAD" else branch)


def _git(args: list[str], cwd: str | Path | None) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=_GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None
