"""The history store: every run, its histograms and resource samples, in one SQLite file.

Crash safety: the database runs in WAL mode and every write is one ``BEGIN IMMEDIATE``
transaction, so a process killed mid-write leaves the file readable with the write either
wholly present or wholly absent. A run is first committed as RUNNING (``begin_run``) and
completed in a single transaction (``finish_run``); a RUNNING row whose owning process is
gone is marked ABORTED the next time any process opens the store.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Literal

import engine.history.serialize as ser
from engine.history.fingerprint import GitInfo, HostFingerprint
from engine.history.schema import MIGRATIONS, SCHEMA_VERSION
from engine.result import RunResult

__all__ = ["HistoryError", "HistoryStore", "Pin", "RunStatus", "StoredRun", "UnknownRunError"]

RunStatus = Literal["RUNNING", "COMPLETE", "ABORTED"]
FOREIGN_STALE_S = 2 * 86400.0
"""A RUNNING row written on another machine is presumed dead after this many seconds."""
_BUSY_TIMEOUT_S = 30.0


class HistoryError(Exception):
    """The history database is missing, unreadable, too new, or asked something impossible."""


class UnknownRunError(HistoryError, LookupError):
    """No run with that id."""


@dataclass(frozen=True)
class StoredRun:
    """One row of the run table. Times are Unix seconds; ``summary`` as from ``summarize``."""

    id: int
    spec: str
    spec_hash: str
    profile: str
    kind: str
    variant: str
    status: RunStatus
    verdict: str | None
    started_at: float
    ended_at: float | None
    summary: Mapping[str, float | None]
    git_commit: str | None
    git_branch: str | None
    host: str
    """HostFingerprint.hash of the machine the run was made on."""
    host_text: str


@dataclass(frozen=True)
class Pin:
    """A named baseline: the runs it is made of and when it was pinned (Unix s)."""

    name: str
    run_ids: tuple[int, ...]
    pinned_at: float


class HistoryStore:
    """A history database at ``path`` (created, with its directory, unless ``create=False``).

    Opening applies pending migrations and aborts stale RUNNING rows. Use as a context
    manager or call ``close()``. One store object per thread (sqlite3 connections are not
    shared across threads); several processes may use the same file at once.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise HistoryError(f"no history database at {self.path}")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = _connect(self.path)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise HistoryError(f"cannot open history database {self.path}: {exc}") from exc
        try:
            self._migrate()
            self._sweep_stale()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise HistoryError(f"cannot open history database {self.path}: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The database's PRAGMA user_version."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front: no deadlock upgrading a read later.
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:  # locked past the timeout, disk full, I/O error
            raise HistoryError(f"history database {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        # Read first: a store opened while another process holds the write lock (a long
        # finish_run) must not wait for it when there is nothing to migrate.
        if self.schema_version == SCHEMA_VERSION:
            return
        with self._tx() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"history database {self.path} has schema version {version}; this "
                    f"perfopt-engine reads up to {SCHEMA_VERSION} (upgrade perfopt-engine)")
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    def _sweep_stale(self) -> None:
        now = time.time()
        rows = self._db.execute(
            "SELECT id, owner, started_at FROM runs WHERE status = 'RUNNING'").fetchall()
        dead = [r["id"] for r in rows if not _owner_alive(r["owner"], r["started_at"], now)]
        if not dead:
            return
        with self._tx() as db:
            db.executemany("UPDATE runs SET status = 'ABORTED', ended_at = ?"
                           " WHERE id = ? AND status = 'RUNNING'", [(now, i) for i in dead])

    # -- writes -------------------------------------------------------------------------

    def begin_run(self, spec_name: str, spec_hash: str, profile: str, kind: str, variant: str,
                  fingerprint: HostFingerprint, git: GitInfo | None,
                  started_at: float | None = None) -> int:
        """Commit a RUNNING row and return its id (>= 1). ``started_at`` defaults to now."""
        row = (spec_name, spec_hash, profile, kind, variant,
               time.time() if started_at is None else started_at,
               git.commit if git else None, git.branch if git else None,
               fingerprint.hash, fingerprint.text, os.getpid(), _owner_token())
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO runs (spec, spec_hash, profile, kind, variant, status, started_at,"
                " git_commit, git_branch, host, host_text, owner_pid, owner)"
                " VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?)", row)
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, run: RunResult, verdict: str,
                   summary: Mapping[str, float | None] | None = None,
                   extra: Mapping[str, Any] | None = None) -> None:
        """Store the run's results (and ``extra`` JSON values, read back by ``run_meta``)
        and mark it COMPLETE (ABORTED if ``run.aborted``), in one transaction."""
        doc = ser.dumps(dict(ser.summarize(run) if summary is None else summary))
        status = "ABORTED" if run.aborted else "COMPLETE"
        # The measured window, when the driver stamped one; else the time of recording.
        start = run.started_at if run.started_at > 0 else None
        end = run.started_at + run.duration_s if start is not None else time.time()
        with self._tx() as db:
            self._require_running(db, run_id)
            self._insert_rows(db, run_id, run)
            db.execute(
                "UPDATE runs SET status = ?, verdict = ?, started_at = COALESCE(?, started_at),"
                " ended_at = ?, summary = ?, meta = ? WHERE id = ?",
                (status, verdict, start, end, doc, ser.meta_doc(run, extra), run_id))

    @staticmethod
    def _insert_rows(db: sqlite3.Connection, run_id: int, run: RunResult) -> None:
        for table, cols, rows in (
                ("journeys", ser.JOURNEY_COLUMNS, ser.journey_rows(run_id, run)),
                ("intervals", ser.INTERVAL_COLUMNS, ser.interval_rows(run_id, run)),
                ("resources", ser.RESOURCE_COLUMNS, ser.resource_rows(run_id, run))):
            marks = ", ".join("?" * len(cols))
            db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)

    @staticmethod
    def _require_running(db: sqlite3.Connection, run_id: int) -> None:
        row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UnknownRunError(f"no run {run_id} in history")
        if row["status"] != "RUNNING":
            raise HistoryError(f"run {run_id} is {row['status']}, not RUNNING")

    def mark_aborted(self, run_id: int) -> None:
        """Mark a RUNNING run ABORTED (interrupted before it produced results)."""
        with self._tx() as db:
            self._require_running(db, run_id)
            db.execute("UPDATE runs SET status = 'ABORTED', ended_at = ? WHERE id = ?",
                       (time.time(), run_id))

    def record(self, spec_name: str, spec_hash: str, run: RunResult, verdict: str,
               fingerprint: HostFingerprint, git: GitInfo | None,
               summary: Mapping[str, float | None] | None = None) -> int:
        """begin_run + finish_run for a run that already finished; returns the run id."""
        run_id = self.begin_run(spec_name, spec_hash, run.profile, run.kind, run.variant,
                                fingerprint, git, started_at=run.started_at)
        self.finish_run(run_id, run, verdict, summary)
        return run_id

    # -- reads --------------------------------------------------------------------------

    def runs(self, spec: str | None = None, limit: int | None = 50, *,
             profile: str | None = None, status: RunStatus | None = None,
             since: float | None = None) -> list[StoredRun]:
        """Runs newest first, filtered by spec name, profile, status and start time (Unix s);
        ``limit=None`` returns them all."""
        where, args = _filters(spec=spec, profile=profile, status=status)
        if since is not None:
            where.append("started_at >= ?")
            args.append(since)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {max(0, int(limit))}"
        return [_stored(r) for r in self._db.execute(sql, args)]

    def get(self, run_id: int) -> StoredRun:
        """The run with this id; UnknownRunError when there is none."""
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UnknownRunError(f"no run {run_id} in history {self.path}")
        return _stored(row)

    def load_result(self, run_id: int) -> RunResult:
        """Rebuild the stored RunResult with decoded histograms (HistoryError if the run
        never finished). ``extra['history_run_id']`` names the run."""
        stored = self.get(run_id)
        jrows = self._rows("journeys", run_id, "position")
        if stored.status == "RUNNING" or (stored.status == "ABORTED" and not jrows):
            raise HistoryError(f"run {run_id} is {stored.status}: it has no results")
        meta: dict[str, Any] = json.loads(self._meta(run_id))
        journeys = tuple(ser.journey_from_row(r) for r in jrows)
        duration = float(meta.get("duration_s", (stored.ended_at or 0) - stored.started_at))
        return RunResult(
            profile=stored.profile, kind=stored.kind, variant=stored.variant,
            target_url=str(meta.get("target_url", "")), model=str(meta.get("model", "open")),
            workers=int(meta.get("workers", 1)), started_at=stored.started_at,
            duration_s=duration, journeys=journeys,
            intervals=tuple(ser.interval_from_row(r) for r in self._rows("intervals", run_id,
                                                                         "idx")),
            validity=ser.validity_from_meta(meta, journeys, duration),
            aborted=bool(meta.get("aborted", stored.status == "ABORTED")),
            abort_reason=str(meta.get("abort_reason", "")),
            resources=tuple(ser.resource_from_row(r) for r in self._rows("resources", run_id,
                                                                         "seq")),
            extra={"history_run_id": run_id, "spec": stored.spec, "host": stored.host,
                   **{k: meta[k] for k in ser.KEPT_EXTRA if k in meta}},
        )

    def run_meta(self, run_id: int) -> dict[str, Any]:
        """The run's stored metadata ({} before it finished); UnknownRunError without it."""
        self.get(run_id)
        doc = json.loads(self._meta(run_id) or "{}")
        return doc if isinstance(doc, dict) else {}

    def _rows(self, table: str, run_id: int, order: str) -> list[sqlite3.Row]:
        return self._db.execute(
            f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}", (run_id,)).fetchall()

    def _meta(self, run_id: int) -> str:
        return str(self._db.execute("SELECT meta FROM runs WHERE id = ?",
                                    (run_id,)).fetchone()[0])

    # -- pinned baselines ---------------------------------------------------------------

    def pin(self, name: str, run_ids: Sequence[int]) -> Pin:
        """Pin ``run_ids`` (COMPLETE runs) as baseline ``name``, replacing an older pin."""
        if not name.strip() or not run_ids:
            raise HistoryError("a pin needs a non-empty name and at least one run")
        now = time.time()
        with self._tx() as db:
            for run_id in run_ids:
                self._require_complete(db, run_id)
            db.execute("DELETE FROM pins WHERE name = ?", (name,))
            db.executemany("INSERT OR IGNORE INTO pins (name, run_id, pinned_at) VALUES"
                           " (?, ?, ?)", [(name, r, now) for r in run_ids])
        return Pin(name, tuple(sorted(set(run_ids))), now)

    @staticmethod
    def _require_complete(db: sqlite3.Connection, run_id: int) -> None:
        row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UnknownRunError(f"no run {run_id} in history")
        if row["status"] != "COMPLETE":
            raise HistoryError(f"run {run_id} is {row['status']}: only COMPLETE runs can be"
                               " a baseline")

    def unpin(self, name: str) -> bool:
        """Remove pin ``name``; False when there was none."""
        with self._tx() as db:
            return db.execute("DELETE FROM pins WHERE name = ?", (name,)).rowcount > 0

    def pins(self) -> list[Pin]:
        """All pins, by name."""
        grouped: dict[str, list[sqlite3.Row]] = {}
        for row in self._db.execute("SELECT * FROM pins ORDER BY name, run_id"):
            grouped.setdefault(row["name"], []).append(row)
        return [Pin(n, tuple(r["run_id"] for r in rs), max(r["pinned_at"] for r in rs))
                for n, rs in grouped.items()]

    def pinned(self, name: str) -> Pin | None:
        """The pin called ``name``, or None."""
        return next((p for p in self.pins() if p.name == name), None)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; _tx issues BEGIN/COMMIT itself.
    db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode survives any process crash; only an OS crash may lose the last
    # committed transaction, never corrupt the file.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _filters(**equal: str | None) -> tuple[list[str], list[Any]]:
    pairs = [(k, v) for k, v in equal.items() if v is not None]
    return [f"{k} = ?" for k, _ in pairs], [v for _, v in pairs]


