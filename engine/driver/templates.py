"""Request templates: spec Requests compiled once into byte builders.

Placeholders: ``{seq}`` (a sequence number, unique across workers), ``{rand:A-B}`` (a
random integer, A and B inclusive), ``{uuid}`` (a random UUID4), ``{csv:NAME.COLUMN}``
(a column of a CSV data file, rows taken round robin or at random) and ``{var:NAME}`` (a
variable an earlier step of the journey instance extracted; the spec loader checks the
order, engine.spec.build_steps) and ``{traceparent:PREFIX:RATE}`` (a W3C traceparent whose
trace id starts with the 16 hex digits PREFIX, engine.traces.ids, sampled at RATE; added
by engine.traces.inject when the spec's tracing is on; a request where it is the only
placeholder is written by a TraceTemplate, natively when the extension is built). Within one request
``{seq}``, ``{uuid}`` and each file's row are the same everywhere they appear. Any other
brace is literal text, so JSON bodies need no escaping. A request without placeholders
is built once and reused as the same bytes object.
"""

from __future__ import annotations

import csv
import random
import re
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from engine.hotpath import native
from engine.hotpath.traceparent import TracedRequest, value
from engine.spec.model import DataFile, Request

_PLACEHOLDER = re.compile(
    r"\{(seq|uuid|rand:(-?\d+)-(-?\d+)|csv:([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\- ]+)"
    r"|var:([A-Za-z_][A-Za-z0-9_]*)|traceparent:([0-9a-f]{16}):([0-9.]+))\}")
Part = str | Callable[["RenderContext"], str]


