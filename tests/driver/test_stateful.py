"""Stateful journeys against a real local service: cookies, extraction, checks, redirects,
early ends, think-time distributions, body_file, TLS trust and status codes, in the open
and the closed model."""

from __future__ import annotations

import random
import statistics
import subprocess
from pathlib import Path

import pytest

from engine.driver import run_profile
from engine.driver.catalog import sample_think
from engine.result import JourneyResult, RunResult
from engine.spec.loader import load_text
from engine.spec.model import (
    Check,
    Extract,
    Journey,
    LoadProfile,
    Request,
    RunSettings,
    ThinkTime,
    TlsSettings,
)
from engine.spec.think import parse_think
from engine.units import UnitError
from tests.driver.stateful_server import StatefulServer
from tests.support.specs import VALID

MODELS = ("open", "closed")


def profile(model: str, connections: int = 4) -> LoadProfile:
    """Open: 40 instances/s for 0.5 s (20); closed: 2 users for 0.5 s."""
    if model == "open":
        return LoadProfile("p", "baseline", RunSettings(connections=connections),
                           rate=40.0, duration_s=0.5)
    return LoadProfile("p", "baseline", RunSettings(model="closed"), vus=2, duration_s=0.5,
                       think_time_s=0.01)


def run(server: StatefulServer, model: str, *journeys: Journey,
        tls: TlsSettings | None = None) -> RunResult:
    return run_profile(server.url, list(journeys), profile(model), tls=tls)


def only(r: RunResult) -> JourneyResult:
    assert len(r.journeys) == 1
    return r.journeys[0]


def ok_only(j: JourneyResult) -> bool:
    return {k for k, v in j.outcomes.items() if v} == {"ok"}


@pytest.mark.parametrize("model", MODELS)
def test_login_cookie_is_sent_to_me(model: str) -> None:
    flow = Journey("session", 1, (Request("POST", "/login", body="u=alice"),
                                  Request("GET", "/me", name="me")))
    with StatefulServer() as s:
        j = only(run(s, model, flow))
    assert ok_only(j) and j.requests >= 10
    assert set(j.statuses) == {200}  # no 401: every /me carried the cookie
    assert [st.name for st in j.steps] == ["POST /login", "me"]
    assert j.steps[0].requests + j.steps[1].requests == j.requests
    assert j.steps[1].response.total_count == j.steps[1].requests


def test_cookies_false_sends_none() -> None:
    flow = Journey("session", 1, (Request("POST", "/login", body="x"), Request("GET", "/me")),
                   cookies=False)
    with StatefulServer() as s:
        j = only(run(s, "open", flow))
    assert j.statuses[401] == j.steps[1].requests > 0
    assert j.outcomes["status_4xx"] == j.statuses[401]


@pytest.mark.parametrize("model", MODELS)
def test_create_then_read_with_the_extracted_id_and_checks(model: str) -> None:
    read = Request("GET", "/orders/{var:order_id}", name="read", checks=(
        Check("name is widget", "json", "equals", "$.name", "widget"),
        Check("planted wrong name", "json", "equals", "$.name", "gadget"),
        Check("status 200", "status", "in", codes=(200,)),
        Check("json id exists", "json", "exists", "$.id", "true")))
    flow = Journey("orders", 1, (
        Request("POST", "/orders", body="{}", name="create",
                extract=(Extract("order_id", "json", "$.id"),
                         Extract("hdr", "header", "X-Order"))),
        read))
    with StatefulServer() as s:
        j = only(run(s, model, flow))
        reads = s.paths["orders"]
    assert ok_only(j) and j.statuses.get(404) is None and reads >= 5
    by_name = {c.name: c for c in j.checks}
    assert by_name["name is widget"].passed == reads and by_name["name is widget"].failed == 0
    assert by_name["planted wrong name"].failed == reads and by_name["planted wrong name"].passed == 0
    assert by_name["status 200"].passed == reads and by_name["json id exists"].passed == reads
    assert all(c.step == 1 for c in j.checks) and j.ended == {}


def test_a_failed_fail_request_check_fails_the_request() -> None:
    step = Request("GET", "/me", checks=(
        Check("body has bob", "body", "contains", value="bob", fail_request=True),))
    flow = Journey("me", 1, (Request("POST", "/login", body="x"), step))
    with StatefulServer() as s:
        j = only(run(s, "open", flow))
    assert j.outcomes["check"] == j.steps[1].outcomes["check"] == j.checks[0].failed > 0
    assert j.checks[0].fail_request and j.checks[0].passed == 0
    assert j.steps[0].outcomes["ok"] == j.steps[0].requests


