"""What the target's sampled stacks say (issue #21): its top functions by on-CPU time.

Input: the ``FoldedProfile`` of each run (engine.target.profiler), stacks root first, a
frame written ``function (file:line)``. A function's *self* samples are those where it is
the leaf (running its own code, or a C call it made); its *total* samples are those where
it is anywhere on the stack (counted once per stack, so recursion does not count twice).
Shares are of all samples. The on-CPU seconds are samples / rate: py-spy leaves idle
threads out, so they are the time the target's threads ran (several threads: more than
the wall time). Computing only; the report prints ``ProfileAnalysis.to_doc()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.result import FoldedProfile

__all__ = ["FunctionTime", "ProfileAnalysis", "analyse_profile", "frame_parts", "hot_evidence"]

TOP = 10
MAX_STACKS = 500
"""Stacks kept in the report (largest first) for the flame graph; the rest are counted."""
HOT_MIN_SHARE = 0.10
"""A function names the cpu bottleneck only with at least this share of self samples."""


@dataclass(frozen=True)
class FunctionTime:
    """One function's samples: self (it was the leaf) and total (it was on the stack)."""

    function: str
    where: str
    """'file:line' of the function's first line ('' when py-spy gave none)."""
    self_samples: int
    total_samples: int
    self_share: float
    total_share: float

    @property
    def label(self) -> str:
        return f"{self.function} ({self.where})" if self.where else self.function

    def to_doc(self) -> dict[str, Any]:
        return {"function": self.function, "where": self.where,
                "self_samples": self.self_samples, "total_samples": self.total_samples,
                "self_share": round(self.self_share, 6), "total_share": round(self.total_share, 6)}


@dataclass(frozen=True)
class ProfileAnalysis:
    """The profile of one run (or of several merged): top functions, stacks, notes."""

    tool: str = "py-spy"
    rate: int = 0
    samples: int = 0
    duration_s: float = 0.0
    top_self: tuple[FunctionTime, ...] = ()
    top_total: tuple[FunctionTime, ...] = ()
    stacks: tuple[tuple[str, int], ...] = ()
    omitted_samples: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def on_cpu_s(self) -> float:
        return self.samples / self.rate if self.rate else 0.0

    @property
    def hot(self) -> FunctionTime | None:
        """The function with the most self samples, when it holds HOT_MIN_SHARE of them."""
        best = self.top_self[0] if self.top_self else None
        return best if best is not None and best.self_share >= HOT_MIN_SHARE else None

    def to_doc(self) -> dict[str, Any]:
        return {"tool": self.tool, "rate": self.rate, "samples": self.samples,
                "duration_s": round(self.duration_s, 6), "on_cpu_s": round(self.on_cpu_s, 6),
                "top_self": [f.to_doc() for f in self.top_self],
                "top_total": [f.to_doc() for f in self.top_total],
                "stacks": [[s, n] for s, n in self.stacks],
                "omitted_samples": self.omitted_samples, "notes": list(self.notes)}


def frame_parts(frame: str) -> tuple[str, str]:
    """'name (file:line)' -> ('name', 'file:line'); a bare frame -> (frame, '')."""
    if frame.endswith(")") and " (" in frame:
        name, _, where = frame[:-1].rpartition(" (")
        return name, where
    return frame, ""


def _count(stacks: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    for stack, n in stacks.items():
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + n
    return own, total


def _top(by: dict[str, int], own: dict[str, int], total: dict[str, int],
         samples: int) -> tuple[FunctionTime, ...]:
    ranked = sorted(by, key=lambda f: (-by[f], f))[:TOP]
    return tuple(FunctionTime(*frame_parts(f), own.get(f, 0), total[f], own.get(f, 0) / samples,
                              total[f] / samples) for f in ranked)


def analyse_profile(profiles: Sequence[FoldedProfile]) -> ProfileAnalysis | None:
    """The merged profile of ``profiles``; None when there is none at all."""
    if not profiles:
        return None
    stacks: dict[str, int] = {}
    for p in profiles:
        for s, n in p.stacks.items():
            stacks[s] = stacks.get(s, 0) + n
    notes = tuple(dict.fromkeys(p.note for p in profiles if p.note))
    samples = sum(stacks.values())
    first = profiles[0]
    duration = sum(p.duration_s for p in profiles)
    if not samples:
        return ProfileAnalysis(first.tool, first.rate, 0, duration, notes=notes)
    own, total = _count(stacks)
    kept = sorted(stacks.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_STACKS]
    return ProfileAnalysis(first.tool, first.rate, samples, duration,
                           _top(own, own, total, samples), _top(total, own, total, samples),
                           tuple(kept), samples - sum(n for _, n in kept), notes)


def hot_evidence(profile: ProfileAnalysis | None) -> str:
    """The bottleneck evidence naming the hot function; '' without one."""
    hot = profile.hot if profile is not None else None
    if profile is None or hot is None:
        return ""
    return (f"profile: {hot.label} is {hot.self_share:.0%} of the target's on-CPU samples "
            f"(self; {hot.total_share:.0%} with what it calls), {profile.samples} samples at "
            f"{profile.rate}/s ({profile.tool})")
