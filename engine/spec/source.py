"""Read spec files safely and parse each YAML document with strictyaml.

strictyaml rejects the YAML features that make configs ambiguous (anchors,
tags, duplicate keys, implicit typing); everything arrives as strings with a
line for every node, which the validator uses to point at the problem.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import strictyaml
from strictyaml.ruamel.comments import CommentedMap, CommentedSeq
from strictyaml.ruamel.error import MarkedYAMLError

from engine.spec.errors import SpecError

MAX_BYTES = 1024 * 1024
"""Specs larger than 1 MiB are rejected before parsing (they are never hand-written)."""

Path_ = tuple[str | int, ...]
_DOC_SEP = re.compile(r"^---\s*(#.*)?$")


@dataclass(frozen=True)
class Document:
    """One parsed YAML document: plain data (strings, lists, dicts) and node positions."""

    file: str
    index: int
    first_line: int
    data: Any
    lines: dict[Path_, tuple[int, int]]
    text: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    """1-based (line, column) where each mapping value starts (``lines`` has its key's);
    sequence items start where ``lines`` says."""


def read_text(path: Path, shown: str) -> tuple[str | None, list[SpecError]]:
    """File contents as text, or the reason it cannot be a spec."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [_err(shown, 1, f"file is {size / 1e6:.1f} MB; a spec may be at most "
                                         f"{MAX_BYTES // 1024} KiB")]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [_err(shown, 1, f"cannot read file: {exc.strerror or exc}")]
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return None, [_err(shown, line, "binary data (NUL byte): expected a YAML text file")]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [_err(shown, line, "not UTF-8 text: expected a YAML text file")]


def split_documents(text: str) -> list[tuple[int, str]]:
    """Split on ``---`` lines: (first line number, text) per non-empty document."""
    chunks: list[tuple[int, list[str]]] = [(1, [])]
    for number, line in enumerate(text.splitlines(), start=1):
        if _DOC_SEP.match(line):
            chunks.append((number + 1, []))
        elif line.strip() == "...":
            continue
        else:
            chunks[-1][1].append(line)
    docs = [(start, "\n".join(lines) + "\n") for start, lines in chunks]
    return [(start, body) for start, body in docs if _has_content(body)]


def _has_content(body: str) -> bool:
    return any(ln.strip() and not ln.lstrip().startswith("#") for ln in body.splitlines())


def parse_document(shown: str, index: int, first_line: int, body: str) -> Document | SpecError:
    """strictyaml-parse one document; a syntax problem becomes a SpecError."""
    try:
        parsed = strictyaml.dirty_load(body, allow_flow_style=True)
    except MarkedYAMLError as exc:
        return _yaml_error(shown, first_line, exc, body)
    except strictyaml.StrictYAMLError as exc:
        return _err(shown, first_line, f"invalid YAML: {str(exc).splitlines()[-1]}")
    except Exception as exc:
        return _err(shown, first_line, f"invalid YAML: {_first_line(exc)} (control characters or "
                                       "malformed text?)")
    lines: dict[Path_, tuple[int, int]] = {(): (first_line, 1)}
    values: dict[Path_, tuple[int, int]] = {}
    _index_lines(parsed._chunk.contents, (), first_line - 1, lines, values)
    return Document(shown, index, first_line, parsed.data, lines, body, values)


def _yaml_error(shown: str, first_line: int, exc: MarkedYAMLError, body: str = "") -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    line = first_line + (mark.line if mark else 0)
    column = (mark.column + 1) if mark else 1
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    if "'\\t'" in problem or "\t" in problem:
        problem = "a tab character: indent YAML with spaces"
    context = (exc.context or "").strip()
    if context and context not in problem and "While" not in context:
        problem = f"{context}: {problem}"
    if mark and _unquoted_reference(body, mark.line, mark.column):
        problem += '; inside { } or [ ] quote a ${VAR}: "${VAR}"'
    return SpecError(shown, line, column, "", problem)


def _unquoted_reference(body: str, row: int, column: int) -> bool:
    """Whether the parser stopped at the ``{`` of a ``${`` (a plain ``${VAR}`` in a flow
    mapping or list, which YAML reads as the start of a nested mapping)."""
    lines = body.splitlines()
    return 0 <= row < len(lines) and lines[row][max(0, column - 1):column + 1] == "${"


def _index_lines(node: Any, path: Path_, offset: int, out: dict[Path_, tuple[int, int]],
                 values: dict[Path_, tuple[int, int]]) -> None:
    """Record 1-based (line, column) of every node from ruamel's positions: keys in ``out``
    (where errors point), where mapping values start in ``values``."""
    if isinstance(node, CommentedMap):
        for key in node:
            line, col = node.lc.key(key)
            child = (*path, str(key))
            out[child] = (line + 1 + offset, col + 1)
            vline, vcol = node.lc.value(key)
            values[child] = (vline + 1 + offset, vcol + 1)
            _index_lines(node[key], child, offset, out, values)
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            line, col = node.lc.item(i)
            out[(*path, i)] = (line + 1 + offset, col + 1)
            _index_lines(item, (*path, i), offset, out, values)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _err(shown: str, line: int, message: str) -> SpecError:
    return SpecError(shown, line, 1, "", message)


def token_position(doc: Document, path: Path_, token: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the ``nth`` (0-based) ``token`` written in the value at
    ``path``, searched in the document's text from where that value starts; where the value
    (or its key) starts when the text does not hold it (a YAML escape spelled it otherwise)."""
    start = doc.values.get(path) or doc.lines.get(path) or (doc.first_line, 1)
    starts = [0]
    starts += [i + 1 for i, ch in enumerate(doc.text) if ch == "\n"]
    row = start[0] - doc.first_line
    if not 0 <= row < len(starts):
        return start
    found = starts[row] + start[1] - 2
    for _ in range(nth + 1):
        found = doc.text.find(token, found + 1)
        if found < 0:
            return start
    row = bisect_right(starts, found) - 1
    return doc.first_line + row, found - starts[row] + 1
