"""Golden-file comparison for the report renderers.

``PERFOPT_REGEN_GOLDEN=1 pytest tests/report/`` rewrites the files in
tests/golden/ instead of comparing (then review the diff by eye and commit).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
REGEN = os.environ.get("PERFOPT_REGEN_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    """Assert ``actual`` equals tests/golden/``name`` (or rewrite it when regenerating)."""
    path = GOLDEN_DIR / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), (f"missing golden file {path}; create it with "
                           "PERFOPT_REGEN_GOLDEN=1 pytest tests/report/")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"golden/{name}", "actual", n=2))
        raise AssertionError(f"{name} differs from its golden file (regenerate with "
                             f"PERFOPT_REGEN_GOLDEN=1 if intended):\n{diff[:6000]}")
