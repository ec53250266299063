"""History database schema: an ordered list of migrations, one per ``PRAGMA user_version``.

Migration ``i`` (0-based) takes a database at version ``i`` to version ``i + 1``; version 0
is an empty file. Migrations are append-only: a released migration is never edited, a
change to the schema is a new entry at the end. Each migration runs inside one
transaction together with the version bump, so a crash mid-migration leaves the old
version intact.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_V1: tuple[str, ...] = (
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        spec TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        profile TEXT NOT NULL,
        kind TEXT NOT NULL,
        variant TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('RUNNING', 'COMPLETE', 'ABORTED')),
        verdict TEXT,
        started_at REAL NOT NULL,
        ended_at REAL,
        summary TEXT NOT NULL DEFAULT '{}',
        git_commit TEXT,
        git_branch TEXT,
        host TEXT NOT NULL,
        owner_pid INTEGER
    )""",
    "CREATE INDEX runs_by_spec ON runs (spec, profile, started_at)",
    """CREATE TABLE journeys (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        response TEXT NOT NULL,
        service TEXT NOT NULL,
        outcomes TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
    )""",
    """CREATE TABLE intervals (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        start_s REAL NOT NULL,
        duration_s REAL NOT NULL,
        target_rate REAL,
        response TEXT NOT NULL,
        outcomes TEXT NOT NULL,
        PRIMARY KEY (run_id, idx)
    )""",
    """CREATE TABLE resources (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        t_s REAL NOT NULL,
        cpu_pct REAL NOT NULL,
        rss_bytes INTEGER NOT NULL,
        threads INTEGER NOT NULL,
        fds INTEGER NOT NULL,
        connections INTEGER NOT NULL,
        read_bytes INTEGER NOT NULL,
        write_bytes INTEGER NOT NULL,
        ctx_switches INTEGER NOT NULL,
        sys_cpu_pct REAL NOT NULL,
        sys_mem_pct REAL NOT NULL,
        net_sent_bytes INTEGER NOT NULL,
        net_recv_bytes INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
    )""",
    """CREATE TABLE pins (
        name TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        PRIMARY KEY (name, run_id)
    )""",
)

# v2: the run metadata load_result needs to rebuild a RunResult (target, model, workers,
# duration, validity), the human host text, a process identity that survives pid reuse
# (for the stale-RUNNING sweep), Server-Timing histograms and the pin time.
_V2: tuple[str, ...] = (
    "ALTER TABLE runs ADD COLUMN host_text TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE runs ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE journeys ADD COLUMN server_timing TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE pins ADD COLUMN pinned_at REAL NOT NULL DEFAULT 0",
    "CREATE INDEX runs_by_status ON runs (status)",
)

# v3 (#16): a journey's status codes, redirect hops, checks, early-ended instances, tags
# and per-step results (engine.history.serialize.journey_detail), as one JSON document.
_V3: tuple[str, ...] = (
    "ALTER TABLE journeys ADD COLUMN detail TEXT NOT NULL DEFAULT '{}'",
)

# v4 (#21): a remote target's samples (read from Prometheus) name their machine's cores and
# the fields Prometheus had no metric for (comma-separated).
_V4: tuple[str, ...] = (
    "ALTER TABLE resources ADD COLUMN cores INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE resources ADD COLUMN unknown TEXT NOT NULL DEFAULT ''",
)

# v5 (#14): the target's busiest thread, percent of one core (0: not read).
_V5: tuple[str, ...] = (
    "ALTER TABLE resources ADD COLUMN hot_thread_pct REAL NOT NULL DEFAULT 0",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5)
"""Statements per migration; MIGRATIONS[i] takes user_version i to i + 1."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The user_version this code writes and reads."""
