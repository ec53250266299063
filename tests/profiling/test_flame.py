"""Flame graphs (#21): the SVG from folded stacks, and the HTML report's flame graph in real
headless Chromium (as tests/report/test_report_browser.py checks the other charts).

Chromium is required: when it is missing the test FAILS (CI installs Debian's chromium).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from engine.analysis.profile import analyse_profile
from engine.report import html, markdown
from engine.report.document import validate_document
from engine.report.flame import MIN_PX, flame_graph
from engine.result import FoldedProfile
from tests.support.browser import decode_png, run_chromium
from tests.support.docs import full_document

ROOT = "<module> (app.py:1)"
STACKS = {f"{ROOT};handle (app.py:9);recommend_slow (algo.py:19)": 300,
          f"{ROOT};handle (app.py:9)": 60, f"{ROOT};render (app.py:30)": 40,
          f"{ROOT};tiny (app.py:50)": 1}
WINDOW = (1400, 5000)


def _widths(svg: str) -> dict[str, float]:
    """Frame title (up to ':') -> its box width."""
    found = re.findall(r'<title>([^<]*?): [\d,]+ samples[^<]*</title><rect x="[\d.]+" '
                       r'y="[\d.]+" width="([\d.]+)"', svg)
    return {t: float(w) for t, w in found}


def test_boxes_are_as_wide_as_their_samples_and_carry_a_tooltip() -> None:
    svg = flame_graph(list(STACKS.items()), "Flame graph, run", "flame-run")
    widths = _widths(svg)
    total = widths["all"]
    assert abs(widths["recommend_slow (algo.py:19)"] / total - 300 / 401) < 0.005
    assert abs(widths["handle (app.py:9)"] / total - 360 / 401) < 0.005
    assert "&lt;module&gt; (app.py:1): 401 samples (100.0%)" in svg  # escaped, with its share
    assert "recommend_slow (algo.py:19): 300 samples (74.8%)" in svg
    assert "<script" not in svg and 'data-chart="flame-run"' in svg
    # a box narrower than MIN_PX is left out: 1 of 401 samples is ~2.9 px wide here, so drawn
    assert ("tiny (app.py:50)" in widths) == (total / 401 >= MIN_PX)
    assert flame_graph([], "empty", "flame-empty") == ""


def _profiled_document() -> dict[str, Any]:
    doc = full_document()
    prof = analyse_profile([FoldedProfile("py-spy", 100, 10.0, STACKS, (42,))])
    assert prof is not None
    doc["specs"][0]["runs"][0]["cpu_profile"] = prof.to_doc()
    assert validate_document(doc) == []
    return doc


def test_markdown_lists_the_top_functions() -> None:
    text = markdown.render(_profiled_document())
    assert "**CPU profile** (run `baseline`, py-spy at 100/s over 10.0 s): 401 samples" in text
    assert "| `recommend_slow` | algo.py:19 | 74.8% | 74.8% | 300 |" in text


_MEASURE = """<pre id="perfopt-flame" hidden></pre><script>
document.getElementById('perfopt-flame').textContent = JSON.stringify(
  Array.from(document.querySelectorAll('svg.flame')).map(function (s) {
    var r = s.getBoundingClientRect();
    return {id: s.getAttribute('data-chart'), x: r.left, y: r.top + window.scrollY,
            w: r.width, h: r.height, boxes: s.querySelectorAll('g.frame rect').length};
  }));
</script></body>"""


def test_the_flame_graph_renders_in_chromium(tmp_path: Path) -> None:
    page_html = html.render(_profiled_document())
    measure = tmp_path / "measure.html"
    measure.write_text(page_html.replace("</body>", _MEASURE, 1), encoding="utf-8")
    dom = run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom",
                        measure.as_uri()], tmp_path / "profile")
    found = re.search(r'<pre id="perfopt-flame" hidden="">(.*?)</pre>', dom, re.S)
    assert found, "measuring script did not run"
    [box] = json.loads(found.group(1).replace("&quot;", '"'))
    assert box["id"] == "flame-baseline" and box["boxes"] == 6
    assert box["w"] > 800 and box["h"] > 60 and box["y"] + box["h"] < WINDOW[1], box
    page = tmp_path / "report.html"
    page.write_text(page_html, encoding="utf-8")
    shot = tmp_path / "report.png"
    run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}",
                  page.as_uri()], tmp_path / "profile")
    img = decode_png(shot.read_bytes())[:, :, :3].astype(np.int16)
    region = img[int(box["y"]) + 30:int(box["y"] + box["h"]) - 5,
                 int(box["x"]) + 5:int(box["x"] + box["w"]) - 5]
    warm = (region[:, :, 0] > 190) & (region[:, :, 2] < 120)  # the frames' reds and oranges
    assert warm.mean() > 0.2, f"only {warm.mean():.1%} of the flame graph is drawn"
