"""The ``linear`` pattern: one recommendation algorithm, O(n²) and O(n).

Both return the same list: the distinct products a user viewed, in first-view
order, minus the ones they already own. Inputs are derived from ``n``
deterministically so every request of a given ``n`` does the same work.
"""

from __future__ import annotations


def inputs(n: int) -> tuple[list[int], list[int]]:
    """(viewed, owned) product ids for size ``n`` >= 1; viewed has duplicates."""
    distinct = 2 * n // 3 + 1  # so each product is viewed about 1.5 times
    viewed = [(i * 7919) % distinct for i in range(n)]
    owned = [(i * 13) % n for i in range(0, n, 3)]
    return viewed, owned


def recommend_slow(n: int) -> list[int]:
    """O(n²): membership tests against lists (the planted bottleneck)."""
    viewed, owned = inputs(n)
    out: list[int] = []
    for product in viewed:
        if product not in owned and product not in out:
            out.append(product)
    return out


def recommend_fast(n: int) -> list[int]:
    """O(n): the same result with set membership."""
    viewed, owned = inputs(n)
    skip = set(owned)
    out: list[int] = []
    for product in viewed:
        if product not in skip:
            skip.add(product)
            out.append(product)
    return out
