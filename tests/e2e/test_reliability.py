"""Reliability of `apply` (issue #15): taken ports, signals while a target starts,
report folders that cannot be written, unsafe input, secrets, broken pipes.

Each test drives the real CLI in a subprocess and checks the exit code, a time
bound, the absence of a traceback, of stray processes and of secrets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.demo import free_port
from tests.support.reliability import apply, demo_command, loopback_env, write_spec
from tests.support.specs import REPO, run_cli

pytestmark = pytest.mark.slow


def test_out_under_a_regular_file_is_a_usage_error_before_any_load(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    spec = write_spec(tmp_path, "out", f"  demo: {{port: {free_port()}}}")
    started = time.monotonic()
    result = apply(spec, "--out", str(tmp_path / "file" / "reports"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert time.monotonic() - started < 15  # the demo was never started
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("report folder ") and "nothing was run" in line, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / ".perfopt").exists()


def test_a_read_only_report_folder_is_refused(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.report import writer

    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root may write anyway
    assert writer.report_dir_problem(tmp_path) == f"report folder {str(tmp_path)!r} is not writable"
    assert writer.report_dir_problem(tmp_path / "new" / "dir").endswith("is not writable")


def test_reports_that_fail_late_print_one_line_and_exit_3(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    from engine import cli
    from engine.report import writer

    def full_disk(*args: object, **kwargs: object) -> list[Path]:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "reports"))

    monkeypatch.setattr(writer, "write_reports", full_disk)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFOPT_LOOPBACK_ONLY", "1")
    spec = write_spec(tmp_path, "late", f"  demo: {{port: {free_port()}, fix: [all]}}", "1s")
    code = cli.main(["apply", str(spec), "--quiet", "--no-history"])
    out, err = capsys.readouterr()
    assert code == 3, out + err
    assert f"reports not written: No space left on device ({tmp_path / 'reports'})" in err
    assert "Traceback" not in err and out.strip()  # the terminal summary is still printed


BAD_INPUT = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: bad, component: rel}}
trigger: proactive
target: {{url: "{url}"}}
journeys:
  - name: stats
    request:
      path: /stats
      headers: {{{headers}}}
load:
  baseline: {{rate: 5/s, duration: 1s}}
"""


@pytest.mark.parametrize(("url", "headers", "expected"), [
    ("http://127.0.0.1:99999", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:65536", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:abc", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:0", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:8080", '"X-A": "1\\r\\nX-Evil: 1"', "headers.X-A: expected a header value"),
    ("http://127.0.0.1:8080", '"X-A": "1\\nX-Evil: 1"', "headers.X-A: expected a header value"),
    ("http://127.0.0.1:8080", '"bad name": "v"', "headers: expected a header name"),
    ("http://127.0.0.1:8080", '"X-A\\r\\nX-Evil": "v"', "headers: expected a header name"),
])
def test_validate_rejects_bad_ports_and_header_injection(tmp_path: Path, url: str, headers: str,
                                                         expected: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD_INPUT.format(url=url, headers=headers), encoding="utf-8")
    for command in ("validate", "apply"):
        result = run_cli(command, str(spec), cwd=tmp_path, env=loopback_env(), timeout=60)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "bad.yaml:" in result.stderr + result.stdout and expected in result.stderr + \
            result.stdout, result.stderr
        assert "Traceback" not in result.stderr


def test_good_urls_still_validate(tmp_path: Path) -> None:
    spec = tmp_path / "good.yaml"
    for url in ("http://127.0.0.1:65535", "http://[::1]:8080", "http://localhost",
                "https://admin:pw@127.0.0.1:1/"):
        spec.write_text(BAD_INPUT.format(url=url, headers='"X-Ok_1": "a: b"'), encoding="utf-8")
        result = run_cli("validate", str(spec), cwd=tmp_path, env=loopback_env(), timeout=60)
        assert result.returncode == 0, url + result.stdout + result.stderr


