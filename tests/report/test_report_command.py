"""``perfopt-engine report RESULT.json``: re-render a stored result, clear errors on bad input."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from engine.commands import report
from engine.report import json_format
from tests.support.docs import minimal_document


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    report.add_arguments(parser)
    return report.run(parser.parse_args(argv))


@pytest.fixture
def result(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json_format.render(minimal_document()), encoding="utf-8")
    return path


def test_rerenders_requested_formats(result: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    out = tmp_path / "out"
    assert _run([str(result), "--format", "md,junit", "-f", "html", "--out", str(out)]) == 0
    assert {p.suffix for p in out.iterdir()} == {".md", ".xml", ".html"}
    assert (out / "smoke-latest.md").read_text(encoding="utf-8").startswith(
        "# Performance Optimization Report - health-endpoint")
    assert str(out / "smoke-latest.html") in capsys.readouterr().out


def test_step_summary_appended_when_env_set(result: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    step = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    assert _run([str(result), "-f", "json", "--out", str(tmp_path / "o")]) == 0
    assert "perfopt-engine: PASS" in step.read_text(encoding="utf-8")


@pytest.mark.parametrize(("content", "expected"), [
    (None, "no such file"),
    ("{oops", "not JSON"),
    ('{"schema": "perfopt/report/v1"}', "not a valid perfopt/report/v1 document"),
])
def test_bad_file_exits_2_with_message(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       content: str | None, expected: str) -> None:
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert _run([str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_unknown_format_exits_2(result: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([str(result), "-f", "pdf", "--out", str(tmp_path / "o")]) == 2
    assert "unknown report format 'pdf'" in capsys.readouterr().err
