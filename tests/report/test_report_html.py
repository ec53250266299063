"""HTML report: self-contained page, Markdown tables rendered, inline SVG charts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.report import html, svg
from tests.support.docs import full_document, minimal_document
from tests.support.golden import check_golden


@pytest.fixture(scope="module")
def full_html() -> str:
    return html.render(full_document())


def test_golden_full(full_html: str) -> None:
    check_golden("full.html", full_html)


def test_golden_minimal() -> None:
    check_golden("minimal.html", html.render(minimal_document()))


def test_self_contained_no_network(full_html: str) -> None:
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "url(", " src="):
        assert needle not in full_html, needle
    # the only URLs are text (the target) and the SVG namespace
    urls = set(re.findall(r"https?://[^\s\"'<]+", full_html))
    assert urls <= {"http://127.0.0.1:8080", "http://www.w3.org/2000/svg"}, urls


def test_every_expected_chart_is_present(full_html: str) -> None:
    charts = re.findall(r'<svg [^>]*data-chart="([^"]+)"', full_html)
    for expected in ("latency-baseline", "throughput-baseline", "distribution", "stress",
                     "cpu-baseline", "rss-baseline", "cpu-soak", "cpu-spike", "latency-stress",
                     "latency-soak", "latency-spike", "capacity"):
        assert expected in charts
    assert full_html.count('class="series"') >= 30
    assert "breaking point 500/s" in full_html  # marker on the stress curve: the last passing rate


def test_minimal_has_no_stress_chart_but_baseline_charts() -> None:
    page = html.render(minimal_document())
    charts = re.findall(r'data-chart="([^"]+)"', page)
    assert "stress" not in charts
    assert {"latency-baseline", "throughput-baseline", "distribution", "cpu-baseline",
            "rss-baseline"} <= set(charts)


def test_markdown_tables_and_headings_are_rendered(full_html: str) -> None:
    assert "<table>" in full_html and "| --- |" not in full_html
    assert "<h1>Performance Optimization Report - users-api</h1>" in full_html
    assert '<span class="st st-fail">FAIL</span>' in full_html


def test_document_text_cannot_inject_markup() -> None:
    doc: dict[str, Any] = minimal_document()
    doc["specs"][0]["description"] = '<script>alert(1)</script><img src="http://x">'
    page = html.render(doc)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page


def test_svg_nice_ticks_and_percentile_axis() -> None:
    assert svg.nice_ticks(0, 97) == [0, 20, 40, 60, 80, 100]
    assert svg.nice_ticks(0, 0.9)[-1] >= 0.9
    assert svg.percentile_x(90, 3) == pytest.approx(1.0)
    assert svg.percentile_x(99.9, 3) == pytest.approx(3.0)
    assert svg.percentile_x(100, 3) > 3


def test_svg_empty_series_says_no_data() -> None:
    chart = svg.line_chart([svg.Series("x", [])], title="t", x=svg.Axis("x"), y=svg.Axis("y"))
    assert "no data" in chart and 'class="series"' not in chart


def test_svg_escapes_labels() -> None:
    chart = svg.line_chart([svg.Series("<b>", [(0, 1), (1, 2)])], title="a & b",
                           x=svg.Axis("x"), y=svg.Axis("y"))
    assert "&lt;b&gt;" in chart and "a &amp; b" in chart


def test_several_specs_each_get_a_report() -> None:
    doc = minimal_document()
    other = dict(doc["specs"][0], name="second", component="billing")
    doc["specs"].append(other)
    page = html.render(doc)
    assert "<h1>Performance Optimization Report - health-endpoint</h1>" in page
    assert "<h1>Performance Optimization Report - billing</h1>" in page
    assert page.count('<article class="spec">') == 2


def test_long_runs_are_thinned_keeping_peaks() -> None:
    from engine.report.charts import MAX_POINTS, thin

    points = [(float(t), 1.0) for t in range(14_400)]  # a 4-hour soak, one point a second
    points[7_777] = (7_777.0, 50.0)
    out = thin(points, peak=True)
    assert len(out) <= MAX_POINTS and max(y for _, y in out) == 50.0
    assert thin(points, peak=False)[0] == (0.0, 1.0)
    assert thin(points[:10], peak=True) == points[:10]


def test_short_trailing_drain_interval_is_not_charted() -> None:
    from engine.report.charts import chart_intervals

    def iv(t: float, d: float) -> dict[str, Any]:
        return {"t_s": t, "duration_s": d}

    run = {"intervals": [iv(0, 1.0), iv(1, 1.0), iv(2, 1.0), iv(3, 0.06)]}
    assert [i["t_s"] for i in chart_intervals(run)] == [0, 1, 2]
    run = {"intervals": [iv(0, 1.0), iv(1, 1.0), iv(2, 0.9)]}
    assert len(chart_intervals(run)) == 3
