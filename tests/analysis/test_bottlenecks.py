"""Bottleneck ranking on synthetic runs."""

from __future__ import annotations

import dataclasses

import pytest

from engine.analysis.bottleneck_runs import bottleneck_basis
from engine.analysis.bottlenecks import component_kind, find_bottlenecks, limiting_resource
from engine.analysis.capacity import analyse_capacity, run_capacity
from engine.analysis.ladder import RateRun, with_other_runs
from engine.analysis.soak import analyse_soak
from engine.analysis.stress import StressAnalysis, analyse_stress
from engine.records import RunEntry, RunRole
from engine.result import RunResult
from engine.spec.model import StopWhen
from tests.support.analysis import J, drive, fixture_spec, make_run, sample, spec_demo, spread


def _res(cpu: float) -> list:  # type: ignore[type-arg]
    return [sample(t * 0.1, cpu=cpu) for t in range(100)]


def _mixed(cpu: float = 95.0) -> RunResult:
    lookup = spread(0.060, 300)
    recs = spread(0.040, 200, seed=2)
    return make_run([
        J("lookup", lookup, server_timing={"db": lookup * 0.9, "app": lookup * 0.92}),
        J("recs", recs, server_timing={"db": recs * 0.0, "app": recs * 0.95}),
        J("health", spread(0.001, 500, seed=3),
          server_timing={"db": spread(0.0, 500), "app": spread(0.0002, 500)}),
    ], duration_s=10.0, resources=_res(cpu))


def test_db_lookup_first_then_cpu_route() -> None:
    found = find_bottlenecks([_mixed()])
    assert [b.rank for b in found] == list(range(1, len(found) + 1))
    causes = [b for b in found if b.kind != "queueing"]
    first, second = causes[0], causes[1]
    # the queueing behind the first cause is its symptom: listed right after it, same fix
    assert found[1].kind == "queueing" and found[1].suggestion == first.suggestion
    assert (first.kind, first.journeys, first.suggestion) == ("database", ("lookup",), "database")
    assert first.component == "db"
    assert (second.kind, second.journeys, second.suggestion) == ("cpu", ("recs",), "algorithm")
    assert first.share > second.share > 0.2
    assert any("db is" in e and "lookup's mean response time" in e for e in first.evidence)
    assert any("lookup is" in e and "of total latency" in e for e in first.evidence)
    assert sum(b.share for b in found) <= 1.0 + 1e-9
    doc = first.to_doc()
    assert {"rank", "name", "kind", "share", "journeys", "evidence", "suggestion"} <= set(doc)


def test_handler_time_with_idle_cpu_is_waiting_not_cpu() -> None:
    found = find_bottlenecks([_mixed(cpu=5.0)])
    recs = next(b for b in found if b.journeys == ("recs",))
    assert (recs.kind, recs.suggestion) == ("dependency", "async")
    lookup = next(b for b in found if b.journeys == ("lookup",))
    assert lookup.suggestion == "pooling"  # db time the CPU does not cover is waiting


def test_a_run_whose_cpu_went_unread_says_nothing_of_its_cpu() -> None:
    """A remote target's samples without a CPU reading (a scrape gap, no metric): the CPU is
    unknown, not 0%, so handler time is not judged waiting for want of CPU."""
    unread = tuple(dataclasses.replace(s, unknown=("cpu_pct",)) for s in _res(0.0))
    found = find_bottlenecks([dataclasses.replace(_mixed(), resources=unread)])
    recs = next(b for b in found if b.journeys == ("recs",))
    assert (recs.kind, recs.suggestion) == ("cpu", "algorithm")  # as 0%: dependency, async
    assert any("no target CPU samples" in e for e in recs.evidence)


def test_downstream_component_is_a_dependency() -> None:
    lat = spread(0.050, 100)
    run = make_run([J("dash", lat, server_timing={"ext": lat * 0.9, "app": lat * 0.95})],
                   resources=_res(3.0))
    (b,) = [b for b in find_bottlenecks([run]) if b.component == "ext"]
    assert (b.kind, b.suggestion) == ("dependency", "async")
    assert component_kind("db") == "database" and component_kind("redis") == "cache"


