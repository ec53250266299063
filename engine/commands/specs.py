"""Loading the specs a command was given, as every command reports it."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine.spec.loader import LoadResult, load_paths


def load_or_report(paths: Sequence[str]) -> LoadResult | None:
    """The loaded specs, or None after printing every problem (file:line: what was
    expected) to stderr; the caller then exits 2 (engine.result.ExitCode.SPEC_INVALID)."""
    result = load_paths(list(paths))
    for error in result.errors:
        print(error, file=sys.stderr)
    return None if result.errors else result
