"""Load shaped like production: from_production resolved from the real test Prometheus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.plan import profile_seconds
from engine.production.shape import STAGES, ShapeError, resolve_spec, shape_messages
from engine.spec.loader import load_text
from tests.production.conftest import EXAMPLE, Prom
from tests.production.synth import SCENARIOS

SHAPED = """\
  baseline:
    from_production:
      query: 'sum(rate(http_requests_total{{scenario="{scenario}"}}[5m]))'
      window: 1d
      compress: {compress}
      scale: 3
"""


def _text(prom_url: str, scenario: str = "compliant", compress: str = "17280x") -> str:
    text = EXAMPLE.read_text().replace("http://127.0.0.1:9090", prom_url)
    head = text[:text.index("load:\n") + len("load:\n")]
    return head + SHAPED.format(scenario=scenario, compress=compress)


def test_from_production_is_a_shape_of_its_own() -> None:
    (spec,), errors = load_text(_text("http://127.0.0.1:9"), "shaped.yaml", Path.cwd())
    assert errors == []
    profile = spec.profiles[0]
    assert profile.from_production is not None and profile.from_production.scale == 3
    assert profile_seconds(profile) == pytest.approx(5.0)  # 1 d replayed 17280x faster
    both = _text("http://127.0.0.1:9").replace("      scale: 3\n", "      scale: 3\n    rate: 5/s\n")
    _, errors = load_text(both, "shaped.yaml", Path.cwd())
    assert any("expected exactly one of rate, vus, stages, rate_csv or from_production" in str(e)
               for e in errors)
    text = _text("http://127.0.0.1:9")
    no_source = text[:text.index("production:\n  prometheus")] + text[text.index("load:\n"):]
    _, errors = load_text(no_source, "shaped.yaml", Path.cwd())
    assert any("load.baseline.from_production: expected a top-level production: block" in str(e)
               for e in errors)


def test_resolved_stages_follow_production_times_scale(prom: Prom) -> None:
    (spec,), _ = load_text(_text(prom.url), "shaped.yaml", Path.cwd())
    profile = resolve_spec(spec, prom.end).profiles[0]
    assert len(profile.stages) == STAGES
    assert sum(s.duration_s for s in profile.stages) == pytest.approx(5.0)
    assert [s.rate for s in profile.stages] == pytest.approx([30.0] * STAGES, rel=0.01)
    assert profile.from_production is not None
    assert "shaped like production" in profile.from_production.source


def test_a_window_without_data_is_an_error(prom: Prom) -> None:
    (spec,), _ = load_text(_text(prom.url, scenario="nothing"), "shaped.yaml", Path.cwd())
    with pytest.raises(ShapeError, match="0 of 60 points"):
        resolve_spec(spec, prom.end)


@pytest.mark.slow
def test_apply_replays_production_and_says_which_window(tmp_path: Path, prom: Prom) -> None:
    spec = tmp_path / "shaped.yaml"
    spec.write_text(_text(prom.url))
    out = tmp_path / "reports"
    main(["apply", str(spec), "--out", str(out), "--no-history", "--quiet", "--format", "json"])
    report = json.loads(next(out.glob("*.json")).read_text())["specs"][0]
    assert any("baseline shaped like production" in m for m in report["messages"])
    (run,) = [r for r in report["runs"] if r["kind"] == "baseline"]
    assert run["requests"] == pytest.approx(30 * 5, rel=0.2)


def test_apply_without_production_data_runs_nothing(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "shaped.yaml"
    spec.write_text(_text("http://127.0.0.1:9"))
    assert main(["apply", str(spec), "--out", str(tmp_path / "r"), "--no-history"]) == 3
    assert "load from production not available" in capsys.readouterr().err


MIX = """\
journeys:
  - {name: compliant, request: {method: GET, path: /a}}
  - {name: short, request: {method: GET, path: /b}}
  - {name: gap, request: {method: GET, path: /c}}
  - {name: never, request: {method: GET, path: /d}}

production:
  prometheus:
    url: URL
  mix:
    query: >-
      sum by (scenario) (increase(
      http_requests_total{scenario=~"compliant|short|gap|other"}[{window}]))
    label: scenario
    window: 14d
"""


def _mix_spec(prom_url: str) -> str:
    text = EXAMPLE.read_text()
    head, rest = text[:text.index("journeys:\n")], text[text.index("slos:\n"):]
    rest = rest.replace("journey: lookup", "journey: compliant")
    return head + MIX.replace("URL", prom_url) + "\n" + rest


def test_the_journey_mix_follows_production_per_route_counts(prom: Prom) -> None:
    (spec,), errors = load_text(_mix_spec(prom.url), "mix.yaml", Path.cwd())
    assert errors == [] and spec.production is not None and spec.production.mix is not None
    resolved = resolve_spec(spec, prom.end)
    weights = {j.name: j.weight for j in resolved.journeys}
    # every generated request counts: a scrape gap loses samples, not requests (the
    # counter's increase spans it), so "gap" served as many as "compliant"
    truths = {n: sum(total for _, total, _, _ in SCENARIOS[n].steps())
              for n in ("compliant", "short", "gap")}
    total = sum(truths.values())
    shares = {n: w / sum(weights.values()) for n, w in weights.items()}
    for name, requests in truths.items():
        assert shares[name] == pytest.approx(requests / total, rel=0.05), (name, shares)
    assert weights["never"] == 0.0  # production never served it
    assert truths["short"] < truths["compliant"] / 4  # the data tells them apart
    source = resolved.production.mix.source if resolved.production and \
        resolved.production.mix else ""
    assert source.startswith("journey mix from production: compliant ")
    assert source in shape_messages(resolved)


def test_a_mix_that_names_no_journey_is_an_error(prom: Prom) -> None:
    text = _mix_spec(prom.url).replace('scenario=~"compliant|short|gap|other"', 'scenario="x"')
    (spec,), _ = load_text(text, "mix.yaml", Path.cwd())
    with pytest.raises(ShapeError, match=r"production mix: no scenario of .* names a journey"):
        resolve_spec(spec, prom.end)