def test_unreported_time_is_its_own_share_beside_the_on_cpu_work() -> None:
    # half of every response is outside the handler: a queueing share of its own, not folded
    # into the cpu candidate (issue #14: 98.9% "of latency" beside a Server-Timing share of 70%)
    lat = spread(0.100, 200)
    run = make_run([J("recs", lat, server_timing={"app": lat * 0.5})], resources=_res(99.0))
    cpu, queue = find_bottlenecks([run])
    assert cpu.kind == "cpu" and cpu.share == pytest.approx(0.5, abs=0.02)
    assert queue.kind == "queueing" and queue.share == pytest.approx(0.5, abs=0.02)
    assert cpu.share + queue.share <= 1.0 + 1e-9
    assert any("queue behind it" in e for e in cpu.evidence)
    assert any("app is 50" in e and "recs's mean response time" in e for e in cpu.evidence)


def test_queueing_alone_when_nothing_is_on_cpu() -> None:
    lat = spread(0.100, 200)
    run = make_run([J("dash", lat, server_timing={"ext": lat * 0.3})], resources=_res(2.0))
    kinds = [b.kind for b in find_bottlenecks([run])]
    assert kinds[0] == "queueing" and "dependency" in kinds


def test_errors_and_missing_server_timing() -> None:
    run = make_run([J("pay", spread(0.02, 100), errors={"status_5xx": 20}),
                    J("other", spread(0.02, 100))])
    found = find_bottlenecks([run])
    errs = next(b for b in found if b.kind == "errors")
    assert errs.share == pytest.approx(0.1) and errs.share_of == "requests"
    assert errs.share_text == "10.0% of requests failed"  # never "10% of latency"
    plain = [b for b in found if b.kind != "errors"]
    assert all("no Server-Timing" in b.name for b in plain)


def test_stress_adds_knee_and_limit_evidence() -> None:
    def step(rate: float, p95: float) -> RunResult:
        lat = spread(p95, 100, seed=int(rate))
        return make_run([J("lookup", lat, server_timing={"db": lat * 0.9, "app": lat})],
                        rate=rate, duration_s=100 / rate, resources=_res(97.0))

    stress = analyse_stress([step(10, 0.01), step(20, 0.011), step(30, 0.2)],
                            stop_when=StopWhen(p95_s=0.05))
    stress_run = step(30, 0.2)
    assert limiting_resource(stress_run)[0] == "database"
    found = find_bottlenecks([stress_run], stress)
    assert any("latency climbing after 20/s" in e for e in found[0].evidence)


def test_top_limits_and_empty_runs() -> None:
    assert find_bottlenecks([]) == []
    assert len(find_bottlenecks([_mixed()], top=1)) == 1


# --- end to end against the demo service ----------------------------------------

ALL_BUT = {p: tuple(f for f in ("index", "join", "cache", "async", "parallel", "linear", "pool")
                    if f != p) for p in ("index", "linear")}


def _demo_bottlenecks(fix: tuple[str, ...] | None) -> list:  # type: ignore[type-arg]
    spec = fixture_spec("bottlenecks")
    profile = spec.profile("baseline")
    assert profile is not None
    with spec_demo(spec, fix) as (url, pid):
        run = drive(url, pid, spec, profile)
    assert run.validity.valid, run.validity.reasons
    return find_bottlenecks([run])


@pytest.mark.slow
def test_demo_unindexed_lookup_is_named_first_as_database() -> None:
    first = _demo_bottlenecks(ALL_BUT["index"])[0]
    assert (first.kind, first.journeys, first.suggestion) == ("database", ("lookup",), "database")


@pytest.mark.slow
def test_demo_quadratic_route_is_named_first_as_cpu() -> None:
    first = _demo_bottlenecks(ALL_BUT["linear"])[0]
    assert (first.kind, first.journeys, first.suggestion) == ("cpu", ("recs",), "algorithm")


