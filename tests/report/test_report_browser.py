"""The HTML report in real headless Chromium: charts render (non-blank), SVG is in the DOM.

Chromium is required: when it is missing the test FAILS (CI installs Debian's chromium).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from engine.report import html
from engine.report.svg import Axis, Series, line_chart
from tests.support.browser import decode_png, run_chromium
from tests.support.docs import full_document
from tests.support.runs import details_document

WINDOW = (1400, 2600)
_MEASURE = """<pre id="perfopt-rects" hidden></pre><script>
document.getElementById('perfopt-rects').textContent = JSON.stringify(
  Array.from(document.querySelectorAll('svg.chart')).map(function (s) {
    var r = s.getBoundingClientRect();
    return {id: s.getAttribute('data-chart'), x: r.left, y: r.top, w: r.width, h: r.height};
  }));
</script></body>"""


def _screenshot(page: Path, tmp: Path) -> np.ndarray:
    shot = tmp / f"{page.stem}.png"
    run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}",
                  page.as_uri()], tmp / "profile")
    return decode_png(shot.read_bytes())[:, :, :3]


def _rects(page_html: str, tmp: Path) -> list[dict[str, float]]:
    """Chart boxes as laid out by Chromium (same window size as the screenshot)."""
    measure = tmp / "measure.html"
    measure.write_text(page_html.replace("</body>", _MEASURE, 1), encoding="utf-8")
    dom = run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom",
                        measure.as_uri()], tmp / "profile")
    found = re.search(r'<pre id="perfopt-rects" hidden="">(.*?)</pre>', dom, re.S)
    assert found, "measuring script did not run"
    rects: list[dict[str, float]] = json.loads(found.group(1).replace("&quot;", '"'))
    return rects


def _ink(img: np.ndarray, r: dict[str, float]) -> tuple[float, int]:
    """(share of non-background pixels, count of saturated 'line colour' pixels) in the plot."""
    x0, y0 = int(r["x"]) + 60, int(r["y"]) + 70  # skip y tick labels and title/legend
    x1, y1 = int(r["x"] + r["w"]) - 10, int(r["y"] + r["h"]) - 50  # and x tick labels
    region = img[y0:y1, x0:x1].astype(np.int16)
    inked = float(np.mean(region.min(axis=2) < 200))  # lines and text, not light fills
    saturated = int(np.sum(region.max(axis=2) - region.min(axis=2) > 90))
    return inked, saturated


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("browser")
    page = tmp / "report.html"
    text = html.render(full_document())
    page.write_text(text, encoding="utf-8")
    return text, page


def test_dom_has_the_svg_charts(rendered: tuple[str, Path], tmp_path: Path) -> None:
    _, page = rendered
    dom = run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom", page.as_uri()],
                       tmp_path / "profile")
    charts = re.findall(r'<svg [^>]*class="chart"[^>]*data-chart="([^"]+)"', dom)
    assert {"latency-baseline", "throughput-baseline", "distribution", "stress", "cpu-baseline",
            "rss-baseline"} <= set(charts), charts
    assert dom.count('class="series"') >= 30
    assert "<table>" in dom and "Performance Optimization Report - users-api" in dom


def test_chart_regions_are_not_blank(rendered: tuple[str, Path], tmp_path: Path) -> None:
    text, page = rendered
    rects = _rects(text, tmp_path)
    img = _screenshot(page, tmp_path)
    visible = [r for r in rects if r["y"] + r["h"] <= img.shape[0] and r["w"] > 300]
    ids = {r["id"] for r in visible}
    assert {"latency-baseline", "throughput-baseline", "distribution", "stress", "cpu-baseline",
            "rss-baseline"} <= ids, f"charts not laid out in the first screen: {ids}"
    for r in visible:
        inked, saturated = _ink(img, r)
        assert 0.005 < inked < 0.5, f"{r['id']}: {inked:.3f} of the plot area is inked"
        assert saturated > 150, f"{r['id']}: only {saturated} coloured pixels (no lines drawn?)"


def test_blank_chart_is_detected(tmp_path: Path) -> None:
    """The non-blank check can fail: an empty chart next to a drawn one."""
    axis = Axis("x")
    empty = line_chart([Series("a", [])], title="empty", x=axis, y=axis, chart_id="empty")
    drawn = line_chart([Series("a", [(0, 1), (1, 3), (2, 2)])], title="drawn", x=axis, y=axis,
                       chart_id="drawn")
    page_html = f"<!DOCTYPE html><html><body style='margin:0'>{empty}{drawn}</body></html>"
    page = tmp_path / "pair.html"
    page.write_text(page_html, encoding="utf-8")
    rects = {r["id"]: r for r in _rects(page_html, tmp_path)}
    img = _screenshot(page, tmp_path)
    assert _ink(img, rects["empty"])[1] == 0
    assert _ink(img, rects["drawn"])[1] > 150


def test_every_chart_renders_at_one_size(rendered: tuple[str, Path], tmp_path: Path) -> None:
    """One scale for all charts: a chart alone in its row (capacity) is not stretched."""
    text, _ = rendered
    rects = _rects(text, tmp_path)
    ids = {r["id"] for r in rects}
    assert {"capacity", "cpu-baseline", "cpu-soak", "latency-spike"} <= ids, ids
    sizes = {(round(r["w"]), round(r["h"])) for r in rects}
    assert len(sizes) == 1, sorted((r["id"], round(r["w"]), round(r["h"])) for r in rects)


_DETAILS = """<pre id="perfopt-details" hidden></pre><script>
var out = {};
document.querySelectorAll('strong').forEach(function (s) {
  var p = s.closest('p'), t = p && p.nextElementSibling;
  if (!t || t.tagName !== 'TABLE') { return; }
  var r = t.getBoundingClientRect();
  out[s.textContent] = {rows: t.querySelectorAll('tbody tr').length, w: r.width, h: r.height,
                        scroll: t.scrollWidth, client: t.clientWidth};
});
var fail = document.querySelector('td .st-fail');
out.failColour = fail ? getComputedStyle(fail).color : null;
document.getElementById('perfopt-details').textContent = JSON.stringify(out);
</script></body>"""


def test_the_request_details_render_as_tables(tmp_path: Path) -> None:
    """Status codes, steps, checks, ended instances and tags: real tables in the browser,
    each with its rows, laid out inside the page; a failed check in the failure colour."""
    page = tmp_path / "details.html"
    page.write_text(html.render(details_document()).replace("</body>", _DETAILS, 1),
                    encoding="utf-8")
    dom = run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom", page.as_uri()],
                       tmp_path / "profile")
    found = re.search(r'<pre id="perfopt-details" hidden="">(.*?)</pre>', dom, re.S)
    assert found, "measuring script did not run"
    laid = json.loads(found.group(1).replace("&quot;", '"'))
    expected = {"Status codes": 2, "Steps of orders": 3, "Checks": 3,
                "Journey instances ended early": 1, "Tags": 5}
    for heading, rows in expected.items():
        box = laid[heading]
        assert box["rows"] == rows, (heading, box)
        assert box["h"] > 20 * rows and 200 < box["w"] <= WINDOW[0], (heading, box)
    assert laid["failColour"] == "rgb(185, 28, 28)"  # --fail of the report's stylesheet
