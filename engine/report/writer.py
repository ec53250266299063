"""Write rendered reports to disk: atomic files, timestamped names, a ``latest`` copy.

Every document passes through ``engine.redact.redact`` before any renderer sees it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.files import atomic_write
from engine.redact import redact
from engine.report.documents import documents

__all__ = ["FORMATS", "canonical_format", "report_basename", "report_dir_problem",
           "write_documents", "write_reports"]

# format -> file extension; aliases map to one canonical name
FORMATS: Mapping[str, str] = {"markdown": "md", "json": "json", "html": "html", "junit": "xml"}
_ALIASES: Mapping[str, str] = {"md": "markdown", "xml": "junit"}
_MAX_NAME = 80


def canonical_format(name: str) -> str:
    """``md``/``markdown`` -> ``markdown``, ``xml``/``junit`` -> ``junit``; ValueError otherwise."""
    fmt = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; expected one of md, markdown, json, "
                         "html, junit")
    return fmt


def report_dir_problem(out_dir: str | Path) -> str:
    """Why reports could not be written into ``out_dir`` (created if missing), or ''.

    apply asks this before any load, so a bad ``--out`` costs no run.
    """
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"report folder {str(out_dir)!r} cannot be created: {exc.strerror or exc}"
    if not path.is_dir():
        return f"report folder {str(out_dir)!r} is not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"report folder {str(out_dir)!r} is not writable"
    return ""


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "report"
    return slug[:_MAX_NAME]


def report_basename(spec_names: Sequence[str], now: datetime) -> str:
    """``user-lookup-20261127T150102.123456Z``; several specs join with ``+``.

    The stamp has microseconds so applies started in the same second into one folder
    keep their own files (a one-second stamp let them overwrite each other).
    """
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    joined = "+".join(_slug(n) for n in spec_names) or "report"
    return f"{joined[:_MAX_NAME]}-{stamp}"


def _renderers() -> Mapping[str, Callable[[Mapping[str, Any]], str]]:
    # imported here so writing one format does not import every renderer's dependencies
    import engine.report.html as html_report
    import engine.report.json_format as json_report
    import engine.report.junit as junit_report
    import engine.report.markdown as markdown_report

    return {"markdown": markdown_report.render, "json": json_report.render,
            "html": html_report.render, "junit": junit_report.render}


def _per_spec(doc: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The document narrowed to one spec (its own verdict), for the per-spec files."""
    return {**doc, "verdict": spec.get("verdict", doc.get("verdict")), "specs": [spec]}


def write_reports(doc: Mapping[str, Any], formats: Iterable[str], out_dir: str | Path,
                  now: datetime, secrets: Sequence[str] = ()) -> list[Path]:
    """Render ``doc`` in each format into ``out_dir``; returns the paths written.

    Per spec and format: ``{spec}-{UTC stamp to the microsecond}.{ext}`` and ``{spec}-latest.{ext}``
    (a copy, not a symlink, so it survives artifact uploads). A document with several
    specs also gets one combined ``{a+b}-{stamp}.{ext}``. ``secrets`` are extra
    header/field names to redact (Authorization and Cookie always are).
    """
    safe: dict[str, Any] = redact(dict(doc), secrets)
    renderers = _renderers()
    out = Path(out_dir)
    written: list[Path] = []
    specs = list(safe.get("specs", []))
    for fmt in dict.fromkeys(canonical_format(f) for f in formats):
        ext, render = FORMATS[fmt], renderers[fmt]
        for spec in specs:
            text = render(_per_spec(safe, spec))
            base = report_basename([str(spec.get("name", "report"))], now)
            written.append(atomic_write(out / f"{base}.{ext}", text))
            written.append(atomic_write(out / f"{_slug(str(spec.get('name')))}-latest.{ext}", text))
        if len(specs) != 1:
            base = report_basename([str(s.get("name", "report")) for s in specs], now)
            written.append(atomic_write(out / f"{base}.{ext}", render(safe)))
    return written


def write_documents(doc: Mapping[str, Any], out_dir: str | Path,
                    secrets: Sequence[str] = ()) -> list[Path]:
    """The ADRs, runbook cards and lessons files of ``doc`` (engine/report/documents.py)
    under ``out_dir``, redacted like the reports; returns the paths written."""
    safe: dict[str, Any] = redact(dict(doc), secrets)
    return [atomic_write(Path(out_dir) / rel, text) for rel, text in documents(safe).items()]