@dataclass(frozen=True)
class DataTable:
    """A loaded CSV data file: header names and rows of text."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    mode: str


def load_data(files: Sequence[DataFile]) -> dict[str, DataTable]:
    """Read every data file (first row = column names). ValueError on unreadable/empty files."""
    tables: dict[str, DataTable] = {}
    for f in files:
        try:
            with open(f.path, newline="", encoding="utf-8") as fh:
                rows = [tuple(r) for r in csv.reader(fh) if r]
        except OSError as e:
            raise ValueError(f"data file {f.name!r} ({f.path}): cannot read ({e.strerror})"
                             ) from None
        if len(rows) < 2:
            raise ValueError(f"data file {f.name!r} ({f.path}): expected a header row "
                             "and at least one data row")
        tables[f.name] = DataTable(f.name, tuple(c.strip() for c in rows[0]),
                                   tuple(rows[1:]), f.mode)
    return tables


@dataclass
class RenderContext:
    """Per-worker generator state; ``begin`` starts a new request (new seq/uuid/rows)."""

    tables: Mapping[str, DataTable]
    seq_start: int = 0
    seq_step: int = 1
    rng: random.Random = field(default_factory=random.Random)
    seq: int = -1
    _uuid: str | None = None
    _rows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _cursor: dict[str, int] = field(default_factory=dict)
    vars: Mapping[str, str] = field(default_factory=dict)
    """The variables of the journey instance being built for ({var:NAME})."""

    def begin(self) -> None:
        self.seq = self.seq_start if self.seq < 0 else self.seq + self.seq_step
        self._uuid = None
        self._rows.clear()

    def uuid(self) -> str:
        if self._uuid is None:
            self._uuid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return self._uuid

    def row(self, name: str) -> tuple[str, ...]:
        row = self._rows.get(name)
        if row is None:
            row = self._rows[name] = self._next_row(self.tables[name])
        return row

    def _next_row(self, t: DataTable) -> tuple[str, ...]:
        if t.mode == "random":
            return t.rows[self.rng.randrange(len(t.rows))]
        # round robin, offset by the sequence start so workers read different rows
        i = self._cursor.get(t.name, self.seq_start % len(t.rows))
        self._cursor[t.name] = (i + self.seq_step) % len(t.rows)
        return t.rows[i]


def compile_text(text: str, tables: Mapping[str, DataTable], where: str) -> tuple[Part, ...]:
    """Split ``text`` into literal strings and placeholder functions. ValueError names ``where``."""
    parts: list[Part] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        parts.append(_placeholder(m, tables, where))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def _placeholder(m: re.Match[str], tables: Mapping[str, DataTable],
                 where: str) -> Callable[[RenderContext], str]:
    kind = m.group(1)
    if kind.startswith("traceparent:"):
        return _traceparent(m.group(7), float(m.group(8)))
    if kind.startswith("var:"):
        var = m.group(6)
        return lambda c: c.vars.get(var, "")
    if kind == "seq":
        return lambda c: str(c.seq)
    if kind == "uuid":
        return lambda c: c.uuid()
    if kind.startswith("rand:"):
        lo, hi = int(m.group(2)), int(m.group(3))
        if hi < lo:
            raise ValueError(f"{where}: {m.group(0)} expected A <= B")
        return lambda c: str(c.rng.randint(lo, hi))
    name, column = m.group(4), m.group(5)
    table = tables.get(name)
    if table is None:
        raise ValueError(f"{where}: {m.group(0)} names data file {name!r}; expected one of "
                         f"{sorted(tables) or 'the spec data: section (none declared)'}")
    if column not in table.columns:
        raise ValueError(f"{where}: {m.group(0)}: data file {name!r} has no column "
                         f"{column!r}; expected one of {list(table.columns)}")
    col = table.columns.index(column)

    def cell(c: RenderContext) -> str:
        row = c.row(name)  # once per placeholder and request (a short row gives "")
        return row[col] if col < len(row) else ""

    return cell


def _traceparent(prefix: str, rate: float) -> Callable[[RenderContext], str]:
    """A traceparent per request (engine.hotpath.traceparent.value): the trace id is PREFIX,
    the request's sequence number and a salt drawn once per compiled template (so workers and
    hosts never collide); the parent span id is salt and sequence; sampled (flags 01) at
    ``rate``. No random draw per request at rate 1, and one ``random()`` below it. A request
    where this is the only placeholder is written by a TraceTemplate instead
    (RequestBuilder.trace), from the same prefix, rate and salt."""
    salt = secrets.randbits(32) | 1

    def header(c: RenderContext) -> str:
        return value(prefix, c.seq, salt, rate >= 1.0 or c.rng.random() < rate)

    header.traceparent = (prefix, rate, salt)  # type: ignore[attr-defined]
    return header


def trace_template(before: bytes, after: bytes, prefix: str, rate: float,
                   salt: int) -> TracedRequest:
    """A TraceTemplate: the native one (ext/traceparent.pxi) when the native hot path is
    selected, else its twin engine.hotpath._pytrace (PERFOPT_PURE=1 forces it, as it does the
    connection, engine.driver.http.connection_factory). Its sampling draw is seeded here."""
    if native.pure_requested():
        from engine.hotpath._pytrace import TraceTemplate

        return TraceTemplate(before, after, prefix, rate, salt, secrets.randbits(64))
    return native.TraceTemplate(before, after, prefix, rate, salt, secrets.randbits(64))


def render(parts: tuple[Part, ...], ctx: RenderContext) -> str:
    return "".join(p if isinstance(p, str) else p(ctx) for p in parts)


class RequestBuilder:
    """Builds the wire bytes of one spec Request for a given ``host_header``."""

    def __init__(self, req: Request, host_header: str, tables: Mapping[str, DataTable],
                 where: str) -> None:
        self.method = req.method.upper()
        self.is_head = self.method == "HEAD"
        body = req.json if req.json is not None else req.body
        self._path = compile_text(req.path if req.path.startswith("/") else "/" + req.path,
                                  tables, f"{where} path")
        self._headers = tuple((k, compile_text(v, tables, f"{where} header {k}"))
                              for k, v in req.headers.items())
        self._body = compile_text(body, tables, f"{where} body") if body is not None else None
        self._fixed = _fixed_headers(req, host_header)
        self._names = {k.lower() for k in req.headers}
        self.static = all(isinstance(p, str) for p in self._all_parts())
        self._cached = self._build(RenderContext({})) if self.static else b""
        self.trace = self._trace_split()
        """The TraceTemplate writing this request when its traceparent is all that varies."""

    def _all_parts(self) -> list[Part]:
        parts: list[Part] = list(self._path) + list(self._body or ())
        for _, v in self._headers:
            parts.extend(v)
        return parts

    def _trace_split(self) -> TracedRequest | None:
        """A TraceTemplate of the bytes before and after the header when a traceparent is the
        only thing that varies (engine.traces.inject on a static request), else None."""
        dynamic = [p for p in self._all_parts() if not isinstance(p, str)]
        trace = getattr(dynamic[0], "traceparent", None) if len(dynamic) == 1 else None
        if trace is None:
            return None
        fn = dynamic[0]
        marker = "\x00traceparent\x00"
        self._headers = tuple((k, tuple(marker if p is fn else p for p in v))
                              for k, v in self._headers)
        pre, post = self._build(RenderContext({})).split(marker.encode(), 1)
        self._headers = tuple((k, tuple(fn if p == marker else p for p in v))
                              for k, v in self._headers)
        return trace_template(pre, post, *trace)

    def build(self, ctx: RenderContext, extra: str = "") -> bytes:
        """The request bytes; the same object every time for a static request. ``extra``:
        header lines to add (a cookie jar's Cookie), unless the spec sets that header."""
        if extra and extra.split(":", 1)[0].lower() in self._names:
            extra = ""
        if self.static and not extra:
            return self._cached
        trace = self.trace
        if trace is not None and not extra:  # a traced static request: one header varies
            return trace.render(ctx)  # advances ctx's sequence as begin() does
        ctx.begin()
        return self._build(ctx, extra)

    def _build(self, ctx: RenderContext, extra: str = "") -> bytes:
        head = [f"{self.method} {render(self._path, ctx)} HTTP/1.1\r\n", self._fixed, extra]
        head.extend(f"{k}: {render(v, ctx)}\r\n" for k, v in self._headers)
        body = render(self._body, ctx).encode() if self._body is not None else b""
        if self._body is not None or self.method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}\r\n")
        head.append("\r\n")
        return "".join(head).encode("latin-1", "replace") + body


def _fixed_headers(req: Request, host_header: str) -> str:
    names = {k.lower() for k in req.headers}
    lines = [] if "host" in names else [f"Host: {host_header}\r\n"]
    if "user-agent" not in names:
        lines.append("User-Agent: perfopt-engine\r\n")
    if req.json is not None and "content-type" not in names:
        lines.append("Content-Type: application/json\r\n")
    return "".join(lines)


def mix_cycle(weights: Sequence[float], size: int = 1000) -> tuple[int, ...]:
    """A cycle of journey indexes with exactly proportional counts, spread evenly.

    Smooth weighted round robin (as nginx balances upstreams) over weights scaled to
    integers summing to about ``size``; zero weights never appear."""
    total = sum(w for w in weights if w > 0)
    if total <= 0:
        raise ValueError("journeys: expected at least one journey with a weight > 0")
    ints = [max(1, round(w / total * size)) if w > 0 else 0 for w in weights]
    current = [0] * len(ints)
    out: list[int] = []
    for _ in range(sum(ints)):
        for i, w in enumerate(ints):
            current[i] += w
        best = max(range(len(ints)), key=current.__getitem__)
        current[best] -= sum(ints)
        out.append(best)
    return tuple(out)
