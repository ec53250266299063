"""The spec loader: valid specs become records; every broken form gives file:line and exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.spec.loader import load_paths
from tests.support.specs import VALID, run_cli, write_spec

LOCATION = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): ")


def errors_for(tmp_path: Path, text: str) -> list[str]:
    result = load_paths([str(write_spec(tmp_path, text))])
    return [str(e) for e in result.errors]


def test_valid_spec_becomes_frozen_records(tmp_path: Path) -> None:
    result = load_paths([str(write_spec(tmp_path, VALID))])
    assert result.errors == []
    spec = result.specs[0]
    assert spec.name == "svc" and spec.trigger == "proactive"
    assert [j.name for j in spec.journeys] == ["lookup", "signup"]
    assert spec.journeys[1].steps[0].method == "POST"
    slo = spec.slo("lookup-p95")
    assert slo is not None and slo.objective.value == pytest.approx(0.2)
    assert slo.target == pytest.approx(0.95) and slo.error_budget == pytest.approx(0.05)
    errors_slo = spec.slo("errors")
    assert errors_slo is not None and errors_slo.error_budget == pytest.approx(0.001)
    baseline = spec.profile("baseline")
    assert baseline is not None and baseline.rate == 50.0 and baseline.duration_s == 5.0
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]


def test_several_documents_per_file_and_many_files(tmp_path: Path) -> None:
    second = VALID.replace("name: svc,", "name: svc2,")
    write_spec(tmp_path, VALID + "---\n" + second, "a.yaml")
    write_spec(tmp_path, VALID.replace("name: svc,", "name: svc3,"), "b.yml")
    result = load_paths([str(tmp_path)])
    assert result.errors == []
    assert sorted(s.name for s in result.specs) == ["svc", "svc2", "svc3"]


def test_second_document_errors_point_at_its_own_lines(tmp_path: Path) -> None:
    broken = VALID.replace("name: svc,", "name: svc2,").replace('"< 200ms"', '"fast"')
    errors = errors_for(tmp_path, VALID + "---\n" + broken)
    first_doc_lines = len(VALID.splitlines()) + 1
    assert len(errors) == 1
    line = int(LOCATION.match(errors[0]).group("line"))  # type: ignore[union-attr]
    assert line == first_doc_lines + 11


BROKEN: list[tuple[str, str, int, str]] = [
    ("wrong type", VALID.replace("weight: 80", "weight: lots"), 8,
     "journeys[0].weight: expected a number"),
    ("unknown key with hint", VALID.replace("trigger: proactive", "triger: proactive"), 4,
     "unknown key 'triger' (did you mean 'trigger'?)"),
    ("bad unit", VALID.replace("rate: 50/s", "rate: 50/q"), 15,
     'load.baseline.rate: expected a rate like "500/s"'),
    ("bad comparison", VALID.replace('"< 200ms"', '"fast"'), 11,
     'slos[0].objective: expected a comparison like "< 200ms"'),
    ("dangling journey", VALID.replace("journey: lookup,", "journey: lokup,"), 11,
     "unknown journey 'lokup'"),
    ("bad trigger", VALID.replace("trigger: proactive", "trigger: sometimes"), 4,
     "trigger: expected one of slo-breach"),
    ("tab indent", VALID.replace("  url: http", "\turl: http"), 6, "tab character"),
    ("duplicate key", VALID.replace("trigger: proactive", "trigger: proactive\ntrigger: proactive"),
     5, "Duplicate key 'trigger'"),
    ("empty file", "", 1, "file is empty"),
    ("only comments", "# nothing here\n", 1, "file is empty"),
    ("not a mapping", "- a\n- b\n", 1, "expected a mapping"),
    ("wrong api version", VALID.replace("perfopt/v1", "perfopt/v2"), 1,
     'apiVersion: expected "perfopt/v1"'),
    ("missing journeys", VALID.split("journeys:")[0] + "load:\n  baseline: {rate: 1/s, duration: 1s}\n",
     1, "missing required key 'journeys'"),
    ("latency without percentile", VALID.replace(" percentile: 95,", ""), 11,
     "missing required key 'percentile'"),
    ("zero duration", VALID.replace("duration: 5s", "duration: 0s"), 15,
     "duration greater than zero"),
    ("negative weight", VALID.replace("weight: 80", "weight: -1"), 8, "expected a number > 0"),
    ("duplicate journey", VALID.replace("name: signup", "name: lookup"), 9,
     "duplicate journey name 'lookup'"),
    ("unknown sli", VALID.replace("sli: error_rate", "sli: errorz"), 12, "unknown SLI 'errorz'"),
    ("anchor", VALID.replace("component: svc-api", "component: &a svc-api"), 3, "anchor"),
]


@pytest.mark.parametrize(("label", "text", "line", "needle"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_specs_give_file_line_and_expected(tmp_path: Path, label: str, text: str,
                                                  line: int, needle: str) -> None:
    errors = errors_for(tmp_path, text)
    assert errors, f"{label}: no error reported"
    match = next((e for e in errors if needle in e), None)
    assert match is not None, f"{label}: {needle!r} not in {errors}"
    loc = LOCATION.match(match)
    assert loc is not None and loc.group("file").endswith("spec.yaml")
    assert int(loc.group("line")) == line, match


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("weight: 80", "weight: lots").replace("rate: 50/s", "rate: 50/q")
    text = text.replace('"< 200ms"', '"fast"')
    assert len(errors_for(tmp_path, text)) == 3


def test_binary_garbage_and_huge_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"apiVersion: perfopt/v1\n\x00\xff\xfe binary")
    huge = tmp_path / "huge.yaml"
    huge.write_text("a: b\n" * (10 * 1024 * 1024 // 5), encoding="utf-8")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    result = load_paths([str(garbage), str(huge), str(latin)])
    text = "\n".join(str(e) for e in result.errors)
    assert "garbage.yaml:2:1: binary data" in text
    assert "huge.yaml:1:1: file is 10.5 MB" in text
    assert "latin.yaml:1:1: not UTF-8" in text


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = load_paths([str(tmp_path / "nope.yaml"), str(tmp_path / "empty")])
    messages = [e.message for e in result.errors]
    assert "no such file or folder" in messages
    assert any("no *.yaml" in m for m in messages)


def test_duplicate_spec_names_across_files(tmp_path: Path) -> None:
    write_spec(tmp_path, VALID, "a.yaml")
    write_spec(tmp_path, VALID, "b.yaml")
    result = load_paths([str(tmp_path)])
    assert any("duplicate spec name 'svc'" in str(e) for e in result.errors)


def test_validate_cli_exit_codes(tmp_path: Path) -> None:
    good = write_spec(tmp_path, VALID, "good.yaml")
    bad = write_spec(tmp_path, VALID.replace("rate: 50/s", "rate: 50/q"), "bad.yaml")
    ok = run_cli("validate", str(good))
    assert ok.returncode == 0 and "1 spec(s) valid" in ok.stdout
    failed = run_cli("validate", str(bad))
    assert failed.returncode == 2
    assert f"{bad}:15:14: load.baseline.rate" in failed.stderr
    assert "Traceback" not in failed.stderr


_HYPOTHESIS = """\
hypotheses:
  - id: H1
    title: index
    type: database
    expect: {{metric: p95, change: "<= -50%"}}
    effort: 2h
    {extra}
    baseline: {{target: {{url: "http://127.0.0.1:18998"}}}}
    candidate: {{target: {{url: "http://127.0.0.1:18997"}}}}
