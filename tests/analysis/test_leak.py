"""Leak verdicts projected to a horizon: the arithmetic by hand, and the undecided span."""

from __future__ import annotations

import pytest

from engine.analysis.leak import (
    HORIZON_S,
    MIN_SPAN_SHARE,
    headroom,
    human_duration,
    leak_verdict,
    needed_span,
)

MiB = 2**20
TS = [10.0 * i for i in range(100)]  # 990 s: over the 1% of 24 h a verdict needs


def _line(slope: float, start: float = 100 * MiB) -> list[float]:
    return [start + slope * t for t in TS]


def test_horizon_arithmetic_by_hand() -> None:
    # an exact line: the interval is the slope itself; headroom max(4 MiB, 5% x 100 MiB) = 5 MiB
    assert headroom("rss_bytes", 100 * MiB) == 5 * MiB
    leak = leak_verdict("rss_bytes", TS, _line(100.0))  # 100 B/s x 86400 s = 8.24 MiB > 5
    assert leak.verdict == "LEAK" and leak.projected == pytest.approx((8_640_000.0,) * 3)
    assert leak.material == 5 * MiB and leak.horizon_s == HORIZON_S
    assert "slope +0.343 MiB/h" in leak.message and "projected +8.24 MiB in 24 h" in leak.message
    assert leak_verdict("rss_bytes", TS, _line(50.0)).verdict == "NO_LEAK"  # 4.12 MiB < 5
    hour = leak_verdict("rss_bytes", TS, _line(100.0), horizon_s=3600.0)  # 0.34 MiB < 5
    assert hour.verdict == "NO_LEAK"


def test_seconds_of_samples_decide_nothing_about_a_day() -> None:
    # a steep, clean line over 12 s: a warm-up looks exactly like this
    short = [0.1 * i for i in range(120)]
    fit = leak_verdict("rss_bytes", short, [100 * MiB + 70_000.0 * t for t in short])
    assert fit.verdict == "INCONCLUSIVE" and fit.needed_span_s == MIN_SPAN_SHARE * HORIZON_S
    assert "cannot tell a warm-up from a leak over 24 h: a verdict needs at least 14.4 min" \
        in fit.message
    # the same slope over the same 12 s decides at a horizon 12 s is 1% of
    assert leak_verdict("rss_bytes", short, [100 * MiB + 70_000.0 * t for t in short],
                        horizon_s=1190.0).verdict == "LEAK"


def test_a_memory_limit_is_the_headroom() -> None:
    assert headroom("rss_bytes", 100 * MiB, memory_limit=612 * MiB) == 512 * MiB
    assert headroom("fds", 100.0, memory_limit=612 * MiB) == 10.0  # limits are for memory
    # 100 B/s is 8.24 MiB a day: under a 512 MiB budget, and over a 104 MiB limit's 4 MiB
    assert leak_verdict("rss_bytes", TS, _line(100.0), memory_limit=612 * MiB).verdict == "NO_LEAK"
    assert leak_verdict("rss_bytes", TS, _line(100.0), memory_limit=104 * MiB).verdict == "LEAK"


def test_needed_span_follows_span_to_the_minus_one_and_a_half() -> None:
    # half-width 1, slope 1, threshold 0.5 per s: 100 s x (1 / 0.5)^(2/3) = 158.7 s
    assert needed_span(100.0, (1.0, 0.0, 2.0), 0.5 * HORIZON_S, HORIZON_S) == pytest.approx(
        100.0 * 2 ** (2 / 3))
    assert needed_span(100.0, (2.0, 1.0, 3.0), 0.5 * HORIZON_S, HORIZON_S) is None  # decided
    assert needed_span(100.0, (0.5, 0.0, 1.0), 0.5 * HORIZON_S, HORIZON_S) is None  # on it


def test_human_duration() -> None:
    assert [human_duration(s) for s in (15.0, 900.0, 4 * 3600.0, 3 * 86400.0)] == [
        "15 s", "15 min", "4 h", "3 d"]


def test_short_evidence_against_the_flow_guidance() -> None:
    from engine.analysis.evidence import short_evidence

    assert short_evidence("soak", 15.0) == (
        "soak ran 15 s; the flow's guidance is 4-24 h: the leak verdict covers 15 s of evidence")
    assert short_evidence("soak", 4 * 3600.0) == ""
    assert "per scenario" in short_evidence("capacity", 3.0)
    assert short_evidence("baseline", 20 * 60.0) == "" and short_evidence("stress", 3.0) == ""


def test_the_message_says_what_the_room_is() -> None:
    """'headroom 4 MiB' beside a machine with GiBs free read as free memory: without a memory
    limit it is the smallest growth that counts as a leak, and says so."""
    free = leak_verdict("rss_bytes", TS, _line(100.0))
    assert "; a leak grows more than 5 MiB) from" in free.message and "headroom" not in free.message
    capped = leak_verdict("rss_bytes", TS, _line(100.0), memory_limit=612 * MiB)
    assert "; 512 MiB left under the memory limit) from" in capped.message
