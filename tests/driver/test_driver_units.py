"""Driver pieces without a network: shapes, schedules, templates, mix, Server-Timing,
validity and the progress printer."""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from engine.answered import LoadCounts, in_load
from engine.driver.progress import IntervalProgress, ProgressPrinter, RunFinished, RunStarted
from engine.driver.servertiming import ServerTimings, parse
from engine.driver.shapes import Shape, arrivals, shape_of
from engine.driver.templates import RenderContext, RequestBuilder, load_data, mix_cycle
from engine.driver.validity import GeneratorStats, assess
from engine.hotpath.native import OUTCOME_NAMES
from engine.result import RunInterval
from engine.spec.model import Check, DataFile, LoadProfile, Request, RunSettings, Stage


def profile(**kw: object) -> LoadProfile:
    return LoadProfile("p", "baseline", RunSettings(), **kw)  # type: ignore[arg-type]


# -- shapes ------------------------------------------------------------------------------
def test_constant_rate_with_ramp() -> None:
    s = shape_of(profile(rate=100.0, ramp_up_s=10.0, duration_s=20.0))
    assert s.model == "open" and s.duration_s == 30.0
    assert s.level(5.0) == pytest.approx(50.0)
    assert s.level(15.0) == 100.0
    assert s.planned() == pytest.approx(500 + 2000)


def test_stages_pick_open_or_closed() -> None:
    open_ = shape_of(profile(stages=(Stage(10, rate=100), Stage(10, rate=0))))
    closed = shape_of(profile(stages=(Stage(5, vus=10), Stage(5, vus=10))))
    assert open_.model == "open" and open_.level(10.0) == 100.0 and open_.level(15) == 50.0
    assert closed.model == "closed" and closed.level(2.5) == 5.0


def test_priority_stages_over_rate_and_vus_closed() -> None:
    s = shape_of(profile(stages=(Stage(1, rate=5),), rate=100.0, duration_s=9.0))
    assert s.duration_s == 1.0
    assert shape_of(profile(vus=7, duration_s=3.0)).model == "closed"


def test_spike_jumps_instantly() -> None:
    s = shape_of(profile(base_rate=10.0, peak_rate=100.0, before_s=5.0, spike_s=2.0,
                         after_s=5.0))
    assert s.level(4.999) == 10.0 and s.level(5.0) == 100.0 and s.level(6.9) == 100.0
    assert s.level(7.0) == 10.0 and s.duration_s == 12.0
    assert s.planned() == pytest.approx(10 * 10 + 100 * 2)


def test_rate_csv_replays_with_interpolation(tmp_path: Path) -> None:
    f = tmp_path / "curve.csv"
    f.write_text("t_s,rate\n0,10\n10,30\n20,30\n")
    s = shape_of(profile(rate_csv=str(f)))
    assert s.level(5.0) == pytest.approx(20.0) and s.duration_s == 20.0
    f.write_text("0,10\n5,x\n")
    with pytest.raises(ValueError, match=r"curve.csv:2: expected t_s,rate"):
        shape_of(profile(rate_csv=str(f)))


def test_profile_without_load_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expected stages, rate_csv"):
        shape_of(profile(duration_s=10.0))


def test_arrivals_are_uniform_and_follow_ramps() -> None:
    flat = list(arrivals(Shape("open", ((0.0, 4.0), (1.0, 4.0)))))
    assert flat == pytest.approx([0.0, 0.25, 0.5, 0.75])
    ramp = list(arrivals(Shape("open", ((0.0, 0.0), (10.0, 20.0)))))
    assert len(ramp) == 100  # integral of the ramp
    gaps = [b - a for a, b in itertools.pairwise(ramp)]
    assert gaps[5] > gaps[50] > gaps[95]  # denser as the rate rises
    halves = [list(arrivals(Shape("open", ((0.0, 2.0), (1.0, 2.0))), p)) for p in (0.0, 0.5)]
    assert sorted(halves[0] + halves[1]) == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_area_over_a_window() -> None:
    s = Shape("open", ((0.0, 0.0), (10.0, 100.0)))
    assert s.area(0, 10) == pytest.approx(500.0)
    assert s.area(5, 6) == pytest.approx(55.0)