"""


def test_a_hypothesis_runs_its_rounds_for_its_own_duration(tmp_path: Path) -> None:
    from engine.plan import plan_spec

    text = VALID + _HYPOTHESIS.format(extra="duration: 2s")
    result = load_paths([str(write_spec(tmp_path, text))])
    assert result.errors == []
    spec = result.specs[0]
    assert spec.hypotheses[0].duration_s == 2.0
    step = next(s for s in plan_spec(spec).steps if s.kind == "hypothesis")
    # the drive stage runs step.profile: the rounds last 2 s, the gate's baseline still 5 s
    assert step.profile.duration_s == 2.0 and step.profile.rate == 50.0
    assert spec.profile("baseline").duration_s == 5.0  # type: ignore[union-attr]
    assert "(2s a run)" in step.description
    without = load_paths([str(write_spec(tmp_path, VALID + _HYPOTHESIS.format(extra=""),
                                         "plain.yaml"))]).specs[0]
    assert without.hypotheses[0].duration_s is None
    plain = next(s for s in plan_spec(without).steps if s.kind == "hypothesis")
    assert plain.profile.duration_s == 5.0 and plan_spec(spec).est_seconds < \
        plan_spec(without).est_seconds


def test_a_hypothesis_cannot_shorten_a_profile_with_a_shape_of_its_own(tmp_path: Path) -> None:
    stress = VALID.replace("  baseline: {rate: 50/s, duration: 5s}\n",
                           "  baseline: {rate: 50/s, duration: 5s}\n"
                           "  spike: {base: 10/s, peak: 50/s, before: 2s, spike: 2s, "
                           "after: 2s}\n")
    text = stress + _HYPOTHESIS.format(extra="profile: spike\n    duration: 2s")
    errors = errors_for(tmp_path, text)
    assert len(errors) == 1, errors
    match = LOCATION.match(errors[0])
    assert match is not None and int(match.group("line")) == 24
    assert "hypotheses[0].duration: expected no duration: profile 'spike'" in errors[0]
    bad = errors_for(tmp_path, VALID + _HYPOTHESIS.format(extra="duration: soon"))
    assert len(bad) == 1 and "hypotheses[0].duration: expected a duration" in bad[0]
