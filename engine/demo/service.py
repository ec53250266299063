"""Assemble and run the demo service: database, state, routes, listener.

Computation only; :mod:`engine.demo.cli` parses flags and prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.demo import db, otel
from engine.demo.handlers import PATTERNS, DemoConfig, DemoState, build_routes, email_worker
from engine.demo.server import App, Faults, serve


class FixError(ValueError):
    """An unknown pattern name was given to ``--fix``."""


def parse_fixes(text: str | Iterable[str]) -> frozenset[str]:
    """Turn ``"index,join"`` / ``"all"`` / ``""`` / ``"none"`` into pattern names.

    Raises :class:`FixError` naming the unknown entries and the valid ones.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    names = {item.strip().lower() for item in items} - {"", "none"}
    if "all" in names:
        return frozenset(PATTERNS)
    unknown = sorted(names - set(PATTERNS))
    if unknown:
        valid = ", ".join([*PATTERNS, "all", "none"])
        raise FixError(f"unknown pattern(s) {', '.join(unknown)}; expected some of: {valid}")
    return frozenset(names)


@dataclass(frozen=True)
class DemoOptions:
    """Everything one demo process needs; ``port`` 0 picks a free port."""

    host: str
    port: int
    config: DemoConfig
    size: db.SeedSize = field(default_factory=db.SeedSize)
    faults: Faults = field(default_factory=Faults)


@dataclass(frozen=True)
class Started:
    """Facts announced once the service accepts connections."""

    url: str
    seed_s: float
    fixes: frozenset[str]


EMAIL_WORKERS = 4  # concurrent senders draining the welcome e-mail queue


async def run_service(opts: DemoOptions, announce: Callable[[Started], None]) -> None:
    """Seed the database, listen, call ``announce``, serve until SIGINT/SIGTERM.

    Raises OSError when the address cannot be bound and sqlite3.Error when
    the database cannot be opened or seeded.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Installed before seeding so a SIGTERM during the seed still ends in a
    # clean return (and the temp database is removed by the caller).
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await _serve_until(stop, opts, announce)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)  # uvloop does not restore them itself


async def _serve_until(
    stop: asyncio.Event, opts: DemoOptions, announce: Callable[[Started], None]
) -> None:
    t0 = time.perf_counter()
    conn = db.prepare(opts.config.db_path, opts.size, "index" in opts.config.fixes)
    seed_s = time.perf_counter() - t0
    otel.setup()  # spans only when OTEL_EXPORTER_OTLP_ENDPOINT is set (engine.demo.otel)
    state = DemoState(opts.config, otel.traced(conn))
    loop = asyncio.get_running_loop()
    workers = [loop.create_task(email_worker(state)) for _ in range(EMAIL_WORKERS)]
    try:
        await asyncio.sleep(0)  # let a signal that arrived while seeding set `stop`
        if stop.is_set():
            return
        server = await serve(App(build_routes(state), opts.faults), opts.host, opts.port)
        port = server.sockets[0].getsockname()[1]
        host = f"[{opts.host}]" if ":" in opts.host else opts.host
        announce(Started(f"http://{host}:{port}", seed_s, opts.config.fixes))
        await stop.wait()
        server.close()
    finally:
        await _cancel(workers)
        for c in [conn, *state.pool]:
            c.close()
        otel.shutdown()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