# -- templates ---------------------------------------------------------------------------
def test_static_request_is_built_once() -> None:
    b = RequestBuilder(Request("GET", "/x", headers={"A": "1"}), "h:1", {}, "j")
    ctx = RenderContext({})
    first = b.build(ctx)
    assert b.static and first is b.build(ctx)
    assert first == b"GET /x HTTP/1.1\r\nHost: h:1\r\nUser-Agent: perfopt-engine\r\nA: 1\r\n\r\n"


def test_placeholders_share_seq_and_uuid_within_a_request() -> None:
    b = RequestBuilder(Request("POST", "/u/{seq}/{uuid}", headers={"X": "{uuid}"},
                               body="s={seq}&r={rand:1-3}"), "h", {}, "j")
    ctx = RenderContext({}, seq_start=1, seq_step=2)
    reqs = [b.build(ctx).decode() for _ in range(3)]
    assert [re.search(r"/u/(\d+)/", r).group(1) for r in reqs] == ["1", "3", "5"]  # type: ignore[union-attr]
    path_uuid = re.search(r"/u/\d+/([0-9a-f-]{36})", reqs[0]).group(1)  # type: ignore[union-attr]
    assert f"X: {path_uuid}\r\n" in reqs[0]
    assert "Content-Length: " in reqs[0] and re.search(r"r=[123]$", reqs[0])


def test_csv_round_robin_and_random(tmp_path: Path) -> None:
    f = tmp_path / "users.csv"
    f.write_text("email,name\na@x.io,A\nb@x.io,B\nc@x.io,C\n")
    tables = load_data([DataFile("users", str(f)), DataFile("rnd", str(f), "random")])
    b = RequestBuilder(Request("GET", "/?e={csv:users.email}&n={csv:users.name}"), "h",
                       tables, "j")
    ctx = RenderContext(tables)
    got = [b.build(ctx).split(b" ")[1] for _ in range(4)]
    assert got == [b"/?e=a@x.io&n=A", b"/?e=b@x.io&n=B", b"/?e=c@x.io&n=C", b"/?e=a@x.io&n=A"]
    r = RequestBuilder(Request("GET", "/{csv:rnd.name}"), "h", tables, "j")
    assert {r.build(ctx).split(b" ")[1] for _ in range(60)} == {b"/A", b"/B", b"/C"}


def test_template_errors_name_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="names data file 'nope'"):
        RequestBuilder(Request("GET", "/{csv:nope.x}"), "h", {}, "journey 'a' step 0")
    f = tmp_path / "d.csv"
    f.write_text("a\n1\n")
    tables = load_data([DataFile("d", str(f))])
    with pytest.raises(ValueError, match="has no column 'b'"):
        RequestBuilder(Request("GET", "/{csv:d.b}"), "h", tables, "j")
    with pytest.raises(ValueError, match="cannot read"):
        load_data([DataFile("x", str(tmp_path / "missing.csv"))])
    with pytest.raises(ValueError, match="A <= B"):
        RequestBuilder(Request("GET", "/{rand:9-1}"), "h", {}, "j")


def test_json_braces_are_literal() -> None:
    b = RequestBuilder(Request("POST", "/", json='{"a": {"b": "{seq}"}}'), "h", {}, "j")
    assert b.build(RenderContext({})).endswith(b'{"a": {"b": "0"}}')


def test_mix_cycle_is_exactly_proportional_and_spread() -> None:
    cycle = mix_cycle([3, 1])
    assert cycle.count(0) * 1 == cycle.count(1) * 3
    assert cycle[:4].count(1) == 1  # spread out, not 3 a's then 1 b in blocks of hundreds
    assert 2 not in mix_cycle([1, 1, 0])
    with pytest.raises(ValueError, match="weight > 0"):
        mix_cycle([0, 0])


