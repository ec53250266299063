"""``${VAR}`` in specs (issue #16): substitution, defaults, the escape, errors at
file:line:col, names that may not hold a reference, and the warnings of ``validate``."""

from __future__ import annotations

import os
from pathlib import Path

from engine.spec.loader import load_text
from engine.spec.model import Spec
from tests.support.specs import VALID, run_cli, write_spec

TOKEN = "tok-3f9a1c77e2"

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {name: svc, component: svc-api}
trigger: proactive
target:
  url: "http://127.0.0.1:${PORT}"
journeys:
  - name: lookup
    request:
      method: GET
      path: "/users?key=${API_KEY:-dev-key}&id=$${literal}"
      headers:
        Authorization: "Bearer ${API_TOKEN}"
        X-Tenant: ${TENANT:-acme}
slos:
  - {name: errors, sli: error_rate, objective: "< 0.1%"}
load:
  baseline: {rate: "${RATE}", duration: 5s, connections: "${CONNS:-4}"}
"""

ENV = {"PORT": "18999", "API_TOKEN": TOKEN, "RATE": "25/s"}


def _load(text: str, env: dict[str, str]) -> tuple[list[Spec], list[str]]:
    specs, errors = load_text(text, "s.yaml", environ=env)
    return specs, [str(e) for e in errors]


def test_values_come_from_the_environment_in_headers_url_and_numbers() -> None:
    specs, errors = _load(SPEC, ENV)
    assert errors == []
    spec = specs[0]
    step = spec.journeys[0].steps[0]
    assert spec.target.url == "http://127.0.0.1:18999"
    assert step.headers["Authorization"] == f"Bearer {TOKEN}"
    baseline = spec.profile("baseline")
    assert baseline is not None and baseline.rate == 25.0
    # defaults: written in the spec, used when the variable is unset
    assert step.headers["X-Tenant"] == "acme" and baseline.settings.connections == 4
    # $${ is a literal ${
    assert step.path == "/users?key=dev-key&id=${literal}"


def test_a_port_from_the_environment_is_coerced_to_a_number() -> None:
    text = VALID.replace("url: http://127.0.0.1:18999", "demo: {port: \"${DEMO_PORT}\"}")
    specs, errors = _load(text, {"DEMO_PORT": "18123"})
    assert errors == [] and specs[0].target.url == "http://127.0.0.1:18123"


def test_the_environment_wins_over_the_default_and_an_empty_value_takes_it() -> None:
    specs, _ = _load(SPEC, {**ENV, "TENANT": "globex", "API_KEY": ""})
    step = specs[0].journeys[0].steps[0]
    assert step.headers["X-Tenant"] == "globex"
    assert step.path.startswith("/users?key=dev-key&")


def test_values_from_the_environment_are_secret_and_defaults_are_not() -> None:
    specs, _ = _load(SPEC, {**ENV, "TENANT": "globex-corp"})
    secret = set(specs[0].secret_values)
    assert {TOKEN, "18999", "25/s", "globex-corp"} <= secret
    assert "acme" not in secret and "dev-key" not in secret and "4" not in secret


def test_a_secret_is_also_kept_in_the_spellings_a_writer_escapes_it_to() -> None:
    specs, _ = _load(SPEC, {**ENV, "API_TOKEN": 'a"b c/d'})
    assert {'a"b c/d', 'a\\"b c/d', "a%22b%20c%2Fd"} <= set(specs[0].secret_values)


def test_every_unset_variable_is_an_error_at_its_line_and_column_at_once() -> None:
    specs, errors = _load(SPEC, {"API_TOKEN": TOKEN})
    assert specs == []
    assert errors == [
        "s.yaml:6:26: target.url: environment variable PORT is not set: set it, or write "
        "${PORT:-default}",
        "s.yaml:18:21: load.baseline.rate: environment variable RATE is not set: set it, or "
        "write ${RATE:-default}",
    ]


def test_a_variable_set_but_empty_is_an_error_too() -> None:
    _, errors = _load(SPEC, {**ENV, "API_TOKEN": ""})
    assert errors == ["s.yaml:13:32: journeys[0].request.headers.Authorization: environment "
                      "variable API_TOKEN is set but empty: set it, or write "
                      "${API_TOKEN:-default}"]


def test_the_same_reference_twice_in_one_value_points_at_each() -> None:
    text = SPEC.replace('"Bearer ${API_TOKEN}"', '"${NOPE} and ${NOPE}"')
    _, errors = _load(text, ENV)
    assert [e.split(": ")[0] for e in errors] == ["s.yaml:13:25", "s.yaml:13:37"]


def test_a_malformed_reference_is_an_error_naming_the_form() -> None:
    text = SPEC.replace("${TENANT:-acme}", "${TENANT-acme}")
    _, errors = _load(text, ENV)
    assert len(errors) == 1
    assert errors[0].startswith("s.yaml:14:19: journeys[0].request.headers.X-Tenant: expected "
                                "${NAME} or ${NAME:-default}")
    assert "'${TENANT-acme}'" in errors[0] and "$${" in errors[0]


def test_a_reference_in_a_name_is_an_error_saying_names_are_identifiers() -> None:
    text = SPEC.replace("  - name: lookup\n", "  - name: ${JOURNEY}\n").replace(
        "{name: errors,", "{name: \"e-${X:-1}\",")
    _, errors = _load(text, {**ENV, "JOURNEY": "lookup"})
    assert [e.split(": ")[0:2] for e in errors] == [["s.yaml:8:11", "journeys[0].name"],
                                                    ["s.yaml:16:15", "slos[0].name"]]
    assert all("are identifiers and are not substituted" in e for e in errors)


def test_mapping_keys_are_never_substituted() -> None:
    text = SPEC.replace("      headers:\n", "      json: {\"${FIELD}\": x}\n      headers:\n")
    specs, errors = _load(text, {**ENV, "FIELD": "name"})
    assert errors == [] and specs[0].journeys[0].steps[0].json == '{"${FIELD}":"x"}'


def test_error_messages_never_repeat_a_value_from_the_environment() -> None:
    _, errors = _load(SPEC, {**ENV, "RATE": "fast-secret-rate"})
    assert len(errors) == 1 and "load.baseline.rate" in errors[0]
    assert "fast-secret-rate" not in errors[0] and "[REDACTED]" in errors[0]


def test_start_env_resolves_for_a_managed_target() -> None:
    text = SPEC.replace('  url: "http://127.0.0.1:${PORT}"\n', (
        '  url: "http://127.0.0.1:${PORT}"\n'
        '  start:\n'
        '    command: [python, -m, app]\n'
        '    env: {APP_TOKEN: "${API_TOKEN}", MODE: "${MODE:-test}"}\n'))
    specs, errors = _load(text, ENV)
    assert errors == []
    start = specs[0].target.start
    assert start is not None and dict(start.env) == {"APP_TOKEN": TOKEN, "MODE": "test"}
    assert TOKEN in specs[0].secret_values


def test_validate_warns_about_text_that_looks_like_a_variable(tmp_path: Path) -> None:
    text = SPEC.replace("X-Tenant: ${TENANT:-acme}", (
        "X-Tenant: $TENANT\n"
        "        X-A: \"{API_TOKEN}\"\n"
        "        X-B: \"{{ api_token }} %(API_TOKEN)s\"\n"
        "        X-C: \"{seq} $${NOT_A_WARNING} $$HOME\""))
    path = write_spec(tmp_path, text)
    lines = [w.replace(str(path), "s.yaml") for w in _warnings(path)]
    assert lines == [
        "s.yaml:14:19: warning: journeys[0].request.headers.X-Tenant: '$TENANT' is not "
        "substituted (it is sent as written); to take TENANT from the environment write "
        "${TENANT}",
        "s.yaml:15:15: warning: journeys[0].request.headers.X-A: '{API_TOKEN}' is not "
        "substituted (it is sent as written); to take API_TOKEN from the environment write "
        "${API_TOKEN}",
        "s.yaml:16:15: warning: journeys[0].request.headers.X-B: '{{ api_token }}' is not "
        "substituted (it is sent as written); to take api_token from the environment write "
        "${api_token}",
        "s.yaml:16:31: warning: journeys[0].request.headers.X-B: '%(API_TOKEN)s' is not "
        "substituted (it is sent as written); to take API_TOKEN from the environment write "
        "${API_TOKEN}",
    ]


def _warnings(path: Path) -> list[str]:
    env = {**os.environ, **ENV}
    result = run_cli("validate", str(path), env=env)
    assert result.returncode == 0, result.stderr  # warnings never fail validate
    return [ln for ln in result.stderr.splitlines() if ": warning: " in ln]


def test_a_short_value_from_the_environment_is_warned_about() -> None:
    from engine.spec.lint import document_warnings
    from engine.spec.source import parse_document

    doc = parse_document("s.yaml", 0, 1, SPEC)
    assert not isinstance(doc, Exception)
    warnings = document_warnings(doc, {**ENV, "RATE": "9/s", "API_TOKEN": "abc"})
    assert warnings == [
        "s.yaml:18:21: warning: load.baseline.rate: the value of RATE is 3 character(s): the "
        "reports remove a value from the environment only when it has at least 4 (or stands "
        "under a secret name)"]  # not Authorization's: a secret header is removed by name


def test_cli_validate_exits_2_with_every_unset_variable(tmp_path: Path) -> None:
    path = write_spec(tmp_path, SPEC)
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "RATE", "API_TOKEN")}
    result = run_cli("validate", str(path), env=env)
    assert result.returncode == 2
    unset = [ln for ln in result.stderr.splitlines() if "is not set" in ln]
    assert [ln.split(": ")[0].rsplit(":", 2)[1:] for ln in unset] == [
        ["6", "26"], ["13", "32"], ["18", "21"]]
    assert "3 problem(s)" in result.stderr
