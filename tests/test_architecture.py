"""Import contracts: no cycles, one-way layers, and a light validate / dry-run.

Read from the source with ``ast`` (no import side effects). Module-level imports
count; imports inside functions (deliberately lazy) and under ``TYPE_CHECKING``
(annotations only) do not make cycles, but every import, lazy or not, must respect
the layers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.specs import REPO

ENGINE = REPO / "engine"
HOT_PATH = "engine.hotpath"
LAYERS: dict[str, tuple[str, ...]] = {
    # a module under this prefix ... may not import modules under these prefixes
    "engine.spec": ("engine.driver", "engine.analysis", "engine.report", "engine.history",
                    "engine.target", "engine.gates", "engine.pipeline", "engine.hotpath"),
    "engine.analysis": ("engine.driver", "engine.target", "engine.report", "engine.commands",
                        "engine.gates", "engine.pipeline"),
    "engine.report": ("engine.analysis", "engine.driver", "engine.target", "engine.commands",
                      "engine.pipeline"),
    "engine.driver": ("engine.analysis", "engine.target", "engine.report", "engine.history",
                      "engine.gates", "engine.commands", "engine.pipeline"),
    "engine.gates": ("engine.driver", "engine.target", "engine.report", "engine.commands",
                     "engine.pipeline"),
    "engine.history": ("engine.driver", "engine.target", "engine.report", "engine.commands",
                       "engine.pipeline"),
    # scale-out runs the driver on generator hosts and merges into its RunResult; it never
    # reaches downstream (analysis, gates, reports) nor the target session around it
    "engine.scale": ("engine.analysis", "engine.target", "engine.report", "engine.history",
                     "engine.gates", "engine.commands", "engine.pipeline"),
    # live outputs read progress events only; they never reach into the stages around a run
    "engine.live": ("engine.analysis", "engine.target", "engine.report", "engine.history",
                    "engine.gates", "engine.commands", "engine.pipeline"),
}
KNOWN_DEBT: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imported(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        yield node.module
        yield from (f"{node.module}.{a.name}" for a in node.names)


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _eager_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Statements that run at import time: not function bodies, not TYPE_CHECKING blocks."""
    for stmt in body:
        if _is_type_checking(stmt) or isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        yield stmt
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from _eager_nodes([s for s in inner if isinstance(s, ast.stmt)])


def _eager(tree: ast.Module) -> set[str]:
    """Imports that run when the module is imported (not in functions or TYPE_CHECKING)."""
    out: set[str] = set()
    for node in _eager_nodes(tree.body):
        out.update(_imported(node))
    return {m for m in out if m in MODULES}


def _all(tree: ast.Module) -> set[str]:
    return {m for node in ast.walk(tree) for m in _imported(node) if m in MODULES}


TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative enough)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_engine_has_no_import_cycles() -> None:
    graph = {name: _eager(tree) - {name} for name, tree in TREES.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _violations() -> list[tuple[str, str]]:
    bad = []
    for name, tree in TREES.items():
        for layer, banned in LAYERS.items():
            if name == layer or name.startswith(layer + "."):
                bad += [(name, m) for m in sorted(_all(tree)) if m.startswith(banned)]
        if name == HOT_PATH or name.startswith(HOT_PATH + "."):
            bad += [(name, m) for m in sorted(_all(tree))
                    if not m.startswith(HOT_PATH) and m != "engine"]
    return bad


def test_layers_import_one_way() -> None:
    """spec knows nothing downstream; analysis never imports driver, target or report;
    report never imports analysis; the hot path imports only itself."""
    assert [v for v in _violations() if v not in KNOWN_DEBT] == []


def test_known_debt_is_still_real() -> None:
    """An entry that no longer happens must leave KNOWN_DEBT (so the list only shrinks)."""
    assert set(_violations()) >= KNOWN_DEBT


LIGHT = """
import sys
from engine.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("numpy", "scipy", "psutil", "engine.hotpath._native", "uvloop")
               if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize("argv", [["validate", "specs/"], ["apply", "specs/", "--dry-run"]],
                         ids=["validate", "dry-run"])
def test_validate_and_dry_run_load_no_numeric_native_or_sampling_code(argv: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", LIGHT, *argv], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert "HEAVY=\n" in result.stdout, result.stdout + result.stderr


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def test_no_module_over_400_lines() -> None:
    long = {name: n for name, path in MODULES.items()
            if (n := path.read_text(encoding="utf-8").count("\n")) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_over_40_lines() -> None:
    long = {f"{name}.{node.name}": node.end_lineno - node.lineno + 1
            for name, tree in TREES.items() for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES}
    assert long == {}
