"""Lint and types are part of the suite (as uvloop's tests/test_sourcecode.py does)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.specs import REPO


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *cmd], cwd=REPO, capture_output=True, text=True,
                          timeout=600)


def test_ruff_clean() -> None:
    result = _run("ruff", "check", "engine", "tests", "benchmarks", "tools", "setup.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_spec_schema_is_generated_from_its_source() -> None:
    result = subprocess.run([sys.executable, "tools/gen_spec_schema.py", "--check"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, "schemas/perfopt.v1.schema.json drifted: run tools/gen_spec_schema.py"