# -- Server-Timing -----------------------------------------------------------------------
def test_server_timing_parse() -> None:
    got = parse('db;dur=53.2, cache;desc="Cache, read";dur=2.1, miss, x;dur="7", bad name;dur=1')
    assert got == [("db", 53.2), ("cache", 2.1), ("x", 7.0)]
    st = ServerTimings(2)
    st(1, b"db;dur=1.5,db;dur=2.5")
    assert st.hists[1]["db"].total_count == 2 and st.hists[0] == {}


# -- validity ----------------------------------------------------------------------------
def stats(answered: int = 1000, **kw: object) -> GeneratorStats:
    """A 10 s open-model run at 100/s where ``answered`` requests got a response."""
    outcomes = {"ok": answered, **dict(kw.pop("outcomes", {}))}  # type: ignore[call-overload]
    base: dict[str, object] = dict(target_rate=100.0, load_s=10.0, outcomes=outcomes,
                                   dispatched=1000, due=1000.0, connections=8, lag_p99_s=0.0002,
                                   lag_max_s=0.001, late=0, worker_cpu_pct=[10.0],
                                   rss_growth_bytes=0)
    base.update(kw)
    return GeneratorStats(**base)  # type: ignore[arg-type]


def test_a_run_that_kept_its_schedule_and_was_answered_is_valid_without_notes() -> None:
    v = assess(stats(), 0.02)
    assert v.valid and v.reasons == () and v.notes == ()
    assert v.achieved_rate == 100.0 and v.sent_rate == 100.0
    assert assess(stats(answered=985), 0.02).notes == ()  # inside the 2% tolerance


def _iv(start_s: float, duration_s: float, ok: int, s5xx: int = 0,
        timeout: int = 0) -> RunInterval:
    row = [0] * len(OUTCOME_NAMES)
    for name, n in (("ok", ok), ("status_5xx", s5xx), ("timeout", timeout)):
        row[OUTCOME_NAMES.index(name)] = n
    return RunInterval(0, start_s, duration_s, None, ("",), (tuple(row),))


def test_in_load_counts_answers_to_the_load_not_the_backlog() -> None:
    """At most the answers the generator had when the load stopped plus the requests then in
    flight count; a 5xx is answered but not OK; timeouts are neither."""
    totals = [{"ok": 100, "status_5xx": 10, "timeout": 5}]
    assert in_load(totals, [0], answerable=130) == LoadCounts(110.0, 100.0)  # kept up
    got = in_load(totals, [0], answerable=88)  # 22 answered from the backlog
    assert got == LoadCounts(88.0, pytest.approx(80.0))
    assert in_load(totals, [0], answerable=None) == LoadCounts(110.0, 100.0)  # an older run
    # the achieved rate feeds assess through answered_in_load
    v = assess(stats(answered=110, answered_in_load=got.answered, load_s=2.0, due=200.0), 0.02)
    assert v.achieved_rate == pytest.approx(44.0)


def test_in_load_takes_the_backlog_from_the_journeys_that_answered_after_the_load() -> None:
    """Journey a answered 30 after the 1 s load, b 10: a backlog of 20 answers is taken 15
    from a and 5 from b, so the journeys' throughputs add up to the run's."""
    ok = OUTCOME_NAMES.index("ok")

    def iv(start: float, duration: float, a: int, b: int) -> RunInterval:
        ra, rb = [0] * len(OUTCOME_NAMES), [0] * len(OUTCOME_NAMES)
        ra[ok], rb[ok] = a, b
        return RunInterval(0, start, duration, None, ("", ""), (tuple(ra), tuple(rb)))

    ivs = (iv(0.0, 1.0, 50, 10), iv(1.0, 1.0, 30, 10))
    totals = [{"ok": 80}, {"ok": 20}]
    a, b, both = (in_load(totals, cols, 80, ivs, 1.0) for cols in ([0], [1], [0, 1]))
    assert (a.ok, b.ok) == (65.0, 15.0) and both.ok == a.ok + b.ok == 80
    assert in_load(totals, [0], 80).ok == 64.0  # without intervals: by all their answers


