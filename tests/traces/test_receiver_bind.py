"""tracing: {bind, advertise} (issue #21): the OTLP receiver can listen where a remote
target's exporter reaches it, and managed targets are told the advertised URL. Only
loopback addresses are bound here (127.0.0.2 is loopback on Linux), never a public one."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk")

from engine.plan import SpecPlan, plan_spec
from engine.records import Driven
from engine.spec.loader import load_text
from engine.spec.model import Spec
from engine.spec.model_tracing import LOOPBACK, tracing_of
from engine.traces import ids
from engine.traces.inject import advertised
from engine.traces.process import ReceiverProcess
from engine.traces.receiver import Receiver
from engine.traces.session import traced_drive
from tests.traces.test_receiver import _export

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: bound, component: api}}
trigger: proactive
target:
  url: "http://127.0.0.1:18999"
  start: {{command: "true"}}
journeys:
  - {{name: home, request: {{method: GET, path: /}}}}
load:
  baseline: {{rate: 1/s, duration: 1s}}
tracing: {tracing}
"""


def _load(tracing: str) -> tuple[list[Spec], list[str]]:
    specs, errors = load_text(SPEC.format(tracing=tracing), "bound.yaml", Path("."))
    return specs, [e.message for e in errors]


def test_bind_and_advertise_are_read_and_default_to_loopback() -> None:
    specs, errors = _load("{bind: 127.0.0.2, advertise: 'http://127.0.0.2'}")
    assert errors == []
    t = tracing_of(specs[0])
    assert t is not None and (t.bind, t.advertise) == ("127.0.0.2", "http://127.0.0.2")
    plain = tracing_of(_load("{sample: 0.5}")[0][0])
    assert plain is not None and (plain.bind, plain.advertise) == (LOOPBACK, "")


@pytest.mark.parametrize("tracing", ["{bind: localhost}", "{advertise: 'http://h:4318/v1'}",
                                     "{advertise: 'http://10.0.0.5:99999'}",  # no such port:
                                     "{advertise: 'http://10.0.0.5:'}"])  # a load error, not
                                                                          # a traceback mid-run
def test_bind_is_an_address_and_advertise_a_url_without_path(tracing: str) -> None:
    _, errors = _load(tracing)
    assert len(errors) == 1


@pytest.mark.parametrize(("advertise", "want"), [
    ("", "http://127.0.0.2:4318"),
    ("http://10.0.0.5", "http://10.0.0.5:4318"),
    ("http://gw.example:9000/", "http://gw.example:9000"),
])
def test_advertised_url_takes_the_bound_port_when_it_names_none(advertise: str,
                                                                want: str) -> None:
    assert advertised(advertise, "http://127.0.0.2:4318") == want


def test_receiver_bound_to_another_address_receives_there() -> None:
    with Receiver(host="127.0.0.2", max_spans=1000).start() as r:
        assert r.endpoint.startswith("http://127.0.0.2:")
        nonce = ids.new_nonce()
        r.accept(nonce)
        _export(r.endpoint + "/v1/traces",
                f"00-{ids.prefix(nonce, 0, 0)}0000000100000001-00000000000000aa-01")
        assert len(r.spans(nonce)) == 2


def test_receiver_process_binds_the_given_address() -> None:
    proc = ReceiverProcess(max_spans=1000, host="127.0.0.2")
    try:
        assert proc.endpoint.startswith("http://127.0.0.2:")
        nonce = ids.new_nonce()
        proc.accept(nonce)
        _export(proc.endpoint + "/v1/traces",
                f"00-{ids.prefix(nonce, 1, 0)}0000000100000001-00000000000000aa-01", 2)
        assert len(proc.spans(nonce)) == 3
    finally:
        proc.close()


def test_managed_target_exports_to_the_advertised_url() -> None:
    specs, errors = _load("{bind: 127.0.0.2, advertise: 'http://127.0.0.2'}")
    assert errors == []
    tracing = tracing_of(specs[0])
    assert tracing is not None
    seen: list[str] = []

    def drive(plan: SpecPlan) -> Driven:
        start = plan.spec.target.start
        assert start is not None
        seen.append(start.env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        return Driven(plan.spec, plan, 0.0)

    traced_drive(plan_spec(specs[0]), tracing, drive)
    assert len(seen) == 1
    assert seen[0].startswith("http://127.0.0.2:") and seen[0].rsplit(":", 1)[1].isdigit()
