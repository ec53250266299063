"""What each generator host is told: the target's TLS trust and the think-time distribution
travel with the plan, as they do to a local run's workers."""

from __future__ import annotations

from engine.driver.assemble import RunInfo
from engine.driver.shapes import Shape
from engine.scale.coordinator import _plans
from engine.scale.plan import Host
from engine.spec.loader import load_text
from engine.spec.model import ThinkTime, TlsSettings
from tests.support.specs import VALID


def _info() -> RunInfo:
    specs, errors = load_text(VALID.replace("baseline: {rate: 50/s, duration: 5s}",
                                            "baseline: {vus: 2, duration: 5s, "
                                            "think_time: 100ms-300ms}"))
    assert errors == []
    profile = specs[0].profiles[0]
    return RunInfo(profile, "", "https://127.0.0.1:8443", Shape("closed", ((0.0, 2.0), (5.0, 2.0))),
                   2, 0.0, 0, specs[0].journeys)


def test_tls_trust_and_think_time_reach_every_host() -> None:
    hosts = [Host("node-a", "tcp://127.0.0.1:1", 1, 0, 1000),
             Host("node-b", "tcp://127.0.0.1:2", 1, 0, 1000)]
    info = _info()
    plans = _plans("run", info, hosts, [1, 1], info.journeys, (), None,
                   TlsSettings(verify=False, ca_file="/etc/ssl/ca.pem"))
    assert [(p.name, p.verify_tls, p.ca_file) for p in plans] == [
        ("node-a", False, "/etc/ssl/ca.pem"), ("node-b", False, "/etc/ssl/ca.pem")]
    assert all(p.think == ThinkTime("uniform", 0.1, 0.3) for p in plans)
    default = _plans("run", info, hosts, [1, 1], info.journeys, (), None)
    assert all(p.verify_tls and p.ca_file is None for p in default)