def test_in_load_never_takes_more_from_a_journey_than_it_answered() -> None:
    """A backlog larger than the intervals place after the load (workers stop apart; the
    interval across the end is split evenly) is taken by all answers, never below zero."""
    ok = OUTCOME_NAMES.index("ok")

    def iv(start: float, duration: float, a: int, b: int) -> RunInterval:
        ra, rb = [0] * len(OUTCOME_NAMES), [0] * len(OUTCOME_NAMES)
        ra[ok], rb[ok] = a, b
        return RunInterval(0, start, duration, None, ("", ""), (tuple(ra), tuple(rb)))

    ivs = (iv(0.0, 1.0, 100, 40), iv(1.0, 1.0, 0, 10))  # 10 after the load, 60 to take
    totals = [{"ok": 100}, {"ok": 50}]
    a, b = (in_load(totals, [c], 90, ivs, 1.0) for c in (0, 1))
    assert a.ok >= 0 and b.ok >= 0 and a.ok + b.ok == pytest.approx(90)
    assert (a.ok, b.ok) == (pytest.approx(60.0), pytest.approx(30.0))


def test_an_overloaded_target_is_valid_with_a_note_naming_the_cause() -> None:
    v = assess(stats(answered=600, outcomes={"dropped": 300, "timeout": 100}), 0.02)
    assert v.valid and v.reasons == ()
    assert v.achieved_rate == 60.0  # answered per second, not sent
    assert v.sent_rate == 70.0 and v.dropped == 300
    note = v.notes[0]
    assert note.startswith("target did not keep up: answered 60.0/s of 100.0/s offered")
    assert "300 never sent (all 8 connections stayed busy" in note and "100 timed out" in note


def test_an_unanswering_target_is_named_not_reported_as_a_rate_shortfall() -> None:
    v = assess(stats(answered=0, outcomes={"timeout": 1000}), 0.02)
    assert v.valid and "1,000 timed out" in v.notes[0]


def test_generator_causes_make_the_run_invalid() -> None:
    hot = assess(stats(worker_cpu_pct=[50.0, 97.0]), 0.02)
    assert not hot.valid and "saturated" in hot.reasons[0]
    assert hot.generator_cpu_pct == pytest.approx(73.5)
    behind = assess(stats(dispatched=800), 0.02)
    assert not behind.valid and "fell behind its schedule: dispatched 800 of 1,000" in \
        behind.reasons[0]
    slipped = assess(stats(lag_p99_s=0.2, late=50), 0.02)
    assert not slipped.valid
    assert "5.0% of dispatches (50) were more than 50 ms late (lag p99 200.0 ms)" in \
        slipped.reasons[0]
    # one stall of a shared machine (a few late dispatches) is noise, not a slipped schedule
    assert assess(stats(lag_p99_s=0.13, late=2), 0.02).valid
    assert assess(stats(lag_p99_s=0.2, late=10, dispatched=100_000, due=100_000.0,
                        answered=100_000, load_s=1000.0), 0.02).valid


def test_a_shortfall_beside_a_busy_generator_is_the_generators() -> None:
    busy = assess(stats(answered=500, outcomes={"dropped": 500}, worker_cpu_pct=[80.0]), 0.02)
    assert not busy.valid and busy.reasons[0].startswith("load generator busy (80%")
    assert busy.notes == ()  # not charged to the target
    assert assess(stats(worker_cpu_pct=[80.0]), 0.02).valid  # busy but answered: fine


def test_nothing_sent_and_unreachable_targets_are_invalid() -> None:
    none = assess(stats(answered=0, target_rate=None, dispatched=0, due=0.0), 0.02)
    assert none.reasons == ("nothing was sent",)
    down = assess(stats(answered=0, outcomes={"connect": 1000}), 0.02)
    assert not down.valid and down.reasons[0].startswith("target unreachable")
    closed = assess(stats(answered=50, target_rate=None, due=0.0), 0.02)
    assert closed.valid and closed.target_rate is None and closed.notes == ()


# -- progress ----------------------------------------------------------------------------
def events() -> list[object]:
    iv = IntervalProgress(0, 1.0, 9.0, 100.0, 99.0, 0.010, 0.020, 0.030, 99, 1)
    return [RunStarted("base", "open", "http://127.0.0.1:1", 10.0, 100.0, 1), iv,
            RunFinished("base", 99, 1, 10.0, False, True, ())]


