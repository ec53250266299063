"""Load shaped like production: from_production resolved from the real test Prometheus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.plan import profile_seconds
from engine.production.shape import STAGES, ShapeError, resolve_spec
from engine.spec.loader import load_text
from tests.production.conftest import EXAMPLE, Prom

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
