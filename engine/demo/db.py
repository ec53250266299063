"""SQLite schema and seed data for the demo service.

The data set is deterministic (no randomness): ``users`` rows with emails
``u{id}@demo.test``, a small ``products`` catalogue, and ``orders`` whose
owners are concentrated on the first :data:`ORDER_USERS` users so that
``GET /users/{id}/orders`` returns many orders (the N+1 pattern needs a list
to iterate over). Every order has :data:`ITEMS_PER_ORDER` items.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

ITEMS_PER_ORDER = 3
ORDER_USERS = 250  # users 1..250 own all orders (about orders/250 = 80 each)
PRODUCTS = 1000
STATUSES = ("new", "paid", "shipped", "delivered", "returned")
EPOCH_S = 1_700_000_000  # "created" timestamps are seconds after this epoch

_SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL,
                    created INTEGER NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                       price_cents INTEGER NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,
                     status TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL,
                          product_id INTEGER NOT NULL, qty INTEGER NOT NULL);
CREATE INDEX orders_user ON orders(user_id);
CREATE INDEX items_order ON order_items(order_id);
"""
# The email index is the `index` pattern's fix; it is created or dropped at
# startup, never part of the base schema (a UNIQUE constraint would add one).
_EMAIL_INDEX = "CREATE INDEX IF NOT EXISTS users_email ON users(email)"


@dataclass(frozen=True)
class SeedSize:
    """Row counts for the seed: users >= 1, orders >= 0, products >= 1."""

    users: int = 100_000
    orders: int = 20_000
    products: int = PRODUCTS


def connect(path: str) -> sqlite3.Connection:
    """Open ``path`` with the demo's pragmas (durability traded for speed).

    ``synchronous=OFF`` keeps a POST's commit in the microseconds; the demo's
    bottlenecks are meant to be the planted ones, not fsync.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def _users(n: int) -> Iterator[tuple[int, str, str, int]]:
    for i in range(1, n + 1):
        yield (i, f"u{i}@demo.test", f"User {i}", EPOCH_S + i * 37)


def _products(n: int) -> Iterator[tuple[int, str, int]]:
    for i in range(1, n + 1):
        yield (i, f"Product {i}", 100 + (i * 7919) % 9900)


def _orders(n: int, users: int) -> Iterator[tuple[int, int, str, int]]:
    owners = min(users, ORDER_USERS)
    for i in range(1, n + 1):
        yield (i, 1 + (i % owners), STATUSES[i % len(STATUSES)], EPOCH_S + i * 61)


def _items(orders: int, products: int) -> Iterator[tuple[int, int, int, int]]:
    item_id = 0
    for order in range(1, orders + 1):
        for k in range(ITEMS_PER_ORDER):
            item_id += 1
            yield (item_id, order, 1 + (order * 31 + k * 17) % products, 1 + (order + k) % 4)


def _has_schema(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='users'"
    ).fetchone()
    return bool(row[0])


def seed(conn: sqlite3.Connection, size: SeedSize) -> None:
    """Create the schema and insert all rows in one transaction."""
    conn.executescript(_SCHEMA)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO users VALUES (?,?,?,?)", _users(size.users))
    conn.executemany("INSERT INTO products VALUES (?,?,?)", _products(size.products))
    conn.executemany("INSERT INTO orders VALUES (?,?,?,?)", _orders(size.orders, size.users))
    conn.executemany("INSERT INTO order_items VALUES (?,?,?,?)", _items(size.orders, size.products))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")


def set_email_index(conn: sqlite3.Connection, enabled: bool) -> None:
    """Create (fix) or drop (before) the index on ``users.email``."""
    conn.execute(_EMAIL_INDEX if enabled else "DROP INDEX IF EXISTS users_email")


def prepare(path: str, size: SeedSize, email_index: bool) -> sqlite3.Connection:
    """Open ``path``, seed it unless it already holds the demo schema, set the index.

    An existing demo database is reused as is (its row counts win over ``size``).
    """
    conn = connect(path)
    if not _has_schema(conn):
        seed(conn, size)
    set_email_index(conn, email_index)
    return conn