@pytest.mark.slow
def test_demo_both_planted_bottlenecks_lead_the_list() -> None:
    found = _demo_bottlenecks(None)  # the spec's own fixes: index and linear left slow
    causes = [b for b in found if b.kind != "queueing"]
    top2 = {(b.kind, b.journeys) for b in causes[:2]}
    assert top2 == {("database", ("lookup",)), ("cpu", ("recs",))}
    assert found[0] is causes[0]  # a cause first; the queueing it names follows it
    queue = [b for b in found if b.kind == "queueing"]
    if queue:  # queueing behind the largest on-CPU cause, listed right after it
        assert found[1] is queue[0] and causes[0].name in queue[0].evidence[0]


def test_leaking_rss_is_a_memory_bottleneck() -> None:
    lat = spread(0.01, 100)
    # 1500 s of samples: a leak verdict at 24 h needs at least 1% of it (a 20 s run could
    # be a warm-up, and is not named a memory bottleneck)
    leak = [sample(t * 5.0, rss=(50 << 20) + t * (100 << 10)) for t in range(300)]
    run = make_run([J("a", lat, server_timing={"app": lat * 0.9})], duration_s=1500.0,
                   resources=leak)
    mem = [b for b in find_bottlenecks([run]) if b.kind == "memory"]
    assert len(mem) == 1 and mem[0].share == 0.0 and "RSS grows" in mem[0].evidence[0]
    flat = make_run([J("a", lat)], duration_s=20.0, resources=_res(50.0))
    assert not [b for b in find_bottlenecks([flat]) if b.kind == "memory"]
    # a soak that ran is the one leak verdict: its NO_LEAK wins over a short leaky run
    assert not [b for b in find_bottlenecks([run], soak=analyse_soak(flat)) if b.kind == "memory"]
    assert [b for b in find_bottlenecks([flat], soak=analyse_soak(run)) if b.kind == "memory"]


# --- which runs the shares are over (issue #14: one base) ---------------------------

def _orders(latency_s: float, db_s: float, n: int, rate: float, kind: str) -> RunResult:
    """An orders journey whose db reports ``db_s`` of each ``latency_s`` response."""
    lat = spread(latency_s, n)
    return make_run([J("orders", lat, server_timing={"db": spread(db_s, n, seed=4)})],
                    duration_s=n / rate, rate=rate, kind=kind)


def _checkout_entries() -> tuple[list[RunEntry], StressAnalysis]:
    """The quick start's checkout as it ran: a baseline and two stress steps that held at
    ~4 ms (db ~65%), then a 600/s step queueing at ~600 ms that failed p95 <= 250 ms."""
    base = _orders(0.004, 0.0026, 500, 100.0, "baseline")
    held = [_orders(0.004, 0.0026, 300, 100.0, "stress"),
            _orders(0.0045, 0.0028, 1050, 350.0, "stress")]
    broke = _orders(0.600, 0.003, 1800, 600.0, "stress")
    stress = analyse_stress([*held, broke], rates=[100.0, 350.0, 600.0],
                            stop_when=StopWhen(p95_s=0.250, slo_broken=False))
    entries = [RunEntry("baseline", RunRole("baseline", "baseline"), base)]
    entries += [RunEntry(f"stress-{i + 1}", RunRole("stress", "stress", step_rate=rate), run)
                for i, (rate, run) in enumerate(zip((100.0, 350.0, 600.0), [*held, broke],
                                                    strict=True))]
    return entries, stress


