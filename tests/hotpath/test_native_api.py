"""The extension's .pyi documents every public member the extension has, so the stub a
reader (and mypy) sees is the whole API, the native connection included."""

from __future__ import annotations

import ast
from types import ModuleType

import pytest

from tests.support.specs import REPO

STUB = REPO / "engine" / "hotpath" / "_native.pyi"
# names the .pyx imports for its own use; they are the snapshot module's, not the extension's
IMPORTED = {"np", "IntervalSnapshot", "MAX_GAP_INTERVALS", "STATE_VERSION", "check_mergeable",
            "check_recorder_args", "hist_from_state", "hist_state", "merge_snapshot_lists",
            "open_snapshot"}


def _stubbed() -> dict[str, set[str] | None]:
    """Top-level names of the stub; for a class, the names of its members."""
    out: dict[str, set[str] | None] = {}
    for node in ast.parse(STUB.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {b.name for b in node.body if isinstance(b, ast.FunctionDef)} | {
                b.target.id for b in node.body
                if isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name)}
        elif isinstance(node, ast.FunctionDef):
            out[node.name] = None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = None
    return out


@pytest.fixture
def ext(native: ModuleType) -> ModuleType:
    return native


def test_every_public_name_of_the_extension_is_in_the_stub(ext: ModuleType) -> None:
    public = {n for n in dir(ext) if not n.startswith("_")} - IMPORTED
    assert public - set(_stubbed()) == set()


def test_every_public_member_of_each_extension_class_is_in_the_stub(ext: ModuleType) -> None:
    stub = _stubbed()
    missing = {}
    for name, members in stub.items():
        obj = getattr(ext, name, None)
        if isinstance(obj, type) and members is not None:
            gap = {m for m in vars(obj) if not m.startswith("_")} - members
            if gap:
                missing[name] = gap
    assert missing == {}


def test_the_stub_names_nothing_the_extension_lacks(ext: ModuleType) -> None:
    assert {n for n in _stubbed() if not hasattr(ext, n)} - {"__all__"} == set()
