"""The embedded demo service: endpoints, Server-Timing, robustness, before/after."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from engine.demo import cli
from engine.demo.algo import recommend_fast, recommend_slow
from engine.demo.handlers import PATTERNS
from engine.demo.server import _pause
from engine.demo.service import FixError, parse_fixes
from engine.target.managed import ManagedTarget, StartConfig
from tests.support.demo import (
    PROBES,
    Reply,
    demo_process,
    free_port,
    parse_server_timing,
    raw_exchange,
    running_demo,
)
from tests.support.demo import request as send


@pytest.fixture(scope="module")
def slow() -> Iterator[str]:
    with running_demo(fix=()) as base:
        yield base


@pytest.fixture(scope="module")
def fast() -> Iterator[str]:
    with running_demo(fix=("all",)) as base:
        yield base


@pytest.fixture(params=["slow", "fast"])
def base(request: pytest.FixtureRequest) -> str:
    """Each endpoint test runs against both variants."""
    return str(request.getfixturevalue(request.param))


def get(base: str, path: str) -> Reply:
    return send(base, "GET", path)


def post_json(base: str, path: str, doc: object) -> Reply:
    return send(base, "POST", path, json.dumps(doc).encode(),
                   {"Content-Type": "application/json"})


# --- every endpoint, both variants ---------------------------------------------

def test_health(base: str) -> None:
    assert get(base, "/health").status == 200
    assert get(base, "/health").body == {"status": "ok"}


def test_lookup_by_email(base: str) -> None:
    reply = get(base, "/users?email=u4242@demo.test")
    assert reply.status == 200
    user = {"id": 4242, "email": "u4242@demo.test", "name": "User 4242",
            "created": 1700000000 + 4242 * 37}
    assert reply.body == {"count": 1, "users": [user]}
    assert get(base, "/users?email=nobody@demo.test").body == {"count": 0, "users": []}
    assert get(base, "/users").status == 400


def test_user_orders(base: str) -> None:
    reply = get(base, "/users/7/orders")
    assert reply.status == 200
    assert isinstance(reply.body, dict)
    orders = reply.body["orders"]
    assert reply.body["count"] == len(orders) == 80
    assert all(len(o["items"]) == 3 for o in orders)
    assert [o["id"] for o in orders] == sorted(o["id"] for o in orders)
    assert set(orders[0]["items"][0]) == {"product_id", "name", "price_cents", "qty"}
    assert get(base, "/users/99999/orders").body == {"user_id": 99999, "orders": [], "count": 0}
    assert get(base, "/users/999999999/orders").status == 404


def test_orders_identical_in_both_variants(slow: str, fast: str) -> None:
    assert get(slow, "/users/11/orders").body == get(fast, "/users/11/orders").body


def test_stats(base: str) -> None:
    reply = get(base, "/stats")
    assert reply.status == 200
    assert isinstance(reply.body, dict)
    assert len(reply.body["top_products"]) == 10
    assert sum(reply.body["orders_by_status"].values()) == 20_000


def test_stats_cache_marks_hits(fast: str, slow: str) -> None:
    get(fast, "/stats")
    hit = get(fast, "/stats")
    assert hit.headers.get("x-cache") == "hit"
    assert "cache" in hit.timing()
    assert "cache" not in get(slow, "/stats").timing()
    assert hit.body == get(slow, "/stats").body


def test_create_user(base: str) -> None:
    reply = post_json(base, "/users", {"name": "Ada", "email": "ada@demo.test"})
    assert reply.status == 201
    assert isinstance(reply.body, dict)
    assert reply.body["welcome_email"] in ("sent", "queued")
    found = get(base, "/users?email=ada@demo.test").body
    assert isinstance(found, dict) and found["count"] >= 1


@pytest.mark.parametrize("doc", [
    b"not json", b"[]", b'{"name": "x"}', b'{"name": "", "email": "a@b"}',
    b'{"name": "x", "email": "no-at"}', b"", b"\xff\xfe",
])
def test_create_user_rejects_bad_bodies(slow: str, doc: bytes) -> None:
    reply = send(slow, "POST", "/users", doc)
    assert reply.status == 400
    assert isinstance(reply.body, dict) and "error" in reply.body


def test_dashboard(base: str) -> None:
    reply = get(base, "/dashboard")
    assert reply.status == 200
    assert isinstance(reply.body, dict)
    assert set(reply.body["panels"]) == {"inventory", "pricing", "reviews"}
    assert reply.timing()["ext"] >= 15.0  # the slowest takes 20 ms; timers may fire ~1 ms early


def test_recommendations(base: str) -> None:
    reply = get(base, "/recommendations?n=300")
    assert reply.status == 200
    expected = recommend_fast(300)
    assert reply.body == {"n": 300, "count": len(expected), "sum": sum(expected),
                          "items": expected[:100]}
    for bad in ("0", "abc", "5001"):
        assert get(base, f"/recommendations?n={bad}").status == 400


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 999, 2000])
def test_recommend_variants_agree(n: int) -> None:
    fast = recommend_fast(n)
    assert recommend_slow(n) == fast
    assert len(set(fast)) == len(fast)


def test_user_by_id(base: str) -> None:
    assert get(base, "/users/77").body == {
        "id": 77, "email": "u77@demo.test", "name": "User 77", "created": 1700000000 + 77 * 37}
    assert get(base, "/users/999999999").status == 404
    assert get(base, "/users/abc").status == 400
    assert get(base, "/users/0").status == 400


def test_index_lists_fixes(fast: str, slow: str) -> None:
    assert get(fast, "/").body == {"service": "perfopt demo", "fixed": sorted(PATTERNS),
                                   "patterns": PATTERNS}
    reply = get(slow, "/")
    assert isinstance(reply.body, dict) and reply.body["fixed"] == []


def test_parse_fixes() -> None:
    assert parse_fixes("all") == frozenset(PATTERNS)
    assert parse_fixes(" index, join ,") == {"index", "join"}
    assert parse_fixes("none") == frozenset()
    with pytest.raises(FixError, match="bogus"):
        parse_fixes("index,bogus")


# --- Server-Timing --------------------------------------------------------------

@pytest.mark.parametrize("path", ["/health", "/users?email=u1@demo.test", "/users/3",
                                  "/users/3/orders", "/stats", "/nope"])
def test_server_timing_present_and_parseable(base: str, path: str) -> None:
    reply = get(base, path)
    timing = reply.timing()
    assert {"db", "app"} <= set(timing)
    assert all(v >= 0 for v in timing.values())
    assert timing["db"] <= timing["app"]
    for entry in reply.headers["server-timing"].split(", "):
        assert entry.split("=")[1].count(".") == 1 and len(entry.split(".")[-1]) == 3


def test_parse_server_timing_rejects_missing_dur() -> None:
    assert parse_server_timing("db;dur=1.5, app;desc=x;dur=2") == {"db": 1.5, "app": 2.0}
    with pytest.raises(ValueError):
        parse_server_timing("db")


# --- robustness -----------------------------------------------------------------

@pytest.mark.parametrize(("payload", "status"), [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
    (b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 1100000\r\n\r\n" + b"a" * 1_100_000,
     b"413"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", b"400"),
    (b"\x00\xff\x10garbage", b"400"),
], ids=["garbage", "bad-length", "bad-header", "huge-head", "huge-body", "upgrade", "binary"])
def test_malformed_requests_get_4xx_and_server_survives(
        slow: str, payload: bytes, status: bytes) -> None:
    answer = raw_exchange(slow, payload)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert b"Connection: close" in answer
    assert get(slow, "/health").status == 200


def test_half_request_then_disconnect_is_harmless(slow: str) -> None:
    raw_exchange(slow, b"GET /users/1 HTTP/1.1\r\nHost: x\r\nContent-Le", timeout=0.3)
    assert get(slow, "/health").status == 200


def test_keep_alive_and_pipelining_answer_in_order(slow: str) -> None:
    two = (b"GET /users/5 HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = raw_exchange(slow, two)
    first, second = answer.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200") and b"u5@demo.test" in first
    assert second.startswith(b"404")


def test_peer_that_never_reads_does_not_stall_others(slow: str) -> None:
    host, port = slow.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=1.0) as stuck:
        with contextlib.suppress(TimeoutError):
            stuck.sendall(b"GET /users/1/orders HTTP/1.1\r\nHost: x\r\n\r\n" * 20_000)
        assert get(slow, "/health").status == 200


def test_chunked_request_body_is_accepted(slow: str) -> None:
    body = b'{"name": "Chunky", "email": "chunky@demo.test"}'
    head = (b"POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n")
    half = len(body) // 2
    chunks = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in (body[:half], body[half:]))
    payload = head + chunks + b"0\r\n\r\n"
    assert raw_exchange(slow, payload).startswith(b"HTTP/1.1 201")


def test_http10_closes_after_response(slow: str) -> None:
    answer = raw_exchange(slow, b"GET /health HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"status":"ok"}')


def test_wrong_method_is_405(slow: str) -> None:
    reply = send(slow, "DELETE", "/stats")
    assert reply.status == 405
    assert reply.timing()["app"] >= 0


# --- planted faults -------------------------------------------------------------

@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[str, int]]:
    extra = ("--users", "5000", "--slowdown-pct", "100", "--leak-kb", "512",
             "--max-inflight", "2")
    with demo_process(extra=extra) as (base, target):
        assert target.pid is not None
        yield base, target.pid


def test_max_inflight_answers_503_beyond_limit(faulty: tuple[str, int]) -> None:
    base, _ = faulty
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: get(base, "/dashboard").status, range(16)))
    assert set(statuses) == {200, 503}
    assert get(base, "/health").status == 200


def test_slowdown_delays_by_share_of_handling_time(faulty: tuple[str, int]) -> None:
    timing = get(faulty[0], "/stats").timing()
    assert timing["app"] >= 1.5 * timing["db"]  # +100% of handling, timers may fire early


def test_a_short_planted_delay_waits_asleep_not_spinning() -> None:
    """A delay under 2 ms lasts at least its length, and the demo sleeps through most of it:
    a spun delay kept the vCPU warm and planted a smaller slowdown than it said."""
    delay, n = 0.0015, 20
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        _pause(delay)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert wall >= n * delay
    assert cpu < 0.5 * n * delay  # spinning the whole delay costs about n * delay


def test_leak_grows_memory(faulty: tuple[str, int]) -> None:
    base, pid = faulty
    before = psutil.Process(pid).memory_info().rss
    for _ in range(60):
        get(base, "/health")
    grown = psutil.Process(pid).memory_info().rss - before
    assert grown >= 60 * 512 * 1024 * 0.8


# --- the fix makes it faster (behaviour check, generous margin) --------------------




def _median_app_ms(slow: str, fast: str, method: str, path: str,
                   n: int = 40) -> tuple[float, float]:
    """Median server-side handling time (Server-Timing app) of n requests to each demo,
    alternating between them: a busy moment of this shared machine lands on both sides
    alike (30 to one, then 30 to the other, once read the N+1 fix 1.17x faster where it is
    about 1.4x)."""
    durations: dict[str, list[float]] = {slow: [], fast: []}
    for i in range(n):
        body = json.dumps({"name": f"p{i}", "email": f"p{i}@demo.test"}).encode()
        for base in (slow, fast):
            reply = send(base, method, path, body if method == "POST" else None)
            assert reply.status in (200, 201)
            durations[base].append(reply.timing()["app"])
    return statistics.median(durations[slow]), statistics.median(durations[fast])


# Server-side speed-up each fix must at least show. Measured here: 24-235x for most; the
# N+1 -> JOIN fix ~2x (1.9x once under load), so it gets a margin that holds on a busy machine.
MIN_SPEEDUP = {"join": 1.3}


@pytest.mark.parametrize("pattern", sorted(PROBES))
def test_fix_is_faster(slow: str, fast: str, pattern: str) -> None:
    method, path = PROBES[pattern]
    before, after = _median_app_ms(slow, fast, method, path)
    factor = MIN_SPEEDUP.get(pattern, 2.0)
    assert after * factor < before, f"{pattern}: before {before:.3f} ms, after {after:.3f} ms"


# --- CLI and database options -----------------------------------------------------

def test_fix_from_environment() -> None:
    port = free_port()
    cfg = StartConfig(
        (sys.executable, "-m", "engine.demo", "--port", str(port), "--users", "1000"),
        env={"PERFOPT_DEMO_FIX": "cache,pool"}, ready_url=f"http://127.0.0.1:{port}/health")
    with ManagedTarget(cfg):
        reply = get(f"http://127.0.0.1:{port}", "/")
    assert isinstance(reply.body, dict) and reply.body["fixed"] == ["cache", "pool"]


def test_existing_database_is_reused_and_index_follows_fix(tmp_path: Path) -> None:
    path = str(tmp_path / "demo.db")
    with running_demo(extra=("--db", path, "--users", "1000")) as base:
        post_json(base, "/users", {"name": "Kept", "email": "kept@demo.test"})
    assert _indexes(path) == {"orders_user", "items_order"}
    with running_demo(fix=("index",), extra=("--db", path, "--users", "50")) as base:
        found = get(base, "/users?email=kept@demo.test").body
        assert get(base, "/users/1000").status == 200  # rows of the first run
    assert isinstance(found, dict) and found["count"] == 1
    assert "users_email" in _indexes(path)


def _indexes(path: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {r[0] for r in rows}


def test_cli_rejects_unknown_pattern(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--fix", "index,warp"]) == 2
    assert "unknown pattern(s) warp" in capsys.readouterr().err


def test_cli_rejects_negative_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--leak-kb", "-1"])
    assert info.value.code == 2
    assert "expected a number >= 0" in capsys.readouterr().err


def test_cli_reports_unusable_database(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--db", str(tmp_path / "missing" / "x.db"), "--port", "0"]) == 1
    assert "cannot prepare database" in capsys.readouterr().err


def test_cli_reports_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["--port", str(port), "--users", "10", "--orders", "10"]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
