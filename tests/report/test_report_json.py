"""The JSON document: every produced document validates; broken ones do not."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from engine.hotpath.native import Histogram
from engine.report import json_format
from engine.report.document import (
    DocumentError,
    empty_spec_report,
    latency_summary,
    load_document,
    new_document,
    run_to_doc,
    spectrum,
    spectrum_percentiles,
    validate_document,
)
from tests.support.docs import NOW, full_document, make_run, minimal_document
from tests.support.golden import check_golden
from tests.support.runs import build_run, run_doc, synthetic_validity


@pytest.fixture(scope="module")
def full() -> dict[str, Any]:
    return full_document()


def test_fixture_documents_validate(full: dict[str, Any]) -> None:
    assert validate_document(full) == []
    assert validate_document(minimal_document()) == []


def test_rendered_json_round_trips_and_validates(full: dict[str, Any]) -> None:
    text = json_format.render(full)
    assert json.loads(text) == full
    assert validate_document(json.loads(text)) == []


def _canonical_histograms(doc: dict[str, Any]) -> dict[str, Any]:
    """Encoded histograms replaced by what they hold: the byte encoding is the codec's
    business (tests/hotpath/test_hdr.py), the golden file pins the report's content."""
    out = copy.deepcopy(doc)
    for spec in out["specs"]:
        for run in spec["runs"]:
            for name, enc in run["histograms"].items():
                h = Histogram.decode(enc)
                run["histograms"][name] = (f"HdrHistogram V2: {h.total_count} values, "
                                           f"p50 {h.value_at_percentile(50)} ns, max {h.max} ns")
    return out


def test_json_golden_minimal() -> None:
    check_golden("minimal.json", json_format.render(_canonical_histograms(minimal_document())))


def test_nan_becomes_null_not_invalid_json() -> None:
    doc = minimal_document()
    doc["specs"][0]["duration_s"] = float("nan")
    parsed = json.loads(json_format.render(doc))
    assert parsed["specs"][0]["duration_s"] is None


