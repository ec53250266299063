"""Run history: the SQLite store, host fingerprints, baseline selection and change points."""

from engine.history.fingerprint import GitInfo, HostFingerprint, git_info, host_fingerprint
from engine.history.store import (
    HistoryError,
    HistoryStore,
    Pin,
    StoredRun,
    UnknownRunError,
)

__all__ = [
    "GitInfo",
    "HistoryError",
    "HistoryStore",
    "HostFingerprint",
    "Pin",
    "StoredRun",
    "UnknownRunError",
    "git_info",
    "host_fingerprint",
]
