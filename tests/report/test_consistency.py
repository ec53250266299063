"""Consistency (#14): one figure, one value, in every renderer; invariants between figures.

Property-style: stress step sequences and bottleneck mixes are generated from seeded RNGs,
analysed by the real analysis code, and their documents rendered; the recorded full
document is checked too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import numpy as np
import pytest
from markdown_it import MarkdownIt

from engine.analysis.bottlenecks import find_bottlenecks
from engine.analysis.ladder import RateRun, with_other_runs
from engine.analysis.metrics import metric_value
from engine.analysis.resources import cpu_bins
from engine.analysis.servertiming import breakdown
from engine.analysis.spike import analyse_spike
from engine.analysis.stress import analyse_stress
from engine.report import html, markdown
from engine.report.charts import cpu_points
from engine.report.console import render_summary
from engine.report.document import empty_spec_report, new_document
from engine.report.fmt import fmt_pct, fmt_rate, fmt_s
from engine.report.md_loadtests import kind_section
from engine.result import CheckResult, RunResult
from engine.spec.model import StopWhen
from tests.analysis.test_spike import PROFILE as SPIKE_PROFILE
from tests.analysis.test_spike import _run as _spike_run
from tests.support.analysis import J, make_run, sample, spread
from tests.support.docs import full_document
from tests.support.partial_docs import SOAK_PARTIAL, SPIKE_PARTIAL, STRESS_PARTIAL, partial_document
from tests.support.runs import (
    build_journey,
    build_run,
    build_step,
    details_document,
    lognormal_ns,
    run_doc,
    synthetic_validity,
)
from tests.support.runs import make_run as runs_make_run

STOP = StopWhen(p95_s=0.050, error_rate=0.05)


def _step(rate: float, p95: float, errors: int) -> RunResult:
    lat = spread(p95 / 1.05, 200, rel=0.05, seed=int(rate))
    return make_run([J("lookup", lat, {"status_5xx": errors} if errors else {})],
                    duration_s=200 / rate, rate=rate, kind="stress")


def _stress_cases() -> list[list[tuple[float, float, int]]]:
    rng = random.Random(14)
    cases = []
    for _ in range(25):
        n = rng.randint(1, 6)
        cases.append([(10.0 * (i + 1), rng.choice([0.010, 0.020, 0.080, 0.300]),
                       rng.choice([0, 0, 0, 30])) for i in range(n)])
    return cases


@pytest.mark.parametrize("case", _stress_cases())
def test_breaking_point_exists_iff_a_step_failed_a_stop_condition(
        case: list[tuple[float, float, int]]) -> None:
    s = analyse_stress([_step(*c) for c in case], stop_when=STOP)
    doc: dict[str, Any] = s.to_doc()
    failed = [st for st in doc["steps"] if not st["passed"]]
    assert doc["broke"] == bool(failed)
    assert (doc["failure_mode"] == "none") == (not failed)
    if doc["breaking_point_rate"] is not None:
        assert failed and doc["breaking_point_rate"] < failed[0]["rate"]
        assert all(st["passed"] for st in doc["steps"] if st["rate"] <= doc["breaking_point_rate"])
    md = kind_section({"runs": [], "stress": doc}, "stress")
    if not failed:  # no sentence claims a breaking point, none names a failure mode
        assert not re.search(r"breaking point \d", md) and "Breaking point: none" in md
        assert "failure mode: none" not in md
    else:
        assert "no breaking point" not in md
    for st in doc["steps"]:  # the table shows the JSON's achieved rate
        assert fmt_rate(st["achieved_rate"]) in md


@pytest.mark.parametrize("seed", range(20))
def test_one_breaking_point_over_the_stress_steps_and_the_capacity_runs(seed: int) -> None:
    """Issue #14: 'breaking point 350/s' beside 'capacity: 4x ok' (400/s). Over the stress
    steps and the capacity runs judged on the same conditions: no run below the breaking
    point failed, and none between it and the first failure held."""
    rng = random.Random(seed)
    case = [(100.0 * (i + 1), rng.choice([0.010, 0.020, 0.080]), rng.choice([0, 0, 30]))
            for i in range(rng.randint(1, 5))]
    stress = analyse_stress([_step(*c) for c in case], stop_when=STOP)
    others = [RateRun(f"capacity {m}x", 50.0 * m, _step(50.0 * m, p95, 0), ok)
              for m in sorted(rng.sample(range(1, 12), 2))
              for p95, ok in [(rng.choice([0.010, 0.080]), rng.random() > 0.2)]]
    doc: dict[str, Any] = with_other_runs(stress, others, STOP).to_doc()
    ladder = sorted([*doc["steps"], *doc["others"]], key=lambda st: st["rate"])
    failed = [st["rate"] for st in ladder if not st["passed"]]
    assert doc["broke"] == bool(failed)
    bp = doc["breaking_point_rate"]
    if failed and bp is not None:
        assert bp < failed[0] and bp == max(st["rate"] for st in ladder if st["rate"] < failed[0])
        assert all(st["passed"] for st in ladder if st["rate"] <= bp)
        assert f"Breaking point: {fmt_rate(bp)}" in kind_section({"runs": [], "stress": doc},
                                                                 "stress")
    if failed:
        assert doc["first_failure_rate"] == failed[0] and doc["held_up_to_rate"] == bp
        if bp is None:  # the lowest rate tested failed
            assert ladder[0]["rate"] == failed[0] and "below the first step" in doc["message"]
        else:
            assert doc["message"].startswith(f"breaking point {bp:g}/s")
    else:
        assert bp is None and doc["held_up_to_rate"] == ladder[-1]["rate"]
        assert doc["message"].startswith(f"no breaking point up to {ladder[-1]['rate']:g}/s")


def test_the_breaking_point_marker_is_drawn_where_a_capacity_run_holds_it() -> None:
    """A scenario that held above every stress step holds the breaking point: the chart
    draws the scenarios' p95 so the marker falls inside its axis, and the terminal says
    which scenario broke the stress limits though its SLOs held."""
    stress = analyse_stress([_step(10.0, 0.010, 0), _step(20.0, 0.011, 0)], stop_when=STOP)
    others = [RateRun("capacity 4x", 40.0, _step(40.0, 0.012, 0), True),
              RateRun("capacity 6x", 60.0, _step(60.0, 0.080, 0), True)]
    doc = full_document()
    spec = doc["specs"][0]
    spec["stress"] = with_other_runs(stress, others, STOP).to_doc()
    assert spec["stress"]["breaking_point_rate"] == 40.0
    svg = _svgs(html.render(doc))["stress"]
    assert "breaking point 40/s" in svg and "capacity p95" in svg
    spec["capacity"]["points"] = [{**spec["capacity"]["points"][0], "multiplier": 6.0,
                                   "rate": 60.0, "slo_pass": True}]
    assert "capacity: 6x ok (SLOs; stress limits broken)" in render_summary(doc)


def _mixed(seed: int) -> RunResult:
    rng = np.random.default_rng(seed)
    journeys = []
    for k in range(int(rng.integers(1, 4))):
        lat = spread(float(rng.uniform(0.005, 0.1)), 300, seed=seed * 10 + k)
        db, app = rng.uniform(0, 0.6), rng.uniform(0, 0.4)
        journeys.append(J(f"j{k}", lat, server_timing={"db": lat * db, "app": lat * (db + app)}))
    return make_run(journeys, duration_s=10.0)


@pytest.mark.parametrize("seed", range(15))
def test_shares_of_one_journey_and_of_total_latency_sum_to_at_most_one(seed: int) -> None:
    run = _mixed(seed)
    for j in run.journeys:
        bd = breakdown(j)
        assert sum(c.share for c in bd.components) + bd.unaccounted_share <= 1.0 + 1e-6
    found = find_bottlenecks([run])
    latency = [b for b in found if b.share_of == "latency"]
    assert sum(b.share for b in latency) <= 1.0 + 1e-6
    for b in found:
        assert b.share_text.startswith(f"{b.share:.1%}")
        assert ("latency" in b.share_text) == (b.kind != "errors")


def test_a_components_share_in_the_evidence_is_the_server_timing_tables_share() -> None:
    run = _mixed(3)
    found = find_bottlenecks([run])
    for b in found:
        if b.component is None:
            continue
        (journey,) = b.journeys
        share = next(c.share for c in breakdown(next(j for j in run.journeys
                                                     if j.name == journey)).components
                     if c.component == b.component)
        assert any(f"{share:.1%} of {journey}'s mean response time" in e for e in b.evidence)


def test_percentiles_are_monotone_in_p_in_every_run_and_journey() -> None:
    doc = full_document()
    order = ("p50", "p90", "p95", "p99", "p999", "max")
    for spec in doc["specs"]:
        for run in spec["runs"]:
            for lat in [run["latency"], *(j["latency"] for j in run["journeys"])]:
                values = [lat[p] for p in order if lat.get(p) is not None]
                assert values == sorted(values), (run["id"], values)
            for j in run["journeys"]:
                for t in j["server_timing"]:
                    assert t["p50"] <= t["p95"]


def test_the_markdown_shows_the_jsons_run_figures() -> None:
    doc = full_document()
    md = markdown.render(doc)
    for spec in doc["specs"]:
        for run in spec["runs"]:
            assert fmt_rate(run["achieved_rate"]) in md
        for b in spec["bottlenecks"]:
            assert f"{b['share'] * 100:.1f}%" in md
        basis = spec["bottleneck_runs"]
        ids = {run["id"] for run in spec["runs"]}
        assert basis["left_out"] and set(basis["runs"]) <= ids  # the shares' base is stated
        line = next(s for s in md.split("\n") if s.startswith("Shares are of the summed"))
        assert line.count("`") == 2 * (len(basis["runs"]) + len(basis["left_out"]))
        for x in [*basis["runs"], *(x["id"] for x in basis["left_out"])]:
            assert f"`{x}`" in line
        for x in basis["left_out"]:
            assert x["id"] in ids and x["why"] in line


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()
    return re.sub(r"\( ", "(", re.sub(r" ([:;,.)])", r"\1", text))  # tag edges, not words


def _markdown_sentences(md: str) -> list[str]:
    """Each non-table paragraph, list item and header line of the Markdown as plain text."""
    renderer = MarkdownIt("commonmark").enable("table")
    out = []
    for block in re.split(r"\n\s*\n", md):
        if block.lstrip().startswith("|") or block.startswith("```"):
            continue
        out += [s for s in (p.strip() for p in re.split(r"\n|<br />", renderer.render(block)))
                if s]
    return [_text(s) for s in out if _text(s)]


@pytest.mark.parametrize("make", [full_document, partial_document])
def test_every_message_in_the_markdown_shows_in_the_html(make: Callable[[], Any]) -> None:
    doc = make()
    page = html.render(doc)
    hero = _text("".join(re.findall(r'<header class="hero">(.*?)</header>', page, re.S)))
    visible = _text(page)
    # facts are <dt>Key</dt><dd>value</dd> in HTML, "Key: value" in Markdown
    visible_facts = re.sub(r"(Project|Component|Date|Trigger|Status|Verdict|Spec|Target) ",
                           r"\1: ", hero)
    for sentence in _markdown_sentences(markdown.render(doc)):
        assert sentence in visible or sentence in visible_facts, sentence
    for spec in doc["specs"]:  # the flow's messages are on the first screen
        for m in spec["messages"]:
            assert m in hero, m


def test_the_html_message_check_can_fail() -> None:
    doc = partial_document()
    page = html.render(doc).replace("interrupted after 2 of 5 steps", "stopped")
    visible = _text(page)
    assert not all(s in visible for s in _markdown_sentences(markdown.render(doc)))


def test_partial_evidence_claims_no_verdict_in_any_renderer() -> None:
    doc = partial_document()
    md, page = markdown.render(doc), _text(html.render(doc))
    for text in (md, page):
        assert "did NOT recover" not in text and not re.search(r"[Bb]reaking point:? \d", text)
        for reason in (STRESS_PARTIAL, SOAK_PARTIAL, SPIKE_PARTIAL):
            assert reason in text


def test_the_spike_is_described_by_its_shape_not_the_runs_mean_rate() -> None:
    levels = [0.010] * 5 + [0.200] * 3 + [0.010] * 7
    record: dict[str, Any] = analyse_spike(_spike_run(levels), SPIKE_PROFILE).to_doc()
    doc = full_document()
    spec = {**doc["specs"][0], "spike": record}
    run = next(r for r in spec["runs"] if r["kind"] == "spike")
    md = kind_section(spec, "spike")
    page = _text(html.render({**doc, "specs": [spec]}))
    for text in (md, page):
        assert "Spike: 50/s for 5 s, 500/s for 3 s, 50/s for 7 s." in text
        assert "| 50/s → 500/s |" in md and "spike 50/s → 500/s" in page
    assert fmt_rate(run["target_rate"]) not in md  # the run's mean is no rate it offered


def _svgs(page: str) -> dict[str, str]:
    return dict(re.findall(r'<svg [^>]*data-chart="([^"]+)"[^>]*>(.*?)</svg>', page, re.S))


@pytest.mark.parametrize("make", [full_document, partial_document])
def test_a_target_line_is_drawn_on_the_series_its_slo_is_defined_on(
        make: Callable[[], Any]) -> None:
    doc = make()
    spec = doc["specs"][0]
    drawn = 0
    for chart, svg in _svgs(html.render(doc)).items():
        series = set(re.findall(r'class="series" data-series="([^"]+)"', svg))
        for target in re.findall(r'class="target" data-for="([^"]*)"', svg):
            assert target in series, (chart, target, series)
            drawn += 1
        for label in re.findall(r">([^<]*) target ", svg):  # the label names that series
            assert label.split()[-1] in series or label in series, (chart, label)
    latency = [c for c in spec["slo_checks"] if c["sli"] == "latency"]
    assert drawn >= len(latency)


def test_a_journeys_slo_is_drawn_on_the_journeys_own_series_not_the_aggregate() -> None:
    doc = full_document()
    svg = _svgs(html.render(doc))["latency-baseline"]
    assert 'class="target" data-for="lookup p95"' in svg
    assert 'data-series="lookup p95"' in svg
    assert 'class="target" data-for="p95"' not in svg


def test_a_breaking_point_marker_only_where_a_step_broke() -> None:
    doc = full_document()
    spec = doc["specs"][0]
    assert "breaking point 500/s" in _svgs(html.render(doc))["stress"]
    held = {**spec["stress"], "breaking_point_rate": None, "broke": False, "failure_mode": "none"}
    first = {**spec["stress"], "breaking_point_rate": None}  # broke below the first step
    partial = _svgs(html.render(partial_document()))["stress"]
    for stress in (held, first):
        svg = _svgs(html.render({**doc, "specs": [{**spec, "stress": stress}]}))["stress"]
        assert "breaking point" not in svg
    assert "breaking point" not in partial


def test_cpu_is_charted_per_second_not_as_quantised_samples() -> None:
    """0.1 s samples of CPU time in 10 ms ticks read 0/10/20/30%; their 1 s mean reads 15%.
    Each reading is of the 0.1 s before its ``t_s``: the one at 1.0 s is of the first second."""
    ticks = ((10.0, 20.0), (0.0, 30.0))  # 15% of a core, read in whole 10 ms ticks
    samples = [{"t_s": (i + 1) / 10, "cpu_pct": ticks[(i // 10) % 2][i % 2]} for i in range(100)]
    points = cpu_points(samples)
    assert [t for t, _ in points] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert all(v == pytest.approx(15.0) for _, v in points)
    assert len(cpu_points([{"t_s": float(t), "cpu_pct": 1.0} for t in range(7200)])) <= 600


def test_a_cpu_bin_holds_the_cpu_time_of_its_own_second() -> None:
    """A reading is the CPU time since the sample before: 20% read at 2.0 s is of the second
    [1, 2), not of [2, 3) (binned by its ``t_s``, every reading drew a second late). The
    sampler backs off while nothing changes: 20% over 0.8 s, then 100% over the 0.1 s after
    a change make 28.9% of that time, not the two readings' 60%. The chart draws the bins
    the CPU quantiles are taken over (engine.analysis.resources.cpu_bins)."""
    read = ((1.0, 0.0), (2.0, 20.0), (2.8, 20.0), (2.9, 100.0))
    samples = [{"t_s": t, "cpu_pct": v} for t, v in read]
    assert cpu_points(samples) == [(0.0, 0.0), (1.0, 20.0), (2.0, pytest.approx(26.0 / 0.9))]
    bins = cpu_bins([sample(t, cpu=v) for t, v in read])
    assert [v for _, v in cpu_points(samples)] == [v for v, _ in bins]


@pytest.mark.parametrize("make", [full_document, partial_document])
def test_the_html_and_the_terminal_show_the_jsons_figures(make: Callable[[], Any]) -> None:
    doc = make()
    page, term = _text(html.render(doc)), render_summary(doc)
    assert f"verdict: {doc['verdict']} (exit {doc['exit_code']})" in term
    assert f"exit code {doc['exit_code']}" in page
    for spec in doc["specs"]:
        assert spec["verdict"] in page and f": {spec['verdict']} [" in term
        for run in spec["runs"]:  # percentiles and achieved rate as the JSON has them
            for key in ("p50", "p95", "p99"):
                assert fmt_s(run["latency"][key]) in page, (run["id"], key)
            assert fmt_rate(run["achieved_rate"]) in page
        for c in spec["slo_checks"]:
            assert c["value_text"] in term and c["status"] in term
        for g in spec["gates"]:
            assert f"{g['name']}={g['status']}" in term
        s = spec["stress"]
        if s:
            bp = s["breaking_point_rate"]
            assert f"stress: {s['message']}" in term  # the analysis' own sentence
            claimed = re.search(r"breaking point \d", s["message"]) is not None
            assert claimed == (bp is not None)
            assert (f"Breaking point: {fmt_rate(bp)}" in page) == (bp is not None)
            for st in s["steps"]:
                assert fmt_rate(st["achieved_rate"]) in page and fmt_s(st["p95"]) in page
        for h in spec["hypotheses"]:
            assert f"hypothesis {h['id']}: {h['verdict']}" in term and h["verdict"] in page


# Request details (#16): per-step percentiles, check counts, status counts and tag results
# shown in Markdown, HTML and the terminal are the JSON's, row by row.

def _random_details_doc(seed: int) -> dict[str, Any]:
    """A document whose primary run has 1-3 journeys of 1-4 steps with random latencies,
    errors, status codes, checks and tags (all drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    journeys = []
    for k in range(int(rng.integers(1, 4))):
        steps = []
        for i in range(int(rng.integers(1, 5))):
            n = int(rng.integers(0, 400))
            errs = int(rng.integers(0, n + 1)) // 4
            steps.append(build_step(i, f"GET /j{k}/s{i}", lognormal_ns(rng, n, 0.01),
                                    errors={"status_4xx": errs},
                                    tags={"kind": str(rng.choice(["a", "b"]))}))
        requests = sum(s.requests for s in steps)
        errors = sum(s.errors for s in steps)
        checks = [CheckResult(s.index, f"status is 200 #{s.index}", s.requests - s.errors,
                              s.errors, bool(rng.integers(0, 2))) for s in steps]
        journeys.append(build_journey(
            f"j{k}", steps=steps if len(steps) > 1 else (), checks=checks,
            latencies_ns=lognormal_ns(rng, requests, 0.01) if len(steps) == 1 else (),
            errors={"status_4xx": errors}, statuses={200: requests - errors, 401: errors},
            ended={"extract id failed": int(rng.integers(0, 5))},
            redirects=int(rng.integers(0, 3)), tags={"team": f"t{k % 2}"}))
    run = run_doc(build_run(journeys, synthetic_validity(10.0), duration_s=10.0), "baseline")
    spec = empty_spec_report("details", runs=[run], status="COMPLETE", verdict="PASS")
    return new_document([spec], verdict="PASS", exit_code=0)


def _md_rows(md: str, heading: str) -> list[list[str]]:
    """Body rows of the Markdown table right under ``**heading**``."""
    block = md.split(f"**{heading}**\n\n", 1)[1].split("\n\n", 1)[0]
    return [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            for line in block.splitlines()[2:]]


def _html_rows(page: str, heading: str) -> list[list[str]]:
    """Body rows (cell text) of the HTML table right after ``<strong>heading</strong>``."""
    table_html = page.split(f"<strong>{heading}</strong>", 1)[1].split("</table>", 1)[0]
    body = table_html.split("<tbody>", 1)[1]
    return [[_text(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _term_rows(term: str, title: str) -> list[list[str]]:
    """Rows of the terminal table under the line ``title`` (columns split on 2+ spaces)."""
    lines = term.split(f"\n{title}\n", 1)[1].splitlines()
    rows = []
    for line in lines[1:]:
        if not line.startswith("  "):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def _expected(run: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The rows every format must show, formatted straight from the JSON."""
    out = {f"Steps of {j['name']}": [
        [s["name"], str(s["requests"]), fmt_s(s["p50"]), fmt_s(s["p95"]), fmt_s(s["p99"]),
         str(s["errors"]), fmt_pct(s["error_rate"], 3)] for s in j["steps"]]
        for j in run["journeys"] if j["steps"]}
    out["Checks"] = [[j["name"], c["step_name"] or "—",
                      c["name"] + (" (fails the request)" if c["fail_request"] else ""),
                      str(c["passed"]), str(c["failed"]), fmt_pct(c["pass_rate"], 2),
                      "FAIL" if c["failed"] else "PASS" if c["passed"] else "NOT RUN"]
                     for j in run["journeys"] for c in j["checks"]]
    out["Tags"] = [[t["tag"], ", ".join(t["journeys"]), str(t["requests"]), fmt_s(t["p50"]),
                    fmt_s(t["p95"]), fmt_s(t["p99"]), str(t["errors"]),
                    fmt_pct(t["error_rate"], 3)] for t in run["tags"]]
    return out


@pytest.mark.parametrize("make", [details_document, *(
    (lambda s=s: _random_details_doc(s)) for s in range(12))])
def test_the_request_details_in_every_format_are_the_jsons(
        make: Callable[[], dict[str, Any]]) -> None:
    doc = make()
    run = doc["specs"][0]["runs"][0]
    md, page, term = markdown.render(doc), html.render(doc), render_summary(doc)
    terminal_titles = {"Checks": "checks:", "Tags": "tags:"}
    for heading, rows in _expected(run).items():
        if not rows:
            assert f"**{heading}**" not in md
            continue
        assert _md_rows(md, heading) == rows, heading
        assert _html_rows(page, heading) == rows, heading
        title = terminal_titles.get(heading, heading.replace("Steps", "steps") + ":")
        assert _term_rows(term, title) == rows, heading
    status_rows = _md_rows(md, "Status codes")
    for j in run["journeys"]:  # status counts: every code with the JSON's count
        (row,) = [r for r in status_rows if r[0] == j["name"]]
        assert row[1] == str(j["requests"]) and row[3] == str(j["redirects"])
        shown = dict(pair.split(" x ") for pair in row[2].split(", ")) if j["statuses"] else {}
        assert shown == {k: str(v) for k, v in j["statuses"].items()}
        assert f"{j['name']} {row[2]}" in term
        causes = ", ".join(f"{c['cause']} x {c['count']}" for c in j["error_causes"])
        if j["errors"]:  # the error sentence names the JSON's causes and count
            sentence = f"{j['name']}: {j['errors']} error{'s' if j['errors'] > 1 else ''}"
            assert f"{sentence} ({causes})" in md and f"{sentence} ({causes})" in term


def test_the_request_details_check_can_fail() -> None:
    doc = details_document()
    page = html.render(doc).replace("<td>270</td>", "<td>271</td>", 1)
    heading = "Steps of orders"
    assert _html_rows(page, heading) != _expected(doc["specs"][0]["runs"][0])[heading]


def test_the_cpu_chart_leaves_out_readings_a_scrape_missed() -> None:
    """A remote target's sample whose CPU was not read holds 0 with ``unknown``: the chart,
    like the quantiles (cpu_bins), leaves it out instead of drawing 0%."""
    samples = [{"t_s": float(t), "cpu_pct": 40.0} for t in range(1, 6)]
    samples[2] = {"t_s": 3.0, "cpu_pct": 0.0, "unknown": ["cpu_pct"]}
    assert [pct for _, pct in cpu_points(samples)] == [40.0] * 5
    assert cpu_points([{"t_s": 1.0, "cpu_pct": 0.0, "unknown": ["cpu_pct"]}]) == []


def test_the_stress_and_capacity_tables_show_the_runs_resources_cpu() -> None:
    """One CPU figure per run: the step tables' CPU p95 is the JSON's cpu_p95_pct (the
    Resources figure), never the analysis' mean in % of one core beside it."""
    doc = full_document()
    spec = doc["specs"][0]
    md = markdown.render(doc)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in md.splitlines()
            if line.startswith("| ") and line.rstrip().endswith(("| yes |", "| NO |"))}
    for step in spec["stress"]["steps"]:
        cells = rows[fmt_rate(step["rate"])].split(" | ")
        assert cells[7] == f"{step['cpu_p95_pct']:.0f}%" != f"{step['cpu_pct']:.0f}%"
    for point in spec["capacity"]["points"]:
        row = next(line for line in md.splitlines()
                   if line.startswith(f"| {point['multiplier']:g}x | "))
        assert row.split(" | ")[6] == f"{point['cpu_p95_pct']:.0f}%"


def test_the_capacity_cost_shows_the_instances_it_was_computed_with() -> None:
    """A saturated thread made a point need 2 instances, which doubled its cost per request:
    the cell names the count the JSON holds, so '$0.47' at 2x and at 4x reads as what it is."""
    doc = full_document()
    md = markdown.render(doc)
    for point in doc["specs"][0]["capacity"]["points"]:
        row = next(line for line in md.splitlines()
                   if line.startswith(f"| {point['multiplier']:g}x | "))
        n = point["instances"]
        assert row.split(" | ")[7].rstrip(" |") == (
            f"${point['cost_per_million']:,.2f} ({n} instance{'s' if n != 1 else ''})")
    del doc["specs"][0]["capacity"]["points"][0]["instances"]  # an older document
    row = next(line for line in markdown.render(doc).splitlines() if line.startswith("| 1x | "))
    assert row.endswith(" | $0.68 |")


def test_an_older_document_keeps_its_cpu_column_said_as_the_mean() -> None:
    """`perfopt report OLD.json`: a document written before cpu_p95_pct shows its mean in %
    of one core under its own header, not dashes under 'CPU p95'."""
    doc = full_document()
    spec = doc["specs"][0]
    for row in [*spec["stress"]["steps"], *spec["capacity"]["points"]]:
        del row["cpu_p95_pct"]
    md = markdown.render(doc)
    assert "CPU p95" not in md.split("### Stress", 1)[1].split("### Soak", 1)[0]
    assert md.count("| CPU (mean) |") == 2
    step = spec["stress"]["steps"][0]
    row = next(line for line in md.splitlines() if line.startswith(f"| {fmt_rate(step['rate'])} | "))
    assert row.split(" | ")[7] == f"{step['cpu_pct']:.0f}%"


def test_the_basis_says_when_no_run_held_its_limits() -> None:
    doc = full_document()
    spec = doc["specs"][0]
    spec["bottleneck_runs"] = {"runs": ["stress"], "left_out": [], "none_held": True}
    md = markdown.render(doc)
    assert "over runs `stress`. None of them held its limits" in md


def test_the_soak_table_marks_the_warm_up_its_changes_leave_out() -> None:
    """The quick start's soak said 'p95 change +0.4%' over a table going 21.8 -> 22.2 ms:
    the first window was the warm-up, left out of the change and not marked."""
    doc = full_document()
    soak = doc["specs"][0]["soak"]
    soak["warmup_s"] = soak["windows"][1]["t_s"]  # the first window only
    md = markdown.render(doc)
    section = md.split("### Soak", 1)[1].split("### Spike", 1)[0]
    assert f"(after the {soak['warmup_s']:g} s warm-up)." in section
    first, second = soak["windows"][:2]
    assert f"| {first['t_s']:g} s (warm-up) |" in section
    assert f"| {second['t_s']:g} s |" in section


def test_the_spike_compares_like_with_like() -> None:
    """The spike read 'p99 during 23.2 ms (p95 before 21.7 ms)': a p99 against a p95. It
    says the p95 during against the p95 before, both the JSON's."""
    doc = full_document()
    s = doc["specs"][0]["spike"]
    md = markdown.render(doc)
    assert (f"p95 during {fmt_s(s['p95_during'])} against {fmt_s(s['p95_before'])} before "
            f"(p99 during {fmt_s(s['p99_during'])})") in md


def test_each_hypothesis_states_its_measurement_and_smallest_detectable_change() -> None:
    """Issue #14: every comparison states its minimum detectable effect. A hypothesis' detail
    (runs, requests, looks, the smallest change this noise detects) was in the JSON only."""
    doc = full_document()
    md, page = markdown.render(doc), _text(html.render(doc))
    shown = [h for h in doc["specs"][0]["hypotheses"] if h.get("detail")]
    assert shown
    for h in shown:
        assert f"- **Measurement**: {h['detail']}" in md
        assert f"Measurement: {h['detail']}" in page


def test_throughput_is_one_figure_the_ok_answers_beside_the_achieved_rate() -> None:
    """Issue #14: the baseline's SLI table read 'throughput (achieved)' of every answer, and
    the HTML's throughput card the same, while the throughput SLO counts OK answers: with 5xx
    answers they disagreed. The run's throughput is computed once (RunResult.throughput, the
    SLI's metric_value) and the table and the card show it, the achieved rate beside it."""
    run = runs_make_run(lognormal_ns(np.random.default_rng(7), 1000, 0.01), duration_s=10.0,
                        errors=100)
    doc = run_doc(run, "baseline")
    assert doc["achieved_rate"] == pytest.approx(100.0)
    assert doc["throughput"] == pytest.approx(90.0) == metric_value(run, "throughput")
    spec = empty_spec_report("t", runs=[doc], status="COMPLETE", verdict="PASS")
    document = new_document([spec], verdict="PASS", exit_code=0)
    md = markdown.render(document)
    assert f"| throughput (OK answers) | {fmt_rate(doc['throughput'])} |" in md
    assert f"| achieved (answers, any status) | {fmt_rate(doc['achieved_rate'])} |" in md
    page = unescape(re.sub(r"<[^>]+>", " ", html.render(document)))
    card = re.search(r"throughput\s+(\S+)\s+OK answers", page)
    assert card is not None and card.group(1) == fmt_rate(90.0) != fmt_rate(100.0)
