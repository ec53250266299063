"""The records of the bottleneck analysis (engine.analysis.bottlenecks): a ranked
``Bottleneck`` and the ``Candidate`` it is ranked from."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Bottleneck", "Candidate"]


@dataclass(frozen=True)
class Bottleneck:
    """One ranked bottleneck; ``share`` is the fraction of total latency it explains
    (of requests, for kind ``errors``)."""

    rank: int
    name: str
    kind: str
    """cpu, memory, io, network, database, dependency, queueing or errors."""
    share: float
    journeys: tuple[str, ...]
    evidence: tuple[str, ...]
    suggestion: str | None
    """The hypothesis type to try: database, caching, algorithm, async, api, pooling."""
    component: str | None = None
    time_s: float = 0.0
    """Latency seconds this bottleneck explains, summed over requests."""
    behind: str = ""
    """For queueing: the name of the on-CPU bottleneck the requests queue behind."""

    @property
    def share_of(self) -> str:
        """The base ``share`` is a fraction of: 'latency' (all journeys' summed response time)
        or 'requests' (kind errors: the share of all requests that failed)."""
        return "requests" if self.kind == "errors" else "latency"

    @property
    def share_text(self) -> str:
        """'12.3% of total latency' or '20.0% of requests failed'."""
        if self.share_of == "requests":
            return f"{self.share:.1%} of requests failed"
        return f"{self.share:.1%} of total latency"

    def to_doc(self) -> dict[str, object]:
        """The report's ``Bottleneck`` object (plus component, time_s, share_of, share_text,
        behind)."""
        return {"rank": self.rank, "name": self.name, "kind": self.kind, "share": self.share,
                "journeys": list(self.journeys), "evidence": list(self.evidence),
                "suggestion": self.suggestion, "component": self.component,
                "time_s": self.time_s, "share_of": self.share_of, "share_text": self.share_text,
                "behind": self.behind}


@dataclass(frozen=True)
class Candidate:
    """A bottleneck before ranking: the latency time it explains (``time_s``), or a share set
    directly (errors); ``find_bottlenecks`` ranks these into ``Bottleneck``s."""

    name: str
    kind: str
    time_s: float
    journeys: tuple[str, ...]
    evidence: tuple[str, ...]
    suggestion: str | None
    component: str | None = None
    share: float | None = None  # set directly for errors (a share of requests)
    behind: str = ""
    """For queueing: the on-CPU candidate the requests queue behind (its root cause)."""
