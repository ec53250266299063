"""The spec's ``profiling:`` block (#21): the tool knob is read, defaulted and checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.spec.loader import load_paths
from engine.spec.model_profiling import TOOLS, profiling_of
from tests.support.specs import VALID, write_spec


def _load(tmp_path: Path, block: str) -> tuple[list[str], str | None]:
    result = load_paths([str(write_spec(tmp_path, VALID + block))])
    if result.errors:
        return [str(e) for e in result.errors], None
    settings = profiling_of(result.specs[0])
    return [], settings.tool if settings else None


@pytest.mark.parametrize("tool", TOOLS)
def test_each_tool_is_kept(tmp_path: Path, tool: str) -> None:
    assert _load(tmp_path, f"profiling: {{rate: 99, tool: {tool}}}\n") == ([], tool)


def test_the_default_tool_is_auto_and_no_block_is_no_profiling(tmp_path: Path) -> None:
    assert _load(tmp_path, "profiling: {rate: 99}\n") == ([], "auto")
    assert _load(tmp_path, "") == ([], None)


def test_an_unknown_tool_is_an_error_at_its_line(tmp_path: Path) -> None:
    errors, _ = _load(tmp_path, "profiling: {tool: gdb}\n")
    line = len(VALID.splitlines()) + 1
    assert len(errors) == 1 and f"spec.yaml:{line}:" in errors[0], errors
    assert "profiling.tool" in errors[0] and "perf" in errors[0], errors
