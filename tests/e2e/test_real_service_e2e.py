"""A real service that needs everything of #16, driven by `perfopt-engine apply` as a user
runs it: HTTPS with a self-signed certificate trusted through `tls.ca_file`, a login that
sets a cookie, a token from an environment variable, create-then-read with the id
extracted, a body check that fails on a planted wrong value, and a redirect. The reports
carry the per-step, per-check and per-status sections with the counts the service saw,
and the token appears in no report, history file or terminal line."""

from __future__ import annotations

import json
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.driver.stateful_server import StatefulServer, _Handler
from tests.support.specs import run_cli, write_spec

TOKEN = "tok-9f8e7d6c5b4a-from-the-environment"
pytestmark = pytest.mark.slow


class _TokenHandler(_Handler):
    """/me also needs the bearer token (the real service's auth): 401 without it."""

    def do_GET(self) -> None:
        if self.path == "/me" and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.server.seen("/me-denied", b"")
            self._send(401, {"error": "token"})
            return
        super().do_GET()


SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {name: real-service, component: shop-api}
trigger: proactive
target:
  url: "URL"
  tls: {ca_file: cert.pem}
journeys:
  - name: shop
    weight: 1
    tags: {team: checkout}
    steps:
      - {name: login, method: POST, path: /login, body: "user=alice"}
      - name: me
        method: GET
        path: /me
        headers: {Authorization: "Bearer ${API_TOKEN}"}
        checks:
          - {json: "$.name", equals: alice}
      - name: create
        method: POST
        path: /orders
        json: {item: widget}
        extract: {order_id: {json: "$.id"}}
      - name: read
        method: GET
        path: "/orders/{var:order_id}"
        checks:
          - {name: planted wrong name, json: "$.name", equals: gadget}
          - {status: 200}
      - {name: moved, method: GET, path: /old}
slos:
  - {name: errors, sli: error_rate, objective: "< 50%"}
load:
  baseline: {vus: 2, duration: 3s}
"""


def _certificate(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("real")
    cert, key = _certificate(tmp)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(str(cert), str(key))
    with StatefulServer(tls=tls) as server:
        server.RequestHandlerClass = _TokenHandler
        spec = write_spec(tmp, SPEC.replace("URL", server.url))
        proc = run_cli("apply", str(spec), "--out", str(tmp / "reports"), cwd=tmp,
                       env={"API_TOKEN": TOKEN}, timeout=180)
        seen = dict(server.paths)
    report = json.loads(next((tmp / "reports").glob("real-service-latest.json")).read_text())
    return {"tmp": tmp, "proc": proc, "seen": seen, "report": report}


def _journey(applied: dict[str, Any]) -> dict[str, Any]:
    run = applied["report"]["specs"][0]["runs"][0]
    journey: dict[str, Any] = run["journeys"][0]
    return journey


def test_every_step_reached_the_service_authenticated(applied: dict[str, Any]) -> None:
    proc, seen = applied["proc"], applied["seen"]
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert seen.get("/me-denied", 0) == 0, seen  # the token came from the environment
    users = 2  # the run may end between two steps of each user's last journey
    assert seen["/login"] >= 2 and seen["/login"] - users <= seen["/me"] <= seen["/login"]
    assert seen["/orders"] - users <= seen["orders"] <= seen["/orders"]  # ids extracted
    assert seen["/old"] - users <= seen["/new"] <= seen["/old"]  # redirects followed


def test_the_reports_count_steps_checks_and_statuses(applied: dict[str, Any]) -> None:
    j, seen = _journey(applied), applied["seen"]
    steps = {s["name"]: s for s in j["steps"]}
    assert list(steps) == ["login", "me", "create", "read", "moved"]
    reads = steps["read"]["requests"]
    assert reads > 0 and steps["read"]["errors"] == 0 and abs(reads - seen["orders"]) <= 2
    checks = {c["name"]: c for c in j["checks"]}
    planted = checks["planted wrong name"]
    assert planted["failed"] == reads and planted["passed"] == 0  # counted, not failing
    assert checks["status is 200"]["passed"] == reads
    assert checks["json $.name == 'alice'"]["passed"] == steps["me"]["requests"]
    statuses = {int(k): v for k, v in j["statuses"].items()}
    assert statuses[201] == steps["create"]["requests"]
    assert statuses[307] == j["redirects"] == steps["moved"]["requests"]
    assert 401 not in statuses and j["tags"] == {"team": "checkout"}
    md = next((applied["tmp"] / "reports").glob("real-service-latest.md")).read_text()
    assert "planted wrong name" in md and "| read |" in md and "307" in md
    junit = next((applied["tmp"] / "reports").glob("real-service-latest.xml")).read_text()
    assert "planted wrong name" in junit and "<failure" in junit


def test_the_token_appears_nowhere(applied: dict[str, Any]) -> None:
    tmp, proc = applied["tmp"], applied["proc"]
    assert TOKEN not in proc.stdout and TOKEN not in proc.stderr
    leaked = [p for p in tmp.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert leaked == [], leaked
    assert (tmp / ".perfopt" / "history.db").exists()
