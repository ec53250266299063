"""The coordinator's live interval merge: interval k of every live host, together.

Each host sends its recorder state after it closed an interval (its totals so far and that
interval). Interval k is merged only when every live host has delivered k, so the progress
line and the abort check never see one host's interval k+2 beside another's k. A host's
recorder can close several intervals at once and a message can be lost (engine.scale.host
sends only the last one closed): when a host has already moved past k without sending it,
k never comes from that host and is skipped for all. Intervals go out in order, each once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["BACKLOG", "IntervalMerge"]

BACKLOG = 64
"""Intervals kept per host while a slower host has not delivered them (older ones are
dropped: such an interval can then no longer be merged, so it is skipped)."""

State = dict[str, Any]


def interval_index(state: State) -> int:
    """The index of the interval a host's state was sent for (its last closed one)."""
    return int(state["intervals"][-1]["index"])


class IntervalMerge:
    """The hosts' interval states by index until every live host has delivered one."""

    def __init__(self, hosts: Sequence[str], backlog: int = BACKLOG) -> None:
        self.states: dict[str, dict[int, State]] = {h: {} for h in hosts}
        self.backlog = backlog
        self.done = -1
        """The last interval index handed out or skipped."""

    def add(self, host: str, state: State) -> None:
        """One host's state for one closed interval (ignored for a lost or unknown host,
        or an interval already handed out or skipped)."""
        held = self.states.get(host)
        k = interval_index(state)
        if held is None or k <= self.done:
            return
        held[k] = state
        while len(held) > self.backlog:
            del held[min(held)]

    def lose(self, host: str) -> None:
        """A lost host: no longer waited for; what it sent is not merged."""
        self.states.pop(host, None)

    def ready(self) -> list[tuple[int, list[State]]]:
        """Every interval now complete, in index order: (k, each live host's state for k,
        in host order). Intervals some live host skipped are dropped."""
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
