"""What the open model costs while it sends almost nothing: ``perfopt-engine apply`` at 100/s.

Run by hand (noisy on a shared machine):

    python benchmarks/peer_idle.py --seconds 20 --rate 100 --rounds 3

Runs apply of the same generated spec as benchmarks/peer_h2load.py (nginx sampled, the live
progress line on a pseudo-terminal) in a child process that wraps four parts with
per-thread CPU clocks (time.thread_time, so each part is charged only its own thread's
CPU): the live progress line (ProgressPrinter), the interval roll (the driver's per-interval
hook: closing the interval, the progress event, the abort check; the progress line's own
share subtracted), the resource sampler's thread (Sampler._sample_once and its sleeps) and
the rest of the driver thread during the load (scheduler, requests, housekeeping). Prints
each as a percentage of one core over the load's wall time, and the whole process during
the load (the report's generator_cpu_pct: start-up excluded). Medians over rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_h2load import SPEC, _drain  # the benchmarks folder is not a package
from peer_wrk import nginx

PARTS = ("progress line", "interval roll", "sampler thread", "driver thread (rest)",
         "whole process (load only)")


def child(spec: str, out: str, sampler_max_s: str) -> None:
    """apply in this process with the parts wrapped; writes their CPU seconds to ``out``."""
    from engine.cli import main as cli_main
    from engine.driver import progress, run, runtime
    from engine.target import sampler, session

    if float(sampler_max_s) > 0:  # compare with a fixed sampling period
        session.IDLE_MAX_INTERVAL_S = float(sampler_max_s)  # type: ignore[attr-defined]

    cpu: dict[str, float] = dict.fromkeys(("progress", "progress_iv", "hook", "sampler", "drive",
                                           "wall"), 0.0)

    def timed(key: str, fn: Any) -> Any:
        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                cpu[key] += time.thread_time() - t
        return wrapper

    printer = timed("progress", progress.ProgressPrinter.__call__)
    printer_iv = timed("progress_iv", printer)

    def show(self: Any, event: Any) -> None:
        (printer_iv if isinstance(event, progress.IntervalProgress) else printer)(self, event)

    progress.ProgressPrinter.__call__ = show  # type: ignore[method-assign]
    run.ParentHooks.interval = timed("hook", run.ParentHooks.interval)  # type: ignore[method-assign]
    sampler.Sampler._loop = timed("sampler", sampler.Sampler._loop)  # type: ignore[method-assign]
    drive = runtime._drive

    async def drive_timed(*a: Any) -> Any:
        t, w = time.thread_time(), time.monotonic()
        try:
            return await drive(*a)
        finally:
            cpu["drive"] += time.thread_time() - t
            cpu["wall"] += time.monotonic() - w

    runtime._drive = drive_timed  # type: ignore[assignment]
    sys.argv = ["perfopt-engine", "apply", spec, "--profile", "baseline", "--no-hypotheses",
                "--no-history"]
    with contextlib.suppress(SystemExit):
        cli_main()
    Path(out).write_text(json.dumps(cpu), encoding="utf-8")


def one(url: str, rate: float, seconds: float, sampler_max_s: float) -> list[float]:
    with tempfile.TemporaryDirectory() as work:
        spec, out = Path(work) / "peer.yaml", Path(work) / "cpu.json"
        spec.write_text(SPEC.format(url=url, rate=f"{rate:g}", seconds=f"{seconds:g}",
                                    conns=50), encoding="utf-8")
        master, slave = os.openpty()
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(spec), str(out),
                                 str(sampler_max_s)],
                                cwd=work, stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave, close_fds=True)
        os.close(slave)
        drain = threading.Thread(target=_drain, args=(master,), daemon=True)
        drain.start()
        proc.wait()
        drain.join(5)
        os.close(master)
        cpu = json.loads(out.read_text())
        v = json.loads((Path(work) / "reports" / "peer-latest.json").read_text())
    wall = cpu["wall"] or 1.0
    whole = float(v["specs"][0]["runs"][0]["validity"]["generator_cpu_pct"])
    drive_rest = cpu["drive"] - cpu["hook"]
    hook_only = cpu["hook"] - cpu["progress_iv"]
    return [100 * x / wall for x in (cpu["progress"], hook_only, cpu["sampler"],
                                     drive_rest)] + [whole]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--sampler-max-s", type=float, default=0.0,
                    help="the sampler's longest period (0: the engine's own)")
    ap.add_argument("--child", nargs=3, metavar=("SPEC", "OUT", "SAMPLER_MAX_S"))
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    with nginx() as url:
        runs = [one(url, a.rate, a.seconds, a.sampler_max_s) for _ in range(a.rounds)]
    print(f"### Idle cost at {a.rate:g}/s, {a.seconds:g} s runs, median of {a.rounds} "
          f"(load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})\n")
    print("| part | % of one core |\n|---|---:|")
    for i, name in enumerate(PARTS):
        print(f"| {name} | {statistics.median(r[i] for r in runs):.2f} |")
    print(f"\n(command: python benchmarks/peer_idle.py --rounds {a.rounds} "
          f"--seconds {a.seconds:g} --rate {a.rate:g} --sampler-max-s {a.sampler_max_s:g})")


if __name__ == "__main__":
    main()
