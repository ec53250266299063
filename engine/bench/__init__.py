"""Benchmarks run by hand (not timed tests): ``python -m engine.bench NAME``.

Each benchmark module exposes ``main(argv) -> int``; __main__ dispatches by name through
BENCHMARKS so more (e.g. ``driver``) can be registered beside ``histogram``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

# name -> module under engine.bench; a module provides main(argv: Sequence[str]) -> int
BENCHMARKS: dict[str, str] = {
    "histogram": "engine.bench.histogram",
    "sequential": "engine.bench.sequential",
    "stats": "engine.bench.stats",
}


def get(name: str) -> Callable[[Sequence[str]], int]:
    """The main function of benchmark ``name``; KeyError if there is none."""
    module = importlib.import_module(BENCHMARKS[name])
    main: Callable[[Sequence[str]], int] = module.main
    return main