def test_plain_printer_writes_lines_and_quiet_writes_nothing() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=False, every_s=0.0)
    for e in events():
        printer(e)  # type: ignore[arg-type]
    text = out.getvalue()
    assert "open model at 100/s" in text and "99/s of 100/s" in text
    assert "p99 30.0ms" in text and "99 requests, 1 errors" in text
    quiet = io.StringIO()
    for e in events():
        ProgressPrinter(quiet, quiet=True)(e)  # type: ignore[arg-type]
    assert quiet.getvalue() == ""


def test_live_printer_on_a_tty_rewrites_one_line() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=True)
    for e in events():
        printer(e)  # type: ignore[arg-type]
    text = out.getvalue()
    assert "done: 99 requests" in text
    # the live line is rewritten in place and erased before the summary line
    live = text.index("\r")
    assert "99/s of 100/s" in text[live:text.index("\n", live)]
    assert "\r\x1b[Krun " in text


def test_redirect_path_same_origin_only() -> None:
    from engine.driver.redirects import redirect_path

    assert redirect_path(b"/a?b=1", b"h:1") == b"/a?b=1"
    assert redirect_path(b"HTTP://H:1/x", b"h:1") == b"/x"
    assert redirect_path(b"https://h:1", b"h:1") == b"/"
    assert redirect_path(b"http://other/x", b"h:1") is None
    assert redirect_path(b"//h:1/x", b"h:1") is None  # scheme-relative: treated as foreign


def test_header_probe_stops_only_for_framed_keepalive_answers() -> None:
    st = ServerTimings(1, probe=2)
    assert st.want_headers
    st.observe(False)
    st.observe(False)
    assert not st.want_headers  # two plain framed answers: headers no longer needed
    sticky = ServerTimings(1, probe=2)
    sticky.observe(True)  # Server-Timing (or an unframed / Connection: close answer)
    for _ in range(5):
        sticky.observe(False)
    assert sticky.want_headers


def test_single_request_fast_paths_only_for_one_static_step() -> None:
    from engine.driver.catalog import Catalog, compile_catalog
    from engine.spec.model import Journey

    def cat(*steps: Request, think_s: float = 0.0) -> Catalog:
        return compile_catalog([Journey("j", 1.0, steps)], {}, "h:1",
                               iteration_think_s=think_s)

    plain = cat(Request("HEAD", "/"))
    one = plain.single()
    assert one is not None and isinstance(one[0], bytes) and one[0].startswith(b"HEAD / ")
    assert one[2] is True
    assert one[1][200] == 0 and one[1][500] != 0  # the step's status map
    assert plain.repeatable() == one[0]
    paced = cat(Request("GET", "/"), think_s=0.5)
    assert paced.single() is not None and paced.repeatable() is None
    assert one[3] == b"h:1" and one[4] == 10  # redirects followed by default (10 hops)
    assert cat(Request("GET", "/", redirects=0)).single()[3:] == (None, 0)  # type: ignore[index]
    for other in (cat(Request("GET", "/{seq}")), cat(Request("GET", "/a"), Request("GET", "/b")),
                  cat(Request("GET", "/", checks=(Check("s", "status", "in", codes=(200,)),)))):
        assert other.single() is None and other.repeatable() is None


