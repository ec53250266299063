"""What the advisor says: one piece of advice per failure mode found, with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CODES", "Advice", "FailureMode"]


@dataclass(frozen=True)
class FailureMode:
    """One of the flow's common failure modes: its name and the flow's remediation."""

    code: str
    title: str
    remediation: str


CODES: dict[str, FailureMode] = {m.code: m for m in (
    FailureMode("premature-optimization", "Premature optimization",
                "Profile first: optimize one of the top 3-5 bottlenecks the baseline ranks, "
                "with its evidence, not a guess."),
    FailureMode("unmeasured-optimization", "Optimization without measurement",
                "Record a baseline before changing anything, measure every change A/B, and "
                "keep the result as a regression check."),
    FailureMode("load-unlike-production", "Load test doesn't match production",
                "Run each profile for the flow's guidance with production-sized data, the "
                "production journey mix and arrival shape."),
    FailureMode("wrong-metric", "Optimizing the wrong metric",
                "Judge user-facing latency percentiles of journeys with real traffic; a "
                "throughput objective at a fixed arrival rate only measures the schedule."),
)}
"""Every advice code (stable: reports, the JSON ``warnings[]`` and ``advice`` gates use them)."""


@dataclass(frozen=True)
class Advice:
    """One failure mode found, with the evidence for it; ``subject`` names what it is about
    (a hypothesis id, an SLO, a profile or a journey)."""

    code: str
    subject: str
    evidence: str

    @property
    def mode(self) -> FailureMode:
        return CODES[self.code]

    @property
    def text(self) -> str:
        """One line: '<title> (<subject>): <evidence>'."""
        about = f" ({self.subject})" if self.subject else ""
        return f"{self.mode.title}{about}: {self.evidence}"

    def to_doc(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.mode.title, "subject": self.subject,
                "evidence": self.evidence, "remediation": self.mode.remediation}
