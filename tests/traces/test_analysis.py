"""engine.analysis.traces on hand-made spans: the split, N+1, sequential vs parallel calls."""

from __future__ import annotations

from engine.analysis.traces import analyse_traces, statement, trace_findings
from engine.traces import ids
from engine.traces.spans import Span

NONCE = 0xABCDEF01
MS = 1_000_000


def _trace(k: int, journey: int, children: list[tuple[str, str, int, int, dict[str, str]]],
           root_ms: int = 100, t0: int = 10**18) -> list[Span]:
    tid = bytes.fromhex(ids.prefix(NONCE, journey, 0) + f"{k:08x}" + "00000001")
    root = Span(tid, b"r" * 8, b"p" * 8, "GET /", "server", t0, t0 + root_ms * MS, {})
    out = [root]
    for i, (name, kind, a, b, attrs) in enumerate(children):
        out.append(Span(tid, bytes([i + 1]) * 8, root.span_id, name, kind, t0 + a * MS,
                        t0 + b * MS, attrs))
    return out


def _db(sql: str, a: int, b: int) -> tuple[str, str, int, int, dict[str, str]]:
    return ("SELECT", "client", a, b, {"db.system": "postgresql", "db.statement": sql})


def _call(host: str, a: int, b: int) -> tuple[str, str, int, int, dict[str, str]]:
    return (f"GET {host}", "client", a, b, {"server.address": host})


def test_statement_shapes_hide_columns_and_literals() -> None:
    assert statement("SELECT id,\n  email FROM users WHERE email = 'a@b.c' AND n = 42") == \
        "SELECT ... FROM users WHERE email = ? AND n = ?"


def test_time_splits_by_statement_and_own_time() -> None:
    spans = [s for k in range(20) for s in _trace(k, 0, [_db("SELECT * FROM t WHERE x = 1",
                                                             10, 90)])]
    j = analyse_traces(spans, ["lookup"]).journey("lookup")
    assert j is not None and j.requests == 20
    db, own = j.categories
    assert db.label == "SELECT ... FROM t WHERE x = ? (postgresql)"
    assert round(db.share, 3) == 0.8 and round(own.share, 3) == 0.2
    assert 79 < db.p95_ms < 81 and db.calls_per_request == 1
    found = trace_findings(analyse_traces(spans, ["lookup"]), "lookup")
    assert [(f[1], f[4]) for f in found] == [("database", "database"), ("cpu", "algorithm")]
    _, _, share, evidence, _ = found[0]
    assert round(share, 2) == 0.8
    assert evidence[0].startswith("lookup p95: 80% in SELECT ... FROM t WHERE x = ?")


def test_n_plus_1_needs_five_similar_statements_under_one_parent() -> None:
    many = [_db(f"SELECT * FROM items WHERE id = {i}", 2 * i, 2 * i + 1) for i in range(12)]
    few = [_db(f"SELECT * FROM items WHERE id = {i}", 2 * i, 2 * i + 1) for i in range(4)]
    j = analyse_traces(_trace(1, 0, many) + _trace(2, 1, few), ["a", "b"])
    [n1] = j.journey("a").patterns  # type: ignore[union-attr]
    assert n1.kind == "n_plus_1" and n1.per_request == 12
    assert j.journey("b").patterns == ()  # type: ignore[union-attr]


def test_sequential_calls_are_found_and_parallel_ones_are_not() -> None:
    seq = [_call("a", 0, 10), _call("b", 10, 25), _call("c", 25, 45)]
    par = [_call("a", 0, 10), _call("b", 0, 15), _call("c", 0, 20)]
    j = analyse_traces(_trace(1, 0, seq, 46) + _trace(2, 1, par, 21), ["seq", "par"])
    [p] = j.journey("seq").patterns  # type: ignore[union-attr]
    assert p.kind == "sequential" and p.per_request == 3
    assert p.label == "sequential calls to a, b, c"
    assert round(p.saving, 2) == round((45 - 20) / 46, 2)
    assert j.journey("par").patterns == ()  # type: ignore[union-attr]


def test_spans_outside_the_window_or_without_a_server_root_are_left_out() -> None:
    inside = _trace(1, 0, [], t0=5 * 10**18)
    outside = _trace(2, 0, [], t0=7 * 10**18)
    orphan = [s._replace(kind="client") for s in _trace(3, 0, [])]
    got = analyse_traces(inside + outside + orphan, ["j"], [(5 * 10**18, 6 * 10**18)])
    assert got.journey("j").requests == 1 and got.unrooted == 1  # type: ignore[union-attr]
    none = analyse_traces([], ["j"])
    assert none.journeys == () and "not instrumented" in none.notes[0]