@pytest.mark.parametrize("model", MODELS)
def test_failed_extraction_ends_the_instance_with_its_reason(model: str) -> None:
    flow = Journey("broken", 1, (
        Request("GET", "/noid", extract=(Extract("order_id", "json", "$.id"),)),
        Request("GET", "/orders/{var:order_id}")))
    with StatefulServer() as s:
        j = only(run(s, model, flow))
        reads = s.paths["orders"]
    reason = "extract order_id failed at step GET /noid: $.id not in body"
    assert reads == 0 and list(j.ended) == [reason]
    assert j.ended[reason] == j.steps[0].requests > 0 and j.steps[1].requests == 0


@pytest.mark.parametrize("model", MODELS)
def test_redirect_hop_cookie_and_counts(model: str) -> None:
    """A 303 that sets the cookie is followed with it; the chain is one request."""
    flow = Journey("r", 1, (Request("POST", "/login303", body="x"),
                            Request("GET", "/old", redirects=0),
                            Request("GET", "/old")))
    with StatefulServer() as s:
        j = only(run(s, model, flow))
    hops = j.steps[0].requests + j.steps[2].requests
    assert j.redirects == hops > 0
    assert j.statuses[303] == j.steps[0].requests
    assert 401 not in j.statuses  # the hop to /me carried the cookie set on the 303
    assert j.statuses[307] == j.steps[1].requests + j.steps[2].requests
    assert j.steps[1].outcomes["status_3xx"] == j.steps[1].requests  # redirects: 0
    assert j.steps[0].outcomes["ok"] == j.steps[0].requests
    assert j.steps[2].outcomes["ok"] == j.steps[2].requests


def test_status_codes_of_a_plain_journey_are_counted() -> None:
    plain = Journey("plain", 1, (Request("GET", "/me", expect_status=(200, 401)),))
    with StatefulServer() as s:
        j = only(run(s, "open", plain))
    assert j.statuses == {401: j.requests} and j.steps == () and j.ok == j.requests


def test_think_time_distributions_have_their_shape() -> None:
    rng = random.Random(7)
    uniform = [sample_think(ThinkTime("uniform", 0.1, 0.5), rng) for _ in range(4000)]
    assert min(uniform) >= 0.1 and max(uniform) <= 0.5
    assert abs(statistics.mean(uniform) - 0.3) < 0.01
    assert sum(u < 0.2 for u in uniform) / len(uniform) == pytest.approx(0.25, abs=0.03)
    expo = [sample_think(ThinkTime("exponential", 0.3), rng) for _ in range(4000)]
    assert abs(statistics.mean(expo) - 0.3) < 0.02
    assert abs(statistics.pstdev(expo) - 0.3) < 0.03  # exponential: sd == mean
    assert sample_think(ThinkTime("fixed", 0.25), rng) == 0.25


def test_think_time_text_forms() -> None:
    assert parse_think("100ms-500ms") == ThinkTime("uniform", 0.1, 0.5)
    assert parse_think("uniform 100ms - 500ms") == ThinkTime("uniform", 0.1, 0.5)
    assert parse_think("exponential mean 300ms") == ThinkTime("exponential", 0.3)
    assert parse_think("250ms") == ThinkTime("fixed", 0.25)
    for bad in ("500ms-100ms", "exponential 0s", "soon"):
        with pytest.raises(UnitError):
            parse_think(bad)


def _spec(journeys: str, target: str = "  url: http://127.0.0.1:18999\n") -> str:
    head, rest = VALID.split("target:\n", 1)
    rest = rest.split("journeys:\n", 1)[1]
    rest = "\n".join(ln for ln in rest.splitlines() if not ln.startswith("  - {name: ")
                     or "sli" in ln) + "\n"
    rest = rest.replace("journey: lookup, ", "")
    return head + "target:\n" + target + "journeys:\n" + journeys + rest


STEPS = """\
  - name: flow
    tags: {team: shop}
    steps:
      - {method: POST, path: /echo, body_file: body.json, think_time: "uniform 10ms-20ms",
         extract: {oid: {json: "$.id"}}, tags: {kind: write}}
      - path: "/orders/{var:oid}"
        checks:
          - {json: "$.name", equals: widget, fail_request: true}
          - {status: [200, 404]}
"""


