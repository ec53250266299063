"""The demo's endpoints, each a before/after pair selected by a pattern name.

Handlers that do database or CPU work run it inline on the event loop: that
blocking is the realistic bottleneck the engine is meant to find. Simulated
network waits (e-mail, downstream services, DB handshakes) are awaited.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from engine.demo import db, otel
from engine.demo.algo import recommend_fast, recommend_slow
from engine.demo.server import HttpError, Request, Response, Route, Timings

# pattern name -> what its fix does (the before variant is the default)
PATTERNS: dict[str, str] = {
    "index": "GET /users?email= uses an index on users.email instead of a full scan",
    "join": "GET /users/{id}/orders uses one JOIN instead of N+1 queries",
    "cache": "GET /stats is served from a TTL cache instead of recomputing the aggregate",
    "async": "POST /users queues the welcome e-mail instead of awaiting it inline",
    "parallel": "GET /dashboard calls its three downstreams concurrently",
    "linear": "GET /recommendations dedupes with sets (O(n)) instead of lists (O(n^2))",
    "pool": "GET /users/{id} reuses pooled connections instead of connecting per request",
}
DOWNSTREAM_MS = {"inventory": 10.0, "pricing": 15.0, "reviews": 20.0}
MAX_N = 5000  # recommendations: O(n^2) at n=5000 blocks the loop for ~0.2 s


@dataclass(frozen=True)
class DemoConfig:
    """Tunables: e-mail send time and DB handshake in ms (>= 0), cache TTL in s (> 0)."""

    db_path: str
    fixes: frozenset[str] = frozenset()
    email_ms: float = 30.0
    connect_ms: float = 2.0
    cache_ttl_s: float = 5.0
    pool_size: int = 4


@dataclass
class DemoState:
    """Shared state of one server process (single event loop, one thread)."""

    config: DemoConfig
    conn: sqlite3.Connection
    pool: list[sqlite3.Connection] = field(default_factory=list)
    cache: tuple[float, object] | None = None  # (expires at monotonic s, value)
    emails: asyncio.Queue[tuple[int, str]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=10_000)
    )
    emails_sent: int = 0
    emails_dropped: int = 0

    def fixed(self, pattern: str) -> bool:
        return pattern in self.config.fixes


def _int_param(req: Request, name: str) -> int:
    try:
        value = int(req.params[name])
    except ValueError:
        raise HttpError(400, f"{name} must be a positive integer") from None
    if value < 1:
        raise HttpError(400, f"{name} must be a positive integer")
    return value


def _user_dict(row: tuple[int, str, str, int]) -> dict[str, object]:
    return {"id": row[0], "email": row[1], "name": row[2], "created": row[3]}


# --- index ---------------------------------------------------------------

async def users_by_email(state: DemoState, req: Request, t: Timings) -> Response:
    email = req.query.get("email")
    if not email:
        raise HttpError(400, "query parameter 'email' is required")
    with t.db():  # scans 100k rows unless the index pattern is fixed
        rows = state.conn.execute(
            "SELECT id, email, name, created FROM users WHERE email = ?", (email,)
        ).fetchall()
    return Response(200, {"users": [_user_dict(r) for r in rows], "count": len(rows)})


# --- join ----------------------------------------------------------------

_ORDERS = "SELECT id, status, created FROM orders WHERE user_id = ? ORDER BY id"
_ITEMS = "SELECT product_id, qty FROM order_items WHERE order_id = ? ORDER BY id"
_PRODUCT = "SELECT name, price_cents FROM products WHERE id = ?"
_JOINED = """
SELECT o.id, o.status, o.created, i.product_id, i.qty, p.name, p.price_cents
FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id
WHERE o.user_id = ? ORDER BY o.id, i.id
"""


def _orders_n_plus_1(conn: sqlite3.Connection, user_id: int) -> list[dict[str, object]]:
    orders = []
    for oid, status, created in conn.execute(_ORDERS, (user_id,)).fetchall():
        items = []
        for pid, qty in conn.execute(_ITEMS, (oid,)).fetchall():
            name, price = conn.execute(_PRODUCT, (pid,)).fetchone()
            items.append({"product_id": pid, "name": name, "price_cents": price, "qty": qty})
        orders.append({"id": oid, "status": status, "created": created, "items": items})
    return orders


def _orders_joined(conn: sqlite3.Connection, user_id: int) -> list[dict[str, object]]:
    orders: dict[int, dict[str, object]] = {}
    items: dict[int, list[dict[str, object]]] = {}
    for oid, status, created, pid, qty, name, price in conn.execute(_JOINED, (user_id,)):
        if oid not in orders:
            items[oid] = []
            orders[oid] = {"id": oid, "status": status, "created": created, "items": items[oid]}
        items[oid].append({"product_id": pid, "name": name, "price_cents": price, "qty": qty})
    return list(orders.values())


async def user_orders(state: DemoState, req: Request, t: Timings) -> Response:
    user_id = _int_param(req, "id")
    fetch = _orders_joined if state.fixed("join") else _orders_n_plus_1
    with t.db():
        exists = state.conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone()
        orders = fetch(state.conn, user_id) if exists else []
    if not exists:
        raise HttpError(404, f"no user with id {user_id}")
    return Response(200, {"user_id": user_id, "orders": orders, "count": len(orders)})


# --- cache ---------------------------------------------------------------

_TOP_PRODUCTS = """
SELECT p.id, p.name, count(*) AS lines, sum(i.qty * p.price_cents) AS revenue
FROM order_items i JOIN products p ON p.id = i.product_id
GROUP BY p.id ORDER BY revenue DESC, p.id LIMIT 10
"""
_BY_STATUS = "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status"


def _compute_stats(conn: sqlite3.Connection) -> dict[str, object]:
    top = [
        {"id": r[0], "name": r[1], "lines": r[2], "revenue_cents": r[3]}
        for r in conn.execute(_TOP_PRODUCTS)
    ]
    return {"top_products": top, "orders_by_status": dict(conn.execute(_BY_STATUS).fetchall())}


async def stats(state: DemoState, req: Request, t: Timings) -> Response:
    if not state.fixed("cache"):
        with t.db():
            return Response(200, _compute_stats(state.conn))
    with t.cache():
        hit = state.cache if state.cache and state.cache[0] > time.monotonic() else None
    if hit is not None:
        return Response(200, hit[1], (("X-Cache", "hit"),))
    with t.db():
        value = _compute_stats(state.conn)
    with t.cache():
        state.cache = (time.monotonic() + state.config.cache_ttl_s, value)
    return Response(200, value, (("X-Cache", "miss"),))


# --- async ---------------------------------------------------------------

def _parse_new_user(body: bytes) -> tuple[str, str]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "body must be JSON: {\"name\": str, \"email\": str}") from None
    if not isinstance(data, dict):
        raise HttpError(400, "body must be a JSON object with name and email")
    name, email = data.get("name"), data.get("email")
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise HttpError(400, "name must be a non-empty string of at most 200 characters")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise HttpError(400, "email must be a string containing '@' (at most 254 characters)")
    return name, email


async def send_welcome_email(state: DemoState, user_id: int, email: str) -> None:
    """The slow side effect: a simulated SMTP round trip of ``email_ms``."""
    await asyncio.sleep(state.config.email_ms / 1000)
    state.emails_sent += 1


async def email_worker(state: DemoState) -> None:
    """Background consumer for the fixed ``async`` variant; runs until cancelled."""
    while True:
        user_id, email = await state.emails.get()
        await send_welcome_email(state, user_id, email)


async def create_user(state: DemoState, req: Request, t: Timings) -> Response:
    name, email = _parse_new_user(req.body)
    with t.db():
        cur = state.conn.execute(
            "INSERT INTO users (email, name, created) VALUES (?, ?, ?)",
            (email, name, int(time.time())),
        )
    user_id = int(cur.lastrowid or 0)
    mode = "sent"
    if state.fixed("async"):
        mode = "queued"
        try:
            state.emails.put_nowait((user_id, email))
        except asyncio.QueueFull:
            state.emails_dropped += 1  # a real system would retry; the demo counts
            mode = "dropped"
    else:
        with t.ext():
            await send_welcome_email(state, user_id, email)
    return Response(201, {"id": user_id, "name": name, "email": email, "welcome_email": mode})


# --- parallel ------------------------------------------------------------

async def _downstream(name: str, ms: float) -> tuple[str, dict[str, object]]:
    with otel.client_span(name):
        await asyncio.sleep(ms / 1000)
    return name, {"ok": True, "latency_ms": ms}


async def dashboard(state: DemoState, req: Request, t: Timings) -> Response:
    with t.ext():
        if state.fixed("parallel"):
            calls = [_downstream(n, ms) for n, ms in DOWNSTREAM_MS.items()]
            panels = dict(await asyncio.gather(*calls))
        else:
            panels = dict([await _downstream(n, ms) for n, ms in DOWNSTREAM_MS.items()])
    return Response(200, {"panels": panels})


# --- linear --------------------------------------------------------------

async def recommendations(state: DemoState, req: Request, t: Timings) -> Response:
    try:
        n = int(req.query.get("n", "2000"))
    except ValueError:
        raise HttpError(400, f"n must be an integer in 1..{MAX_N}") from None
    if not 1 <= n <= MAX_N:
        raise HttpError(400, f"n must be an integer in 1..{MAX_N}")
    items = recommend_fast(n) if state.fixed("linear") else recommend_slow(n)
    return Response(200, {"n": n, "count": len(items), "sum": sum(items), "items": items[:100]})


# --- pool ----------------------------------------------------------------

async def _connection(state: DemoState, t: Timings) -> sqlite3.Connection:
    if state.fixed("pool") and state.pool:
        return state.pool.pop()
    with t.db():
        conn = db.connect(state.config.db_path)
        # sqlite is in-process; a client-server database would also pay a
        # network handshake and authentication on every new connection.
        await asyncio.sleep(state.config.connect_ms / 1000)
    return conn


def _release(state: DemoState, conn: sqlite3.Connection) -> None:
    if state.fixed("pool") and len(state.pool) < state.config.pool_size:
        state.pool.append(conn)
    else:
        conn.close()


async def user_by_id(state: DemoState, req: Request, t: Timings) -> Response:
    user_id = _int_param(req, "id")
    conn = await _connection(state, t)
    try:
        with t.db():
            row = conn.execute(
                "SELECT id, email, name, created FROM users WHERE id = ?", (user_id,)
            ).fetchone()
    finally:
        _release(state, conn)
    if row is None:
        raise HttpError(404, f"no user with id {user_id}")
    return Response(200, _user_dict(row))


StateHandler = Callable[["DemoState", Request, Timings], Awaitable[Response]]


# --- misc ----------------------------------------------------------------

async def health(state: DemoState, req: Request, t: Timings) -> Response:
    return Response(200, {"status": "ok"})


async def index(state: DemoState, req: Request, t: Timings) -> Response:
    fixed = sorted(state.config.fixes)
    return Response(200, {"service": "perfopt demo", "fixed": fixed, "patterns": PATTERNS})


_TABLE: tuple[tuple[str, str, StateHandler], ...] = (
    ("GET", "/", index),
    ("GET", "/health", health),
    ("GET", "/users", users_by_email),
    ("POST", "/users", create_user),
    ("GET", "/users/{id}", user_by_id),
    ("GET", "/users/{id}/orders", user_orders),
    ("GET", "/stats", stats),
    ("GET", "/dashboard", dashboard),
    ("GET", "/recommendations", recommendations),
)


def build_routes(state: DemoState) -> list[Route]:
    """The route table with every handler bound to ``state``."""
    return [Route(method, path, functools.partial(fn, state)) for method, path, fn in _TABLE]
