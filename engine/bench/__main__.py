"""``python -m engine.bench NAME [args]``: run one benchmark and print its table."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine.bench import BENCHMARKS, get


def main(argv: Sequence[str]) -> int:
    """Dispatch to the benchmark named by argv[0]; 2 with a usage line if unknown."""
    if not argv or argv[0] not in BENCHMARKS:
        names = ", ".join(sorted(BENCHMARKS))
        print(f"usage: python -m engine.bench {{{names}}} [options]", file=sys.stderr)
        return 2
    return get(argv[0])(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
