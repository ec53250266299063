"""The production parts of a spec: records, and file:line errors for what cannot work."""

from __future__ import annotations

from pathlib import Path

from engine.spec.loader import load_text
from engine.spec.production_model import ProductionSli
from tests.production.specs import SPEC

URL = "http://127.0.0.1:9090"


def _load(text: str) -> tuple[list, list[str]]:
    specs, errors = load_text(text, "prod.yaml", Path.cwd())
    return specs, [str(e) for e in errors]


def _spec_text(**replace: str) -> str:
    text = SPEC.format(scenario="x", url=URL)
    for old, new in replace.items():
        assert old.replace("_", " ") in text or old in text
        text = text.replace(old, new)
    return text


def test_records_normalise_every_sli_form_to_promql() -> None:
    (spec,), errors = _load(_spec_text())
    assert errors == []
    assert spec.production.prometheus.url == URL
    assert spec.production.window_s == 14 * 86400
    by_name = {s.name: s.production for s in spec.slos}
    latency = by_name["lookup-p95"]
    assert isinstance(latency, ProductionSli) and latency.threshold_s == 0.05
    assert latency.good == ('sum(rate(http_request_duration_seconds_bucket{scenario="x",'
                            'le="0.05"}[{window}]))')
    assert latency.total == 'sum(rate(http_request_duration_seconds_count{scenario="x"}[{window}]))'
    assert by_name["availability"].bad == (
        'sum(rate(http_requests_total{scenario="x",code=~"5.."}[{window}]))')
    assert by_name["errors"].bad is not None and by_name["errors"].good is None
    assert "X-Scope-OrgID" in spec.secrets


def test_window_under_seven_days_is_an_error_with_its_line() -> None:
    _, errors = _load(_spec_text(**{"window: 14d": "window: 3d"}))
    assert errors == ["prod.yaml:11:3: production.window: expected a window of at least 7d, "
                      "got '3d'"]


def test_promql_without_window_or_unbalanced_is_named() -> None:
    text = _spec_text(**{"[{window}]))'\n        total": "[5m]))'\n        total"})
    _, errors = _load(text.replace("total: 'sum(rate(", "total: 'sum((rate("))
    assert len(errors) == 2
    assert "slos[2].production.ratio.bad: expected PromQL with a {window} range" in errors[0]
    assert "slos[2].production.ratio.total: expected PromQL with balanced brackets" in errors[1]
    assert errors[0].startswith("prod.yaml:29:")


def test_slo_production_needs_the_top_level_source() -> None:
    text = _spec_text()
    start, end = text.index("production:\n  prometheus"), text.index("slos:")
    _, errors = _load(text[:start] + text[end:])
    assert len(errors) == 3
    assert all("expected a top-level production: block" in e for e in errors)


def test_latency_sli_on_an_availability_slo_is_an_error() -> None:
    text = _spec_text(**{"availability: {requests": "latency: {histogram"})
    _, errors = _load(text)
    assert errors == ["prod.yaml:17:7: slos[0].production.latency: expected a latency SLO for "
                      "a latency SLI, 'availability' is availability"]


def test_both_good_and_bad_is_an_error() -> None:
    text = _spec_text(**{"        bad:": "        good: 'x[{window}]'\n        bad:"})
    _, errors = _load(text)
    assert len(errors) == 1 and "expected exactly one of 'good' or 'bad'" in errors[0]
