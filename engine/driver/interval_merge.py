"""The live interval merge: interval k of every live source, together, in index order.

A source is one of the parent's worker processes (engine.driver.worker) or one generator
host of a Dask run (engine.scale.coordinator). Each sends its recorder state after it
closed an interval (its totals so far and that interval). Interval k is merged only when
every live source has delivered k, so the progress line and the abort check never see one
source's interval k+2 beside another's k. A recorder can close several intervals at once
and a message can be lost (a source sends only the last one it closed): when a source has
already moved past k without sending it, k never comes from that source and is skipped for
all. A source that has finished sends nothing more: what it sent still merges, and no
interval it did not deliver is complete, so none after it goes out (a lost source, by
contrast, is no longer waited for). Intervals go out in order, each once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

__all__ = ["BACKLOG", "IntervalMerge"]

BACKLOG = 64
"""Intervals kept per source while a slower source has not delivered them (older ones are
dropped: such an interval can then no longer be merged, so it is skipped)."""

State = dict[str, Any]
Source = TypeVar("Source", bound=Hashable)


def interval_index(state: State) -> int:
    """The index of the interval a source's state was sent for (its last closed one)."""
    return int(state["intervals"][-1]["index"])


class IntervalMerge(Generic[Source]):
    """The sources' interval states by index until every live source has delivered one."""

    def __init__(self, sources: Iterable[Source], backlog: int = BACKLOG) -> None:
        self.states: dict[Source, dict[int, State]] = {s: {} for s in sources}
        self.backlog = backlog
        self.done = -1
        """The last interval index handed out or skipped."""

    def add(self, source: Source, state: State) -> None:
        """One source's state for one closed interval (ignored for a lost or unknown
        source, or an interval already handed out or skipped)."""
        held = self.states.get(source)
        k = interval_index(state)
        if held is None or k <= self.done:
            return
        held[k] = state
        while len(held) > self.backlog:
            del held[min(held)]

    def lose(self, source: Source) -> None:
        """A lost source: no longer waited for; what it sent is not merged."""
        self.states.pop(source, None)

    def ready(self) -> list[tuple[int, list[State]]]:
        """Every interval now complete, in index order: (k, each live source's state for
        k, in source order). Intervals some live source skipped are dropped."""
        out = []
        held = list(self.states.values())
        while held and all(held):
            k = min(min(h) for h in held)
            together = [h.get(k) for h in held]
            for h in held:
                for i in [i for i in h if i <= k]:
                    del h[i]
            self.done = k
            if all(s is not None for s in together):
                out.append((k, [s for s in together if s is not None]))
        return out