def test_csv_short_row_gives_an_empty_cell(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("a,b\n1,2\n3\n")
    tables = load_data([DataFile("d", str(f))])
    b = RequestBuilder(Request("GET", "/{csv:d.a}-{csv:d.b}"), "h", tables, "j")
    ctx = RenderContext(tables)
    assert [b.build(ctx).split(b" ")[1] for _ in range(2)] == [b"/1-2", b"/3-"]


def test_a_shaped_run_names_its_peak_not_only_its_mean() -> None:
    """Issue #14: a spike's live line said 'open model at 84/s', the run's mean, not its shape."""
    spike = RunStarted("spike", "open", "http://127.0.0.1:1", 15.0, 84.0, 1, peak_rate=500.0)
    flat = RunStarted("base", "open", "http://127.0.0.1:1", 10.0, 100.0, 1, peak_rate=100.0)
    closed = RunStarted("vu", "closed", "http://127.0.0.1:1", 10.0, None, 1)
    assert spike.rate_text() == " at 84/s mean, peaking at 500/s"
    assert flat.rate_text() == " at 100/s"
    assert closed.rate_text() == ""
    out = io.StringIO()
    printer = ProgressPrinter(out, quiet=False)
    printer(spike)
    assert "open model at 84/s mean, peaking at 500/s for 15s" in out.getvalue()


# -- housekeeping's wake-ups -------------------------------------------------------------

@dataclass(eq=False)
class _InFlight:
    """A connection with a request in flight, sent at ``sent`` (ns)."""

    sent: int
    busy: bool = True


def _run_at(start: int, model: str = "open", interval_s: float = 1.0,
            busy_sent: tuple[int, ...] = (), timeout_s: float = 5.0) -> Any:
    """What ``runtime._next_wait`` reads of a run: its plan, scheduler and tracker."""
    from engine.driver.pool import Tracker

    tracker = Tracker(timeout_s)
    tracker.conns = {_InFlight(s) for s in busy_sent}  # type: ignore[misc]
    plan = SimpleNamespace(start_ns=start, hard_stop_ns=start + 60 * S,
                           settings=RunSettings(interval_s=interval_s),
                           shape_end_ns=start + 10 * S)  # a 10 s shape
    return SimpleNamespace(plan=plan, tracker=tracker, every_s=0.02,
                           sched=object() if model == "open" else None)


S = 1_000_000_000


def test_open_housekeeping_wakes_when_something_is_due_not_on_a_fixed_tick() -> None:
    from engine.driver.runtime import (
        _DUE_SLACK_NS,
        OPEN_HOUSEKEEPING_S,
        OPEN_STOP_CHECK_S,
        _next_wait,
    )

    slack = _DUE_SLACK_NS / S
    start = 1000 * S
    poll = OPEN_STOP_CHECK_S

    def wait(run: Any, at_s: float, poll_s: float = poll) -> float:
        return float(_next_wait(run, start + int(at_s * S), poll_s))

    # the next interval's end (a second's boundary), just after it
    assert wait(_run_at(start), 0.7) == pytest.approx(0.3 + slack)
    # the oldest request's timeout due sooner: woken for it (sent at +0.1 s, timeout 0.8 s)
    run = _run_at(start, busy_sent=(start + 2 * S // 10, start + S // 10), timeout_s=0.8)
    assert wait(run, 0.7) == pytest.approx(0.2 + slack)
    # nothing in flight: a request sent right after this times out a timeout from now, and
    # must be seen then, not at the next poll (0.3 s timeout, 10 s intervals)
    assert wait(_run_at(start, interval_s=10.0, timeout_s=0.3), 1.0) == pytest.approx(0.3 + slack)
    # nothing due for long (10 s intervals): still a poll, as often as the hooks ask
    assert wait(_run_at(start, interval_s=10.0), 1.0) == poll
    assert wait(_run_at(start, interval_s=10.0), 1.0, poll_s=0.1) == 0.1
    # the schedule's end (10 s) comes before the interval's when intervals do not divide it
    assert wait(_run_at(start, interval_s=3.0), 9.8) == pytest.approx(0.2 + slack)
    # a run of timeouts (a target that stopped answering): swept every 0.1 s at most, not
    # every few ms as each deadline comes
    burst = _run_at(start, busy_sent=(start + int(0.201 * S),), timeout_s=0.8)
    assert wait(burst, 1.0) == OPEN_HOUSEKEEPING_S
    # past the hard stop (a late wake-up): at once, not a negative sleep
    late = _run_at(start)
    late.plan.hard_stop_ns = start + S // 2
    assert wait(late, 0.6) == 0.001
    # the closed model's users adjust on a fixed tick
    assert wait(_run_at(start, model="closed"), 0.7) == 0.02
