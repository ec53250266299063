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


def test_an_extension_built_before_a_method_the_driver_calls_counts_as_not_built(
        ext: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stale build (no ``CConnection.rejoin``) would fail in the pool's connect task, which
    nobody awaits, and lose its requests: the selector takes the pure twins instead (and the
    suite fails on them, tests/conftest.py)."""
    import importlib

    from engine.hotpath import native as selector

    stale = ModuleType("engine.hotpath._native")
    for name in selector._API:
        setattr(stale, name, getattr(ext, name))
    stale.CConnection = type("CConnection", (), {})  # type: ignore[attr-defined]
    real = importlib.import_module

    def load(name: str, *args: object) -> ModuleType:
        return stale if name == "engine.hotpath._native" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", load)
    assert selector._select()[1] == "py"
    stale.CConnection.rejoin = lambda self, idle, queue: None
    assert selector._select()[1] == "c"
