"""Markdown building blocks shared by the report sections: tables, lists, 'no data' lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from engine.report.fmt import cell

__all__ = ["bullets", "no_data", "table"]


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; cells are escaped."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def bullets(items: Iterable[Any]) -> str:
    """A Markdown bullet list, one line per item."""
    return "\n".join(f"- {str(i).strip()}" for i in items)


def no_data(what: str) -> str:
    """The one line a section shows when its data does not exist (never invented numbers)."""
    return f"_{what}_"
