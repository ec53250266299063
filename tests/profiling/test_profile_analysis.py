"""The profile's analysis on hand-made folded stacks (#21): parsing py-spy's raw output,
self and total samples, the hot function naming the cpu bottleneck, resource figures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.analysis.bottlenecks import find_bottlenecks
from engine.analysis.profile import HOT_MIN_SHARE, analyse_profile, frame_parts, hot_evidence
from engine.analysis.resource_figures import resource_figures
from engine.result import FoldedProfile, RunResult
from engine.target.profiler import parse_folded
from tests.support.analysis import J, make_run, sample, spread

MAIN = "main (app.py:1)"
HANDLER = "handle (app.py:10)"
SLOW = "recommend_slow (algo.py:19)"


def _profile(stacks: dict[str, int], note: str = "") -> FoldedProfile:
    return FoldedProfile("py-spy", 100, 3.0, stacks, (123,), note)


def test_raw_output_is_parsed_and_process_frames_with_their_command_lines_dropped() -> None:
    raw = ('process 7:"sh -c serve --token s3cret";process 8:"python serve.py";'
           f"{MAIN};{HANDLER};{SLOW} 40\n{MAIN};{HANDLER} 5\n"
           f"{MAIN};{HANDLER};{SLOW} 2\nnot a stack line\n\n")
    stacks = parse_folded(raw)
    assert stacks == {f"{MAIN};{HANDLER};{SLOW}": 42, f"{MAIN};{HANDLER}": 5}
    script = 'process 9:"python -c import x\n    n = 0\nrun(n) 7\n";'  # a -c script's lines
    assert parse_folded(f"{script}{MAIN};{HANDLER} 3\n{script}{MAIN} 2\n") == {
        f"{MAIN};{HANDLER}": 3, MAIN: 2}


def test_self_and_total_samples_and_recursion_counted_once() -> None:
    rec = "walk (tree.py:3)"
    a = analyse_profile([_profile({f"{MAIN};{HANDLER};{SLOW}": 60, f"{MAIN};{HANDLER}": 20,
                                   f"{MAIN};{rec};{rec};{rec}": 20})])
    assert a is not None and a.samples == 100 and a.on_cpu_s == pytest.approx(1.0)
    by_self = {f.function: f for f in a.top_self}
    assert by_self["recommend_slow"].self_samples == 60
    assert by_self["recommend_slow"].where == "algo.py:19"
    assert by_self["handle"].self_share == pytest.approx(0.2)
    assert by_self["handle"].total_share == pytest.approx(0.8)  # 60 below it + 20 of its own
    assert by_self["walk"].total_samples == 20  # three frames deep, one stack: counted once
    assert [f.function for f in a.top_total][:2] == ["main", "handle"]
    assert a.hot is not None and a.hot.function == "recommend_slow"
    line = hot_evidence(a)
    assert "recommend_slow (algo.py:19) is 60% of the target's on-CPU samples" in line
    assert "80 samples" not in line and "100 samples at 100/s" in line


def test_runs_merge_and_a_flat_profile_names_no_hot_function() -> None:
    many = {f"{MAIN};f{i} (m.py:{i})": 10 for i in range(20)}  # 5% each
    a = analyse_profile([_profile(many), _profile(many)])
    assert a is not None and a.samples == 400 and a.duration_s == pytest.approx(6.0)
    assert a.top_self[0].self_share < HOT_MIN_SHARE and a.hot is None
    assert hot_evidence(a) == "" and hot_evidence(None) == ""
    assert len(a.top_self) == 10 and a.omitted_samples == 0


def test_notes_without_samples_and_no_profile_at_all() -> None:
    a = analyse_profile([_profile({}, "py-spy could not profile pid 5: not Python"),
                         _profile({}, "py-spy could not profile pid 5: not Python")])
    assert a is not None and a.samples == 0 and a.notes == (
        "py-spy could not profile pid 5: not Python",)
    assert a.to_doc()["top_self"] == [] and analyse_profile([]) is None
    assert frame_parts("<module> (x.py:1)") == ("<module>", "x.py:1")
    assert frame_parts("bare") == ("bare", "")


def _cpu_run() -> RunResult:
    lat = spread(0.100, 200)
    return make_run([J("recs", lat, server_timing={"app": lat * 0.9})],
                    resources=[sample(t * 0.1, cpu=99.0) for t in range(50)])


def test_the_cpu_bottleneck_names_the_hot_function() -> None:
    prof = analyse_profile([_profile({f"{MAIN};{HANDLER};{SLOW}": 90, f"{MAIN};{HANDLER}": 10})])
    plain = find_bottlenecks([_cpu_run()])
    named = find_bottlenecks([_cpu_run()], profile=prof)
    cpu = next(b for b in named if b.kind == "cpu")
    assert any(e.startswith("profile: recommend_slow (algo.py:19) is 90%") for e in cpu.evidence)
    assert not any("profile:" in e for b in plain for e in b.evidence)
    assert [b.name for b in plain] == [b.name for b in named]  # the ranking itself is unchanged


def test_resource_figures_are_bytes_and_rates_between_first_and_last_sample() -> None:
    samples = [replace(s, read_bytes=1000 * i, write_bytes=4096 * i, net_sent_bytes=100 * i,
                       net_recv_bytes=300 * i) for i, s in enumerate(sample(t, cpu=50.0) for t in range(5))]
    run = make_run([J("a", spread(0.01, 10))], resources=samples)
    fig = resource_figures(run)
    assert fig is not None and fig.span_s == pytest.approx(4.0)
    doc = fig.to_doc()
    assert doc["disk_read"] == {"bytes": 4000, "per_s": 1000.0}
    assert doc["disk_write"] == {"bytes": 16384, "per_s": 4096.0}
    assert doc["net_recv"]["per_s"] == pytest.approx(300.0)
    assert doc["cpu_target_pct"] == 70.0 and doc["memory_target_pct"] == 80.0
    assert resource_figures(make_run([J("a", spread(0.01, 10))])) is None


def test_resource_figures_count_the_load_not_the_sampler_s_idle_edges() -> None:
    """The sampler reads before the load starts (a managed target's start-up writes its
    database) and after it ends: the table's bytes, rates and sample count are the load's,
    as its CPU and memory p95s are, and the checklist row's count is the same number."""
    from engine.analysis.resources import summarize_run

    def at(t: float, read: int) -> object:
        return replace(sample(t), read_bytes=read, net_sent_bytes=read // 2)

    # start-up wrote 9 MB before t=0; the load (0..4 s) reads 1000 B/s; 5 MB after it
    samples = [at(-2.0, 0), at(-1.0, 9_000_000), at(0.0, 9_000_000), at(2.0, 9_002_000),
               at(4.0, 9_004_000), at(6.0, 14_004_000)]
    run = make_run([J("a", spread(0.01, 10))], duration_s=4.0, resources=samples)  # type: ignore[arg-type]
    fig = resource_figures(run)
    assert fig is not None
    assert fig.disk_read_bytes == 4000 and fig.span_s == pytest.approx(4.0)
    assert fig.to_doc()["disk_read"]["per_s"] == pytest.approx(1000.0)
    assert fig.net_sent_bytes == 2000
    assert fig.samples == 3 == summarize_run(run).samples
    # between samples, the ones bracketing the load count: the load's start and end are
    # covered, at most one sampling period more at each edge
    sparse = make_run([J("a", spread(0.01, 10))], duration_s=3.0,
                      resources=[at(-1.0, 0), at(1.0, 2000), at(5.0, 6000)])  # type: ignore[list-item]
    fig = resource_figures(sparse)
    assert fig is not None and fig.disk_read_bytes == 6000 and fig.span_s == pytest.approx(6.0)