def test_a_step_past_the_breaking_point_is_left_out_of_the_shares() -> None:
    """Seen in the quick start: summed with the runs that held, one overloaded stress step's
    queueing was '98.7% of total latency', the top bottleneck, beside a Server-Timing table
    where db was 68% of orders's time. The step's overload is the stress analysis' to say."""
    entries, stress = _checkout_entries()
    everything = find_bottlenecks([e.run for e in entries], stress)
    # the contradiction: the overload's queueing swamps every run that held
    assert everything[0].kind == "queueing" and everything[0].share > 0.9
    basis = bottleneck_basis(entries, stress)
    assert [e.id for e in basis.entries] == ["baseline", "stress-1", "stress-2"]
    assert [i for i, _ in basis.left_out] == ["stress-3"]
    assert "600/s did not hold: p95" in basis.left_out[0][1]
    found = find_bottlenecks(basis.runs, stress)
    db = found[0]
    assert (db.kind, db.component) == ("database", "db")
    assert 0.55 < db.share < 0.75  # db's share of the runs that held, not of the overload
    queue = next(b for b in found if b.kind == "queueing")
    assert queue.share < db.share and db.share + queue.share <= 1.0 + 1e-9
    assert basis.to_doc() == {"runs": ["baseline", "stress-1", "stress-2"],
                              "left_out": [{"id": "stress-3", "why": basis.left_out[0][1]}],
                              "none_held": False}


def test_a_capacity_point_above_1x_that_missed_the_slos_is_left_out() -> None:
    """Past 1x a point that misses the SLOs is overload; at 1x it is the baseline's own load
    (a service that misses its SLOs there is what the bottlenecks are for)."""
    base = _orders(0.004, 0.0026, 500, 100.0, "baseline")
    one = _orders(0.030, 0.0026, 300, 100.0, "capacity")
    ok, broke = _orders(0.004, 0.0026, 600, 200.0, "capacity"), _orders(0.5, 0.003, 1200,
                                                                         400.0, "capacity")
    capacity = analyse_capacity([one, ok, broke], [1.0, 2.0, 4.0], 100.0, lambda r: r is ok)
    assert [p.slo_pass for p in capacity.points] == [False, True, False]
    entries = [RunEntry("baseline", RunRole("baseline", "baseline"), base)]
    entries += [RunEntry(f"capacity-{i + 1}", RunRole("capacity", "capacity", step_rate=rate), run)
                for i, (rate, run) in enumerate(((100.0, one), (200.0, ok), (400.0, broke)))]
    basis = bottleneck_basis(entries, None, capacity)
    assert [e.id for e in basis.entries] == ["baseline", "capacity-1", "capacity-2"]
    assert basis.left_out == (("capacity-3", "capacity point 4x (400/s) missed the SLOs"),)


def test_a_capacity_point_that_broke_the_stress_limits_is_left_out_too() -> None:
    """A point whose SLOs held but whose run broke the stress stop conditions counts as a
    failure for the breaking point (engine.analysis.ladder), so it is overload here too."""
    entries, stress = _checkout_entries()
    held, over = _orders(0.004, 0.0026, 600, 200.0, "capacity"), _orders(0.4, 0.003, 1200,
                                                                         400.0, "capacity")
    capacity = analyse_capacity([held, over], [2.0, 4.0], 100.0, lambda r: True)
    stop = StopWhen(p95_s=0.250, slo_broken=False)
    stress = with_other_runs(stress, [RateRun("capacity 2x", 200.0, held, True),
                                      RateRun("capacity 4x", 400.0, over, True)], stop)
    assert stress.breaking_point_rate == 350.0 and stress.first_failure_rate == 400.0
    entries += [RunEntry(f"capacity-{i + 1}", RunRole("capacity", "capacity", step_rate=rate), run)
                for i, (rate, run) in enumerate(((200.0, held), (400.0, over)))]
    basis = bottleneck_basis(entries, stress, capacity)
    assert [i for i, _ in basis.left_out] == ["stress-3", "capacity-2"]
    assert basis.left_out[1][1].startswith("capacity point 4x (400/s) did not hold the stress "
                                           "limits: p95")