def test_semantic_validation_reports_a_url_port_out_of_range() -> None:
    from engine.spec.build_target import build_target
    from engine.spec.context import Ctx
    from engine.spec.source import Document

    for url in ("http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://127.0.0.1:0"):
        doc = Document("s.yaml", 0, 1, {}, {}, "")
        ctx = Ctx(doc, Path("."))
        build_target(ctx, {"url": url}, ("target",))
        assert [e.message for e in ctx.errors] == \
            [f"expected a URL port from 1 to 65535, got {url!r}"]


def _outputs(tmp: Path) -> list[Path]:
    return [p for d in ("reports", ".perfopt") if (tmp / d).is_dir()
            for p in (tmp / d).iterdir() if p.is_file()]


def test_url_password_reaches_no_terminal_report_or_history(tmp_path: Path) -> None:
    port = free_port()
    demo = f'[{sys.executable}, -m, engine.demo, --host, 127.0.0.1, --port, "{port}"]'
    target = (f"  url: http://admin:pw@127.0.0.1:{port}\n"
              f"  start: {{command: {demo}, ready: {{path: /health}}}}")
    spec = write_spec(tmp_path, "pw", target, "1s")
    result = run_cli("apply", str(spec), "--format", "json", "--format", "markdown",
                     "--format", "html", cwd=tmp_path, env=loopback_env(), timeout=120)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "admin:pw" not in result.stdout + result.stderr
    assert "127.0.0.1" in result.stderr  # the progress line still names the target
    outputs = _outputs(tmp_path)
    assert any(p.suffix == ".db" for p in outputs) and len(outputs) >= 4
    for path in outputs:
        assert b"admin:pw" not in path.read_bytes(), path


def test_secret_start_env_is_redacted_from_the_target_output(tmp_path: Path) -> None:
    token = "tok-5ecr3t-4711"
    command = (f'[{sys.executable}, -c, "import os, sys; print(\'token=\' + '
               f'os.environ[\'API_TOKEN\'] + \' ok\'); sys.exit(4)"]')
    target = (f"  url: http://127.0.0.1:{free_port()}\n"
              f"  start: {{command: {command}, env: {{API_TOKEN: {token}}}}}")
    spec = write_spec(tmp_path, "env", target)
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "report:", "secrets: [API_TOKEN]\nreport:"), encoding="utf-8")
    result = apply(spec, "--format", "markdown", "--format", "json")
    assert result.returncode == 3, result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
    doc = json.loads((tmp_path / "reports" / "rel-env-latest.json").read_text())
    tail = doc["specs"][0]["target"]["output_tail"]
    assert "ok" in tail and token not in tail  # the output is kept, the value is not
    for path in _outputs(tmp_path):
        assert token.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("args", [("schema",), ("schema", "--report"), ("--help",)])
def test_a_reader_that_goes_away_early_gets_no_traceback(args: tuple[str, ...]) -> None:
    for _ in range(3):  # the race between head exiting and our write: try it a few times
        proc = subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=REPO, env=loopback_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.read(1)
        proc.stdout.close()  # like `| head -c 1`
        _, err = proc.communicate(timeout=30)
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
        assert proc.returncode in (0, 1), proc.returncode