def _stored(row: sqlite3.Row) -> StoredRun:
    keys = row.keys()
    return StoredRun(
        id=row["id"], spec=row["spec"], spec_hash=row["spec_hash"], profile=row["profile"],
        kind=row["kind"], variant=row["variant"], status=row["status"], verdict=row["verdict"],
        started_at=row["started_at"], ended_at=row["ended_at"],
        summary=MappingProxyType(json.loads(row["summary"] or "{}")), git_commit=row["git_commit"],
        git_branch=row["git_branch"], host=row["host"],
        host_text=row["host_text"] if "host_text" in keys else "",
    )


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _process_start(pid: int) -> float | None:
    import psutil

    try:
        return round(psutil.Process(pid).create_time(), 2)
    except (psutil.Error, OSError):
        return None


def _owner_token() -> str:
    """host|boot|pid|start: identifies this process even after its pid is reused."""
    pid = os.getpid()
    return f"{socket.gethostname()}|{_boot_id()}|{pid}|{_process_start(pid)}"


def _owner_alive(owner: str, started_at: float, now: float) -> bool:
    """Could the process that wrote this RUNNING row still be running?"""
    parts = owner.split("|")
    if len(parts) != 4:
        return False  # written before owners were recorded: nobody can finish it
    node, boot, pid, start = parts
    if node != socket.gethostname():
        return now - started_at < FOREIGN_STALE_S  # cannot look at another machine's pids
    if boot != _boot_id() or not pid.isdigit():
        return False
    return str(_process_start(int(pid))) == start
