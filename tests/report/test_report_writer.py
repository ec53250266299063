"""Report files: atomic writes, names with spec and timestamp, a latest copy per spec."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.files import atomic_write
from engine.report.document import validate_document
from engine.report.writer import canonical_format, report_basename, write_reports
from tests.support.docs import full_document, minimal_document

WHEN = datetime(2026, 11, 27, 15, 1, 2, tzinfo=UTC)


def test_names_carry_spec_and_timestamp(tmp_path: Path) -> None:
    paths = write_reports(minimal_document(), ["md", "json", "html", "junit"], tmp_path, WHEN)
    names = sorted(p.name for p in paths)
    assert names == sorted([
        "smoke-20261127T150102.000000Z.md", "smoke-latest.md", "smoke-20261127T150102.000000Z.json",
        "smoke-latest.json", "smoke-20261127T150102.000000Z.html", "smoke-latest.html",
        "smoke-20261127T150102.000000Z.xml", "smoke-latest.xml"])
    for ext in ("md", "json", "html", "xml"):
        stamped = (tmp_path / f"smoke-20261127T150102.000000Z.{ext}").read_bytes()
        assert stamped == (tmp_path / f"smoke-latest.{ext}").read_bytes()


def test_json_written_validates(tmp_path: Path) -> None:
    (path, _) = write_reports(full_document(), ["json"], tmp_path, WHEN)
    assert validate_document(json.loads(path.read_text(encoding="utf-8"))) == []


def test_latest_is_replaced_by_a_newer_run(tmp_path: Path) -> None:
    write_reports(minimal_document(), ["md"], tmp_path, WHEN)
    doc = minimal_document()
    doc["specs"][0]["lessons"] = ["second run"]
    write_reports(doc, ["md"], tmp_path, WHEN.replace(minute=2))
    assert "second run" in (tmp_path / "smoke-latest.md").read_text(encoding="utf-8")
    assert len(list(tmp_path.glob("smoke-2026*.md"))) == 2


def test_several_specs_get_own_files_and_a_combined_one(tmp_path: Path) -> None:
    doc = minimal_document()
    other = json.loads(json.dumps(doc["specs"][0]))
    other.update(name="checkout flow", verdict="FAIL")
    doc["specs"].append(other)
    names = {p.name for p in write_reports(doc, ["json"], tmp_path, WHEN)}
    assert names == {"smoke-20261127T150102.000000Z.json", "smoke-latest.json",
                     "checkout-flow-20261127T150102.000000Z.json", "checkout-flow-latest.json",
                     "smoke+checkout-flow-20261127T150102.000000Z.json"}
    per_spec = json.loads((tmp_path / "checkout-flow-latest.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in per_spec["specs"]] == ["checkout flow"]
    assert per_spec["verdict"] == "FAIL"


def test_basename_is_filesystem_safe() -> None:
    assert report_basename(["../../etc/passwd"], WHEN) == "etc-passwd-20261127T150102.000000Z"
    assert "/" not in report_basename(["a/b", "c d"], WHEN)


def test_format_aliases_and_unknown_format() -> None:
    assert canonical_format("MD") == "markdown" and canonical_format("xml") == "junit"
    with pytest.raises(ValueError, match="expected one of"):
        canonical_format("pdf")


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.md"
    atomic_write(target, "old complete report\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new report that never lands\n")
    assert target.read_text(encoding="utf-8") == "old complete report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]  # no temp file left


def test_atomic_write_no_partial_file_when_writing_fails(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def fail_fsync(fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", fail_fsync)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write(tmp_path / "new.md", "x" * 100_000)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_mode_is_like_a_plain_file(tmp_path: Path) -> None:
    path = atomic_write(tmp_path / "sub" / "r.md", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