def test_parallel_applies_into_one_folder_keep_their_own_reports(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "par", f"  url: http://127.0.0.1:{free_port()}")
    procs = [subprocess.Popen([sys.executable, "-m", "engine", "apply", str(spec), "--quiet",
                               "--no-history"], cwd=tmp_path, env=loopback_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(3)]
    try:
        codes = [p.wait(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert codes == [3, 3, 3]  # the target is down: each run still writes its report
    stamped = sorted((tmp_path / "reports").glob("rel-par-2*.json"))
    assert len(stamped) == 3, stamped
    assert (tmp_path / "reports" / "rel-par-latest.json").is_file()


def test_every_test_named_in_reliability_md_exists() -> None:
    import re

    text = (REPO / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    last, named = "", 0
    for match in re.finditer(r"`(tests/[\w/]+\.py)?::(test_\w+)`", text):
        last = match.group(1) or last
        source = (REPO / last).read_text(encoding="utf-8")
        assert f"def {match.group(2)}(" in source, (last, match.group(2))
        named += 1
    assert named >= 15


SECRETS_SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: rel-secrets, component: rel}}
trigger: proactive
secrets: [X-Api-Key, token, API_TOKEN, CI_TOKEN]
target:
  url: http://admin:userinfo-S3CRET-e1@127.0.0.1:{port}
  start:
    command: [sh, -c, "echo started $API_TOKEN $CI_TOKEN; {tail}"]
    env: {{API_TOKEN: env-S3CRET-f1}}
    ready: {{path: /health, timeout: 30s}}
journeys:
  - name: stats
    request:
      path: /stats?token=query-S3CRET-d1
      headers: {{Authorization: "Bearer auth-S3CRET-a1", Cookie: "sid=cookie-S3CRET-b1",
                 X-Api-Key: apikey-S3CRET-c1}}
slos:
  - {{name: errors, sli: error_rate, objective: "< 1%"}}
load:
  baseline: {{rate: 20/s, duration: 1s, connections: 2}}
report: {{formats: [markdown, json, html, junit], dir: reports}}
history: {{path: .perfopt/history.db}}
"""


def _every_output(tmp: Path, result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    import sqlite3

    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    for path in tmp.rglob("*"):
        if path.is_file() and path.suffix != ".yaml":
            outputs[str(path.relative_to(tmp))] = path.read_bytes().decode("utf-8", "replace")
    for db in tmp.rglob("*.db"):
        with sqlite3.connect(db) as conn:
            outputs[f"{db.name} dump"] = "\n".join(conn.iterdump())
    return outputs


@pytest.mark.parametrize("target", ["serves", "fails"])
def test_a_secret_planted_in_each_place_reaches_no_output(tmp_path: Path, target: str) -> None:
    port = free_port()
    tail = f"exec {demo_command(port)}" if target == "serves" else "exit 4"
    spec = tmp_path / "secrets.yaml"
    spec.write_text(SECRETS_SPEC.format(port=port, tail=tail), encoding="utf-8")
    summary = tmp_path / "step-summary.md"
    env = {**loopback_env(), "CI_TOKEN": "environ-S3CRET-g1",
           "GITHUB_STEP_SUMMARY": str(summary)}
    result = run_cli("apply", str(spec), cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == (3 if target == "fails" else 0), result.stdout + result.stderr
    outputs = _every_output(tmp_path, result)
    expected = {"reports/rel-secrets-latest.md", "reports/rel-secrets-latest.json",
                "reports/rel-secrets-latest.html", "reports/rel-secrets-latest.xml",
                "step-summary.md", "history.db dump"}
    assert expected <= set(outputs), sorted(outputs)
    leaks = {name: text[max(0, text.find("S3CRET") - 60):text.find("S3CRET") + 20]
             for name, text in outputs.items() if "S3CRET" in text}
    assert leaks == {}
    assert "Traceback" not in result.stderr
    doc = json.loads(outputs["reports/rel-secrets-latest.json"])
    if target == "fails":  # the output is kept, the values are not
        assert "started [REDACTED] [REDACTED]" in doc["specs"][0]["target"]["output_tail"]
    else:
        assert doc["specs"][0]["runs"], "nothing was measured"


def test_a_validation_error_does_not_repeat_a_secret(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    text = SECRETS_SPEC.format(port=99999, tail="exit 4").replace(
        "X-Api-Key: apikey-S3CRET-c1", 'X-Api-Key: "apikey-S3CRET-c1\\r\\nX-Evil: 1"').replace(
        "path: /stats?token", "path: stats?token")
    spec.write_text(text, encoding="utf-8")
    for command in ("validate", "apply"):
        result = run_cli(command, str(spec), cwd=tmp_path, env=loopback_env(), timeout=60)
        out = result.stdout + result.stderr
        assert result.returncode == 2, out
        assert "headers.X-Api-Key: expected a header value" in out  # the error is still named
        assert "target.url: expected a URL like" in out and "path: expected a path" in out
        assert "S3CRET" not in out, out
        assert "Traceback" not in out