def _break(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(doc)
    node: Any = broken
    *parents, last = path.split("/")
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return broken


@pytest.mark.parametrize(("path", "value", "where"), [
    ("schema", "perfopt/report/v2", "schema"),
    ("verdict", "GREEN", "verdict"),
    ("exit_code", 7, "exit_code"),
    ("specs/0/status", "DONE", "specs/0/status"),
    ("specs/0/runs", KeyError, "specs/0"),
    ("specs/0/runs/0/latency/p95", "fast", "specs/0/runs/0/latency/p95"),
    ("specs/0/runs/0/latency/extra", 1.0, "specs/0/runs/0/latency"),
    ("specs/0/runs/0/error_rate", 1.5, "specs/0/runs/0/error_rate"),
    ("specs/0/runs/0/model", "half-open", "specs/0/runs/0/model"),
    ("specs/0/gates/0/status", "OK", "specs/0/gates/0/status"),
    ("specs/0/runs/0/histograms/lookup", "not-a-histogram", "histograms/lookup"),
])
def test_broken_documents_do_not_validate(path: str, value: Any, where: str) -> None:
    problems = validate_document(_break(minimal_document(), path, value))
    assert problems, f"breaking {path} should fail validation"
    assert any(where in p for p in problems), problems


def test_full_document_sections_have_their_enums_checked(full: dict[str, Any]) -> None:
    for path, bad in (("specs/0/hypotheses/0/verdict", "MAYBE"),
                      ("specs/0/priorities/0/tier", "someday"),
                      ("specs/0/bottlenecks/0/kind", "gremlins"),
                      ("specs/0/soak/leak/verdict", "DRIP")):
        assert validate_document(_break(full, path, bad)), path


def test_run_to_doc_units_are_seconds() -> None:
    h = Histogram()
    for ms in range(1, 101):
        h.record(ms * 1_000_000)
    lat = latency_summary(h)
    assert lat["count"] == 100
    assert lat["p50"] == pytest.approx(0.050, rel=0.002)
    assert lat["p99"] == pytest.approx(0.099, rel=0.002)
    assert lat["max"] == pytest.approx(0.100, rel=0.002)


def test_spectrum_is_monotonic_and_ends_at_max() -> None:
    run = make_run("baseline", [100.0] * 5, seed=3)
    doc = run_doc(run, "baseline")
    pts = doc["spectrum"]
    assert pts[0][0] == 0.0 and pts[-1][0] == 100.0
    assert all(a[0] < b[0] and a[1] <= b[1] for a, b in itertools.pairwise(pts))
    assert pts[-1][1] == doc["latency"]["max"]


def test_spectrum_does_not_claim_tail_percentiles_a_small_run_cannot_have() -> None:
    assert max(p for p in spectrum_percentiles(100) if p < 100) <= 99.0
    assert max(p for p in spectrum_percentiles(1_000_000) if p < 100) >= 99.999
    assert spectrum(Histogram()) == []


def test_run_to_doc_counts_and_intervals() -> None:
    run = make_run("stress", [100.0, 200.0, 300.0], seed=9)
    doc = run_doc(run, "stress-1")
    assert doc["requests"] == run.requests and doc["errors"] == run.errors
    assert [iv["target_rate"] for iv in doc["intervals"]] == [100.0, 200.0, 300.0]
    assert sum(iv["rate"] for iv in doc["intervals"]) == pytest.approx(run.requests)
    assert set(doc["histograms"]) == {"lookup", "signup"}
    decoded = Histogram.decode(doc["histograms"]["lookup"])
    assert decoded.total_count == run.journey("lookup").response.total_count  # type: ignore[union-attr]
    shares = {t["component"]: t["share"] for t in doc["journeys"][0]["server_timing"]}
    assert 0 < shares["db"] < 1 and shares["db"] > shares["app"]


def test_run_without_journeys_still_validates() -> None:
    run = build_run((), synthetic_validity(0.0, target=10.0, valid=False, generator_cpu=0.0,
                                           reasons=("target unreachable",), sent=0.0),
                    duration_s=0.0)
    doc = run_doc(run, "baseline")
    assert doc["latency"]["count"] == 0 and doc["spectrum"] == []
    spec = empty_spec_report("x", runs=[doc])
    assert validate_document(new_document([spec], verdict="INVALID", exit_code=3,
                                          generated_at=NOW)) == []


def test_empty_spec_report_rejects_unknown_keys() -> None:
    with pytest.raises(KeyError, match="colour"):
        empty_spec_report("x", colour="red")


def test_load_document_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        load_document(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DocumentError, match="not JSON"):
        load_document(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"schema": "perfopt/report/v1"}', encoding="utf-8")
    with pytest.raises(DocumentError, match="'specs' is a required property"):
        load_document(wrong)


def test_load_document_reads_a_rendered_document(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json_format.render(minimal_document()), encoding="utf-8")
    assert load_document(path) == minimal_document()


def test_encoded_histograms_read_by_hdrhistogram_library() -> None:
    from hdrh.histogram import HdrHistogram

    doc = run_doc(make_run("baseline", [100.0] * 3, seed=5), "b")
    theirs = HdrHistogram.decode(doc["histograms"]["lookup"])
    assert theirs.get_total_count() == doc["journeys"][0]["latency"]["count"]
    # same buckets -> same mean; percentiles are compared elsewhere (rank rounding differs:
    # HdrHistogram rounds the rank half-up, engine.hotpath.native uses the nearest-rank ceiling)
    assert theirs.get_mean_value() * 1e-9 == pytest.approx(
        doc["journeys"][0]["latency"]["mean"], rel=1e-6)


@pytest.mark.slow
def test_real_driver_run_converts_to_a_valid_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """A RunResult from the real driver against the demo service (Server-Timing included)."""
    from engine.driver import run_profile
    from engine.report import html
    from engine.spec.model import Journey, LoadProfile, Request, RunSettings
    from tests.support.demo import running_demo

    monkeypatch.setenv("PERFOPT_LOOPBACK_ONLY", "1")
    journeys = [Journey("lookup", 3.0, (Request("GET", "/users?email=u{rand:1-1000}@demo.test"),)),
                Journey("stats", 1.0, (Request("GET", "/stats"),))]
    profile = LoadProfile("baseline", "baseline", RunSettings(connections=8), duration_s=2.0,
                          rate=40.0)
    with running_demo(["all"]) as url:
        run = run_profile(url, journeys, profile, max_duration_s=20.0)
    doc = run_doc(run, "baseline", ())
    spec = empty_spec_report("real", runs=[doc])
    full = new_document([spec], verdict="PASS", exit_code=0, generated_at=NOW)
    assert validate_document(full) == []
    assert doc["requests"] == run.requests > 0 and len(doc["intervals"]) >= 2
    assert any(j["server_timing"] for j in doc["journeys"]), "demo sends Server-Timing"
    page = html.render(full)
    assert 'data-chart="latency-baseline"' in page and 'data-chart="distribution"' in page


def test_the_report_prints_the_server_timing_rows_it_is_given_and_computes_none() -> None:
    """Issue #14: the shares are computed once, in analysis; run_to_doc only prints them."""
    run = make_run("baseline", [100.0] * 3, seed=5)
    assert all(j["server_timing"] == [] for j in run_to_doc(run, "b")["journeys"])
    given = run_doc(run, "b")
    assert any(j["server_timing"] for j in given["journeys"])
