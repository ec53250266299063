"""TraceTemplate, both twins (ext/traceparent.pxi and engine.hotpath._pytrace): a traced
request written per request with its context's next sequence number, the same bytes from
either twin, sampled at the rate without a draw at rate >= 1."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from engine.driver.templates import RenderContext
from engine.hotpath import traceparent

BEFORE = b"GET /x HTTP/1.1\r\nHost: h\r\ntraceparent: "
AFTER = b"\r\nUser-Agent: perfopt-engine\r\n\r\n"
PREFIX = "c0ffee0001020300"
REQUEST = re.compile(re.escape(BEFORE) + rb"00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])"
                     + re.escape(AFTER))


def _make(impl: ModuleType, rate: float, seed: int = 7, salt: int = 0xDEADBEEF) -> object:
    return impl.TraceTemplate(BEFORE, AFTER, PREFIX, rate, salt, seed)


def test_each_request_takes_the_contexts_next_sequence_number(impl: ModuleType) -> None:
    t = _make(impl, 1.0)
    ctx = RenderContext({}, seq_start=3, seq_step=4)
    rows = [REQUEST.fullmatch(t.render(ctx)) for _ in range(3)]  # type: ignore[attr-defined]
    assert ctx.seq == 11
    ids = [(m.group(1).decode(), m.group(2).decode(), m.group(3)) for m in rows if m]
    assert ids == [(f"{PREFIX}{s:08x}deadbeef", f"deadbeef{s:08x}", b"01") for s in (3, 7, 11)]


def test_the_sequence_is_its_low_32_bits_and_shared_with_the_context(impl: ModuleType) -> None:
    t = _make(impl, 1.0)
    ctx = RenderContext({}, seq_start=0, seq_step=2)
    ctx.seq = 0x1_0000_0003  # a long run: the context has numbered requests past 2**32
    t.ctx = ctx  # type: ignore[attr-defined]
    m = REQUEST.fullmatch(t.next_request())  # type: ignore[attr-defined]
    assert m is not None and m.group(1).decode() == f"{PREFIX}00000005deadbeef"
    ctx.begin()  # another request built from the same context numbers on from there
    assert ctx.seq == 0x1_0000_0007


def test_both_twins_write_the_same_bytes_and_draws(native: ModuleType, pure: ModuleType) -> None:
    out = {}
    for mod in (native, pure):
        t = _make(mod, 0.3, seed=0xFEEDFACE12345678)
        ctx = RenderContext({}, seq_start=1, seq_step=3)
        out[mod.__name__] = ([t.render(ctx) for _ in range(500)],  # type: ignore[attr-defined]
                             t.rng_state)  # type: ignore[attr-defined]
    (c, c_state), (py, py_state) = out.values()
    assert c == py and c_state == py_state
    assert {m.group(3) for m in map(REQUEST.fullmatch, c) if m} == {b"00", b"01"}


def test_the_native_value_is_the_shared_format(native: ModuleType) -> None:
    """The native twin patches digits at engine.hotpath.traceparent's offsets into a
    pre-written value; here against the format function itself, not only the twin."""
    t = _make(native, 0.0, salt=0x1)
    ctx = RenderContext({}, seq_start=0x89ABCDEF)
    got = t.render(ctx)  # type: ignore[attr-defined]
    want = traceparent.value(PREFIX, 0x89ABCDEF, 0x1, False)
    assert len(want) == traceparent.LENGTH and got == BEFORE + want.encode() + AFTER


@pytest.mark.parametrize("rate", [1.0, 2.5])
def test_no_draw_at_rate_one_or_more(impl: ModuleType, rate: float) -> None:
    t = _make(impl, rate)
    ctx = RenderContext({})
    flags = {REQUEST.fullmatch(t.render(ctx)).group(3) for _ in range(50)}  # type: ignore[attr-defined, union-attr]
    assert flags == {b"01"} and t.rng_state == 7  # type: ignore[attr-defined]


def test_sampling_follows_the_rate(impl: ModuleType) -> None:
    t = _make(impl, 0.25, seed=12345)
    ctx = RenderContext({})
    flags = [REQUEST.fullmatch(t.render(ctx)).group(3) for _ in range(8000)]  # type: ignore[attr-defined, union-attr]
    assert 0.22 < flags.count(b"01") / len(flags) < 0.28
    never = _make(impl, 0.0)
    assert b"-00\r\n" in never.render(ctx)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("args", "error"), [
    ((BEFORE, AFTER, "C0FFEE0001020300", 1.0, 1, 1), "prefix"),
    ((BEFORE, AFTER, PREFIX[:15], 1.0, 1, 1), "prefix"),
    ((BEFORE, AFTER, PREFIX, -0.1, 1, 1), "rate"),
    ((BEFORE, AFTER, PREFIX, float("nan"), 1, 1), "rate"),
    ((BEFORE, AFTER, PREFIX, 1.0, 1 << 32, 1), "salt"),
    ((BEFORE, AFTER, PREFIX, 1.0, 1, -1), "seed"),
    (("GET", AFTER, PREFIX, 1.0, 1, 1), "bytes"),
])
def test_bad_arguments_are_named(impl: ModuleType, args: tuple[object, ...], error: str) -> None:
    with pytest.raises((ValueError, TypeError), match=error):
        impl.TraceTemplate(*args)