def test_spec_builds_stateful_steps_and_reads_body_file(tmp_path: Path) -> None:
    (tmp_path / "body.json").write_text('{"id": "{seq}"}', encoding="utf-8")
    specs, errors = load_text(_spec(STEPS), "s.yaml", tmp_path)
    assert errors == []
    j = specs[0].journeys[0]
    first, second = j.steps
    assert first.body == '{"id": "{seq}"}' and first.think == ThinkTime("uniform", 0.01, 0.02)
    assert first.extract == (Extract("oid", "json", "$.id"),) and dict(j.tags) == {"team": "shop"}
    assert [c.name for c in second.checks] == ["json $.name == 'widget'", "status is 200 or 404"]
    assert second.checks[0].fail_request and dict(first.tags) == {"kind": "write"}
    with StatefulServer() as s:
        r = run_profile(s.url, list(specs[0].journeys), profile("open"))
        bodies = list(s.bodies)
    assert bodies and all(b.startswith(b'{"id": "') and b[8:9].isdigit() for b in bodies)
    jr = only(r)
    assert jr.tags == {"team": "shop"} and jr.steps[0].tags == {"team": "shop", "kind": "write"}
    assert jr.checks[0].failed == jr.steps[1].requests  # /orders/N of an echo: 404, no name


@pytest.mark.parametrize(("journeys", "message"), [
    (STEPS.replace("body.json", "missing.json"), "body_file"),
    (STEPS.replace("{var:oid}", "{var:nope}"), "{var:nope} is used before"),
    (STEPS.replace('"$.id"', '"id"'), "expected"),
])
def test_spec_errors_name_the_line(tmp_path: Path, journeys: str, message: str) -> None:
    (tmp_path / "body.json").write_text("{}", encoding="utf-8")
    _, errors = load_text(_spec(journeys), "s.yaml", tmp_path)
    assert errors and message in str(errors[0]) and errors[0].line > 1


def _cert(tmp: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for IP 127.0.0.1 (a subjectAltName: hostname checks need it)."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


@pytest.mark.parametrize("model", MODELS)
def test_self_signed_tls_trusted_by_ca_file_or_verify_false(tmp_path: Path, model: str) -> None:
    import ssl

    made = _cert(tmp_path)
    if made is None:
        pytest.skip("openssl CLI not available to make a test certificate")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(made[0]), str(made[1]))
    flow = Journey("tls", 1, (Request("POST", "/login", body="x"), Request("GET", "/me")))
    with StatefulServer(tls=ctx) as s:
        untrusted = only(run(s, model, flow))
        trusted = only(run(s, model, flow, tls=TlsSettings(ca_file=str(made[0]))))
        unverified = only(run(s, model, flow, tls=TlsSettings(verify=False)))
    assert untrusted.outcomes["connect"] > 0 and untrusted.ok == 0, untrusted.outcomes
    assert ok_only(trusted) and set(trusted.statuses) == {200}, trusted.outcomes
    assert ok_only(unverified), unverified.outcomes


def test_profile_think_time_distribution_is_drawn_after_each_iteration(tmp_path: Path) -> None:
    text = _spec(STEPS).replace("baseline: {rate: 50/s, duration: 5s}",
                                "baseline: {vus: 2, duration: 5s, think_time: 100ms-300ms}")
    (tmp_path / "body.json").write_text("{}", encoding="utf-8")
    specs, errors = load_text(text, "s.yaml", tmp_path)
    assert errors == []
    prof = specs[0].profiles[0]
    assert prof.think == ThinkTime("uniform", 0.1, 0.3) and prof.think_time_s == 0.2
    from engine.driver.catalog import compile_catalog

    cat = compile_catalog(specs[0].journeys, {}, "h:1", seed=3,
                          iteration_think_s=prof.think_time_s, iteration=prof.think)
    last = [cat.think(0, 1) / 1e9 for _ in range(2000)]  # step think 0 + the profile's
    first = [cat.think(0, 0) / 1e9 for _ in range(2000)]  # the step's own 10ms-20ms
    assert min(last) >= 0.1 - 1e-8 and max(last) <= 0.3 + 1e-8 and abs(statistics.mean(last) - 0.2) < 0.01
    assert min(first) >= 0.01 - 1e-8 and max(first) <= 0.02 + 1e-8


def test_two_workers_merge_statuses_checks_and_steps() -> None:
    flow = Journey("orders", 1, (
        Request("POST", "/orders", body="{}", extract=(Extract("id", "json", "$.id"),)),
        Request("GET", "/orders/{var:id}", checks=(Check("ok", "status", "in", codes=(200,)),))))
    prof = LoadProfile("p", "baseline", RunSettings(connections=4, workers=2), rate=40.0,
                       duration_s=0.5)
    with StatefulServer() as s:
        j = only(run_profile(s.url, [flow], prof))
        reads = s.paths["orders"]
    assert j.statuses == {201: j.steps[0].requests, 200: j.steps[1].requests} and reads >= 5
    assert j.checks[0].passed == reads and j.steps[0].requests + j.steps[1].requests == j.requests
