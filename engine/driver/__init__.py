"""The load driver: HTTP/1.1 on uvloop, open and closed models, worker processes, validity.

Entry point: ``run_profile``. Progress events and their renderer live in
``engine.driver.progress``.
"""

from engine.driver.progress import (
    IntervalProgress,
    ProgressEvent,
    ProgressPrinter,
    RunFinished,
    RunStarted,
)
from engine.driver.run import check_target, run_profile

__all__ = [
    "IntervalProgress", "ProgressEvent", "ProgressPrinter", "RunFinished", "RunStarted",
    "check_target", "run_profile",
]
