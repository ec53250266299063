"""What one timer wake-up costs on this machine: the floor under the open model's idle CPU.

Run by hand (noisy on a shared machine):

    python benchmarks/wakeup_floor.py --rates 10,100,200,400 --seconds 5

For each rate, a loop that does nothing but re-arm a timerfd for the next tick and wait
for it, timed in its own thread CPU time: once in C (compiled here with gcc, epoll_wait, no
Python; skipped without gcc) and once through uvloop and a Python callback (the engine's
PreciseTimer, as the Python scheduler uses it). Prints CPU per wake-up and percent of one
core. A generator that keeps a schedule cannot cost less than this per send.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop

from engine.driver.timer import PreciseTimer

C_LOOP = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
static int64_t ns(clockid_t c) { struct timespec t; clock_gettime(c, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(int argc, char **argv) {
  int rate = atoi(argv[1]); double secs = atof(argv[2]); long n = (long)(rate * secs);
  prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0);
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  int64_t start = ns(CLOCK_MONOTONIC), cpu0 = ns(CLOCK_THREAD_CPUTIME_ID);
  for (long i = 1; i <= n; i++) {
    int64_t at = start + i * 1000000000LL / rate;
    struct itimerspec s = {0}; s.it_value.tv_sec = at / 1000000000; s.it_value.tv_nsec = at % 1000000000;
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL);
    struct epoll_event out; epoll_wait(ep, &out, 1, 1000);
  }
  printf("%lld %lld\n", (long long)(ns(CLOCK_THREAD_CPUTIME_ID) - cpu0),
         (long long)(ns(CLOCK_MONOTONIC) - start));
  return 0;
}
"""


def c_loop(exe: Path, rate: int, seconds: float) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of the C loop."""
    out = subprocess.run([str(exe), str(rate), str(seconds)], capture_output=True, text=True,
                         timeout=seconds + 10, check=True).stdout.split()
    return int(out[0]) / 1e9, int(out[1]) / 1e9


def py_loop(rate: int, seconds: float) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of the uvloop + Python callback loop."""
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        timer = PreciseTimer.create()
        if timer is None:
            sys.exit("no timerfd on this platform")
        total, done = int(rate * seconds), loop.create_future()
        start, count = time.monotonic_ns(), [0]

        def tick() -> None:
            count[0] += 1
            if count[0] >= total:
                loop.remove_reader(timer.fd)
                done.set_result(None)
                return
            timer.arm(start + (count[0] + 1) * 1_000_000_000 // rate)

        cpu0, wall0 = time.thread_time(), time.monotonic()
        loop.add_reader(timer.fd, tick)
        timer.arm(start + 1_000_000_000 // rate)
        await done
        return time.thread_time() - cpu0, time.monotonic() - wall0

    return uvloop.run(main())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="10,100,200,400")
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        exe: Path | None = None
        gcc = shutil.which("gcc")
        if gcc:
            src, exe = Path(tmp) / "loop.c", Path(tmp) / "loop"
            src.write_text(C_LOOP)
            subprocess.run([gcc, "-O2", "-o", str(exe), str(src)], check=True)
        print("| wake-ups /s | C: µs per wake-up | C: % of a core | uvloop+Python: µs per "
              "wake-up | uvloop+Python: % of a core |")
        print("|---:|---:|---:|---:|---:|")
        for rate in rates:
            n = rate * args.seconds
            c = c_loop(exe, rate, args.seconds) if exe else None
            p = py_loop(rate, args.seconds)
            c_txt = f"{c[0] / n * 1e6:.1f} | {c[0] / c[1] * 100:.2f}" if c else "– | –"
            print(f"| {rate:,} | {c_txt} | {p[0] / n * 1e6:.1f} | {p[0] / p[1] * 100:.2f} |")
    print(f"\n(command: python benchmarks/wakeup_floor.py --rates {args.rates} "
          f"--seconds {args.seconds:g})")


if __name__ == "__main__":
    main()
