"""Shared state while turning one validated document into records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from engine.spec.errors import SpecError, format_path
from engine.spec.model import Location
from engine.spec.source import Document
from engine.spec.validate import locate
from engine.units import (
    Change,
    Comparison,
    UnitError,
    parse_change,
    parse_comparison,
    parse_duration,
    parse_percent,
    parse_rate,
)

T = TypeVar("T")
P = tuple[str | int, ...]


class Ctx:
    """Collects every problem with its location instead of stopping at the first."""

    def __init__(self, doc: Document, base_dir: Path) -> None:
        self.doc = doc
        self.base_dir = base_dir
        self.errors: list[SpecError] = []

    def error(self, path: P, message: str) -> None:
        line, col = locate(self.doc, path)
        self.errors.append(SpecError(self.doc.file, line, col, format_path(path), message))

    def location(self, path: P) -> Location:
        return Location(self.doc.file, locate(self.doc, path)[0])

    def _parse(self, path: P, text: Any, parser: Callable[[str], T]) -> T | None:
        if text is None:
            return None
        try:
            return parser(str(text))
        except UnitError as exc:
            self.error(path, f"expected {exc.expected}, got {str(text)!r}")
            return None

    def duration(self, path: P, text: Any, *, positive: bool = True) -> float | None:
        value = self._parse(path, text, parse_duration)
        if value is not None and positive and value <= 0:
            self.error(path, f"expected a duration greater than zero, got {text!r}")
            return None
        return value

    def rate(self, path: P, text: Any) -> float | None:
        value = self._parse(path, text, parse_rate)
        if value is not None and value <= 0:
            self.error(path, f"expected a rate greater than zero, got {text!r}")
            return None
        return value

    def percent(self, path: P, text: Any) -> float | None:
        return self._parse(path, text, parse_percent)

    def comparison(self, path: P, text: Any, kind: str) -> Comparison | None:
        return self._parse(path, text, lambda t: parse_comparison(t, kind))

    def change(self, path: P, text: Any) -> Change | None:
        return self._parse(path, text, parse_change)
