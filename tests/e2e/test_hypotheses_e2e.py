"""Hypotheses through `apply` against every before/after pair of the demo (issue #8).

Each pattern gets a one-journey spec whose hypothesis compares the demo without the
fix (baseline) to the demo with it (candidate), interleaved A B A B A B.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.demo import free_port
from tests.support.specs import REPO, run_cli

pytestmark = pytest.mark.slow

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: {name}, component: demo}}
trigger: user-complaint
target:
  demo: {{port: {port_a}}}
journeys:
  - {{name: j, request: {request}}}
load:
  baseline: {{rate: {rate}, duration: {duration}, connections: 32}}
hypotheses:
  - id: H
    title: fix {pattern}
    type: {type}
    expect: {{metric: p50, journey: j, change: "{expect}"}}
    effort: 4h
    rounds: {rounds}
    max_rounds: {max_rounds}
    baseline: {{target: {{demo: {{port: {port_a}}}}}}}
    candidate: {{target: {{demo: {{port: {port_b}, fix: [{pattern}]}}}}}}
gates:
  - {{name: hypotheses, kind: hypothesis}}
report: {{formats: [json], dir: reports}}
history: {{enabled: false}}
"""

PAIRS = {
    "index": ("database", '{method: GET, path: "/users?email=u{rand:1-100000}@demo.test"}'),
    "join": ("database", '{method: GET, path: "/users/{rand:1-250}/orders"}'),
    "cache": ("caching", "{method: GET, path: /stats}"),
    "async": ("async", '{method: POST, path: /users, json: {name: "n{seq}", email: "e{uuid}@x.io"}}'),
    "parallel": ("api", "{method: GET, path: /dashboard}"),
    "linear": ("algorithm", '{method: GET, path: "/recommendations?n=2000"}'),
    "pool": ("pooling", '{method: GET, path: "/users/{rand:1-100000}"}'),
}
# What each fix must at least deliver on p50 to be CONFIRMED: the demo's measured effects
# are 24-235x for the first five, ~2x for parallel and ~1.4x for join (client overhead
# included).
EXPECT = {"index": "<= -50%", "cache": "<= -50%", "async": "<= -50%", "linear": "<= -50%",
          "pool": "<= -50%", "join": "<= -10%", "parallel": "<= -20%"}


def _apply(tmp: Path, pattern: str, expect: str, rate: str = "30/s", duration: str = "3s",
           rounds: int | str = 3, max_rounds: int = 6) -> dict:  # type: ignore[type-arg]
    type_, request = PAIRS[pattern]
    name = f"h-{pattern}"
    spec = tmp / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name, port_a=free_port(), port_b=free_port(), request=request,
                                rate=rate, duration=duration, pattern=pattern, type=type_,
                                expect=expect, rounds=rounds, max_rounds=max_rounds), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PERFOPT_LOOPBACK_ONLY": "1"}
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp, env=env, timeout=300)
    doc: dict = json.loads((tmp / "reports" / f"{name}-latest.json").read_text())  # type: ignore[type-arg]
    doc["returncode"] = result.returncode
    return doc


def _brief(h: dict) -> str:  # type: ignore[type-arg]
    """The fields that say why a verdict fell as it did (the whole dict is cut by pytest)."""
    keys = ("verdict", "rounds", "before", "after", "ci_low", "ci_high", "mde", "message")
    return ", ".join(f"{k}={h.get(k)!r}" for k in keys)


@pytest.mark.parametrize("pattern", list(PAIRS))
def test_each_demo_fix_is_confirmed(tmp_path: Path, pattern: str) -> None:
    # rounds: auto, the default: a fixed 3 rounds let one disturbed round on a shared machine
    # widen the ~2x fixes' interval past 0 (CI failed on join: -32%, 95% CI up to +1.9%);
    # auto adds rounds until the interval decides, as a user's run on a noisy host would.
    # join's fix is the smallest (about -30% p50, 1 ms of 3): CI failed on it once more
    # with auto's 6 rounds at 30/s (before 3.39 ms, after 2.43 ms, INCONCLUSIVE). Twice the
    # requests per run and up to 10 rounds, as a user with a small effect would plan.
    rate, max_rounds = ("60/s", 10) if pattern == "join" else ("30/s", 6)
    doc = _apply(tmp_path, pattern, EXPECT[pattern], rate=rate, rounds="auto",
                 max_rounds=max_rounds)
    h = doc["specs"][0]["hypotheses"][0]
    assert h["verdict"] == "CONFIRMED", _brief(h)
    limit = float(EXPECT[pattern].split()[-1].rstrip("%")) / 100
    assert h["after"] < h["before"] and h["ci_high"] <= limit
    assert h["status"] == "IMPLEMENTED"
    assert doc["returncode"] == 0


def test_expecting_more_than_the_fix_delivers_is_refuted(tmp_path: Path) -> None:
    # 3 calls 10/15/20 ms: sequential 45 -> 20 ms (-56%); rounds: auto, as above, so one
    # disturbed round cannot leave the interval reaching -90% (INCONCLUSIVE, not REFUTED)
    doc = _apply(tmp_path, "parallel", "<= -90%", rounds="auto")
    h = doc["specs"][0]["hypotheses"][0]
    assert h["verdict"] == "REFUTED", _brief(h)
    assert "Optimization did not improve j p50 as expected" in doc["specs"][0]["messages"]
    assert doc["returncode"] == 1


def test_too_short_a_run_is_inconclusive_with_a_sample_need(tmp_path: Path) -> None:
    doc = _apply(tmp_path, "parallel", "<= -30%", rate="5/s", duration="2s", rounds=1)
    h = doc["specs"][0]["hypotheses"][0]
    assert h["verdict"] == "INCONCLUSIVE", _brief(h)
    assert (h.get("requests_needed") or h.get("runs_needed")), h
    assert doc["returncode"] == 0
