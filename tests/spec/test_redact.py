"""Secrets never reach a report: redaction rules, and a planted secret checked in every format."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from engine.redact import REDACTED, redact
from engine.report.document import run_to_doc
from engine.report.summary import append_step_summary
from engine.report.writer import write_reports
from tests.support.docs import NOW, SECRET_TOKEN, full_document, make_run

API_KEY = "ak_live_9d8c7b6a5f4e"
COOKIE = "session=c00k13v4lu3"


def test_header_dicts_case_insensitive() -> None:
    out = redact({"headers": {"authorization": "Bearer x", "COOKIE": "a=1", "X-Api-Key": "k",
                              "Accept": "text/html"}}, ["x-api-key"])
    assert out == {"headers": {"authorization": REDACTED, "COOKIE": REDACTED,
                               "X-Api-Key": REDACTED, "Accept": "text/html"}}


def test_strings_pairs_and_nested_lists() -> None:
    obj = ["Authorization: Bearer abc.def", ["Set-Cookie", "id=1"], ("Proxy-Authorization", "x"),
           {"log": 'req {"password": "hunter22", "user": "bob"}'}, "GET /p?token=t0k&x=1", 42]
    out = redact(obj, ["password", "token"])
    assert out[0] == f"Authorization: {REDACTED}"
    assert out[1] == ["Set-Cookie", REDACTED] and out[2] == ("Proxy-Authorization", REDACTED)
    assert out[3]["log"] == f'req {{"password": "{REDACTED}", "user": "bob"}}'
    assert out[4] == f"GET /p?token={REDACTED}&x=1"
    assert out[5] == 42


def test_names_inside_other_words_are_not_secrets() -> None:
    assert redact("x-cookie-id: 5; authorization_mode=on") == "x-cookie-id: 5; authorization_mode=on"


def test_literal_secret_values_are_removed() -> None:
    assert redact({"tail": f"using {API_KEY} now"}, values=[API_KEY]) == {
        "tail": f"using {REDACTED} now"}


def _planted_document() -> dict[str, object]:
    """A document with secrets where spec headers can leak: target output, errors, reasons."""
    run = make_run("baseline", [50.0] * 3, seed=21)
    run = replace(run, aborted=True, abort_reason=f"target said: Cookie: {COOKIE}",
                  validity=replace(run.validity, valid=False,
                                   reasons=(f"x-api-key: {API_KEY} rejected",)))
    doc = full_document()
    spec = doc["specs"][0]
    spec["runs"].append(run_to_doc(run, "planted", ["X-Api-Key"]))
    spec["messages"].append(f"Load test failed: 401 with Authorization: Bearer {SECRET_TOKEN}")
    spec["gates"][0]["details"].append(f"request headers {{'X-Api-Key': '{API_KEY}'}}")
    spec["lessons"].append(f"curl -H 'Cookie: {COOKIE}' was needed")
    return doc


def test_run_to_doc_redacts_on_conversion() -> None:
    run = make_run("baseline", [50.0] * 2, seed=22)
    run = replace(run, abort_reason=f"X-Api-Key: {API_KEY}")
    assert API_KEY not in json.dumps(run_to_doc(run, "r", ["x-api-key"]))


def test_planted_secret_reaches_no_output_file(tmp_path: Path) -> None:
    doc = _planted_document()
    raw = json.dumps(doc)
    assert SECRET_TOKEN in raw and COOKIE in raw and API_KEY in raw  # the plant worked
    out = tmp_path / "reports"
    paths = write_reports(doc, ["markdown", "json", "html", "junit"], out, NOW,
                          secrets=["X-Api-Key"])
    step = tmp_path / "step.md"
    append_step_summary(redact(doc, ["X-Api-Key"]), {"GITHUB_STEP_SUMMARY": str(step)})
    assert len(paths) == 8
    for path in [*paths, step]:
        text = path.read_text(encoding="utf-8")
        for secret in (SECRET_TOKEN, API_KEY, "c00k13v4lu3"):
            assert secret not in text, f"{secret} leaked into {path.name}"
    assert REDACTED in (out / "user-lookup-latest.md").read_text(encoding="utf-8")


def test_encoded_histograms_are_left_intact() -> None:
    data = "HISTFAAAACR4nJNpmSzMwMDAzAAB+token="
    assert redact({"h": data}, ["token"]) == {"h": data}


def test_url_credentials_are_redacted() -> None:
    assert redact("GET http://bob:pa55w0rd@127.0.0.1:8080/x") == \
        f"GET http://{REDACTED}@127.0.0.1:8080/x"
    assert redact("http://127.0.0.1:8080/a@b") == "http://127.0.0.1:8080/a@b"


def test_secret_values_are_found_under_secret_names_anywhere_in_raw_data() -> None:
    from engine.redact import secret_names, secret_values_in

    raw = {"journeys": [{"request": {"headers": {"X-Api-Key": "k\r\nX-Evil: 1",
                                                 "Accept": "text/plain"}}}],
           "target": {"start": {"env": {"API_TOKEN": "tok-1234", "HOME": "/root"}}}}
    found = secret_values_in(raw, secret_names(["x-api-key", "API_TOKEN"]))
    assert sorted(found) == sorted(["k\r\nX-Evil: 1", "k\\r\\nX-Evil: 1", "tok-1234", "tok-1234"])


def test_environment_values_named_secret_are_redacted() -> None:
    from engine.redact import environment_values

    environ = {"CI_TOKEN": "environ-secret", "PATH": "/usr/bin", "ci_short": "abc"}
    values = environment_values(["ci_token", "CI_SHORT"], environ)
    assert values == ["environ-secret"]  # a 3-character value is not searched for
    assert redact("started environ-secret ok", values=values) == "started [REDACTED] ok"


def test_a_query_value_in_quotes_keeps_its_closing_quote() -> None:
    assert redact('got "stats?token=abc123"', ["token"]) == 'got "stats?token=[REDACTED]"'