def test_a_ctrl_c_during_capacity_keeps_the_points_measured_so_far() -> None:
    """A Ctrl-C between capacity points left no analysis, so every capacity run, an overloaded
    one included, counted in the bottleneck shares; the points measured are kept, as stress
    keeps its steps."""
    runs = [_orders(0.004, 0.0026, 600, 200.0, "capacity"), _orders(0.5, 0.003, 1200, 400.0,
                                                                    "capacity")]

    def run_step(rate: float, duration_s: float) -> RunResult:
        if rate > 400.0:
            raise KeyboardInterrupt  # the pipeline's runner once the stop flag is set
        return runs[0] if rate == 200.0 else runs[1]

    capacity = run_capacity(100.0, [2.0, 4.0, 8.0], run_step, lambda r: r is runs[0])
    assert [p.multiplier for p in capacity.points] == [2.0, 4.0]
    entries = [RunEntry(f"capacity-{i + 1}", RunRole("capacity", "capacity", step_rate=r), run)
               for i, (r, run) in enumerate(zip((200.0, 400.0), runs, strict=True))]
    basis = bottleneck_basis(entries, None, capacity)
    assert [e.id for e in basis.entries] == ["capacity-1"]
    assert [i for i, _ in basis.left_out] == ["capacity-2"]


def test_when_no_own_run_held_the_overload_is_the_evidence() -> None:
    """A stress whose first step broke, with no other profile: nothing held, so every own
    run counts (nothing is left out) rather than no bottleneck at all."""
    broke = _orders(0.600, 0.003, 600, 600.0, "stress")
    stress = analyse_stress([broke], rates=[600.0], stop_when=StopWhen(p95_s=0.250))
    entries = [RunEntry("stress-1", RunRole("stress", "stress", step_rate=600.0), broke)]
    basis = bottleneck_basis(entries, stress)
    assert [e.id for e in basis.entries] == ["stress-1"] and basis.left_out == ()
    assert basis.none_held and basis.to_doc()["none_held"] is True


def test_a_spec_of_experiments_only_is_judged_on_their_before_side() -> None:
    run = _orders(0.004, 0.0026, 100, 50.0, "baseline")
    entries = [RunEntry(f"H1-{side}-1", RunRole("hypothesis", "baseline", side=side,
                                                round_index=0, hypothesis="H1"), run)
               for side in ("baseline", "candidate")]
    basis = bottleneck_basis(entries)
    assert [e.id for e in basis.entries] == ["H1-baseline-1"]


def test_queueing_names_the_largest_on_cpu_cause_not_the_first_journey() -> None:
    """The quick start's user-lookup listed 'db time in stats' (14%) first, then queueing
    (68%) 'behind app time in lookup' (6%): the cause named was the first journey's."""
    lookup, stats = spread(0.0013, 800), spread(0.0016, 360, seed=2)
    run = make_run([J("lookup", lookup, server_timing={"app": lookup * 0.12}),
                    J("stats", stats, server_timing={"db": stats * 0.48})],
                   duration_s=24.0, resources=_res(95.0))
    found = find_bottlenecks([run])
    assert [b.name for b in found[:2]] == ["db time in stats", "queueing outside the handlers"]
    assert found[1].evidence[0].endswith("likely queueing behind db time in stats")


def test_queueing_never_names_a_cause_too_small_to_be_listed() -> None:
    """platform-proactive: 'likely queueing behind app time in profile', an item under the 2%
    the list shows, after #1 ext time (off the CPU). A cause must be ranked to be named."""
    dash, prof = spread(0.020, 300), spread(0.001, 300, seed=2)
    run = make_run([J("dashboard", dash, server_timing={"ext": dash * 0.93}),
                    J("profile", prof, server_timing={"app": prof * 0.05})],
                   duration_s=10.0, resources=_res(95.0))
    found = find_bottlenecks([run])
    queue = next(b for b in found if b.kind == "queueing")
    assert queue.behind == "" and "behind" not in queue.evidence[0]
    assert "app time in profile" not in [b.name for b in found]
    linked = find_bottlenecks([_mixed()])
    assert linked[1].kind == "queueing" and linked[1].behind == linked[0].name
    assert linked[1].to_doc()["behind"] == linked[0].name
