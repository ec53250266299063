"""Power and error rates of the gates on the real demo service (run by hand, not in CI).

Four experiments, each `perfopt-engine apply` on the embedded demo with the real driver:

1. regression A-vs-A: the gate against a history of the same unchanged service (FAIL = a
   false alarm). The run is the quick start's baseline as shipped (its rate and length, read
   from specs/user-lookup.yaml, as is its history baseline: `window: 7d`, every earlier run;
   `--last 3` for the earlier tables) on its lookup journey before the index, whose
   milliseconds a 20% slowdown moves beyond the gate's 1 ms minimum effect;
2. detection: the same service with a 20% slowdown (`--slowdown-pct 20`), judged against
   a copy of that history (FAIL = detected);
3. hypothesis A-vs-A: both variants the same service, expecting `p50 <= 0%`, `rounds:
   auto` up to `--hyp-max-rounds` (default 6, the engine's) (CONFIRMED = a false confirmation);
4. H1: the shipped quick start (specs/user-lookup.yaml) as shipped (`rounds: auto` up to the
   default `max_rounds` of 6), H2 left out.

    python benchmarks/power.py                 # 40 / 40 / 40 / 20 repetitions
    python benchmarks/power.py --quick         # 4 / 4 / 4 / 2: a smoke run

Prints one line per repetition as it finishes, then a table with Wilson 95% intervals,
then the slowed runs' observed p95 shift over their rep's A run (the planted fault's size
on this machine) and the gate's statuses where that shift reached +20%.
Load goes only to the demo on 127.0.0.1; every run is bounded (--max-run-time).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK_START = ROOT / "specs" / "user-lookup.yaml"
GATE_SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: power, component: demo}}
trigger: proactive
target:
  demo: {{port: {port}, fix: [pool, cache], args: [{args}]}}
journeys:
  - {{name: lookup, weight: 100, request: {{method: GET, path: "/users?email=u{{rand:1-100000}}@demo.test"}}}}
load:
  defaults: {{connections: 16, timeout: 5s}}
  baseline: {{rate: {rate:g}/s, duration: {seconds:g}s}}
gates:
  - {{name: regression, kind: regression}}
report: {{formats: [json], dir: reports}}
history: {{path: .perfopt/history.db, baseline: {baseline}}}
"""
HYP_SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: aahyp, component: demo}}
trigger: proactive
target:
  demo: {{port: {port}, fix: [all]}}
journeys:
  - {{name: dash, weight: 50, request: {{method: GET, path: /dashboard}}}}
  - {{name: user, weight: 50, request: {{method: GET, path: "/users/{{rand:1-100000}}"}}}}
load:
  baseline: {{rate: 150/s, duration: {seconds}s, connections: 16}}
hypotheses:
  - id: AA
    title: no-op change
    type: other
    expect: {{metric: p50, change: "<= 0%"}}
    effort: 1h
    max_rounds: {max_rounds}
    baseline: {{target: {{demo: {{port: {a}, fix: [all]}}}}}}
    candidate: {{target: {{demo: {{port: {b}, fix: [all]}}}}}}
gates:
  - {{name: hypotheses, kind: hypothesis}}
report: {{formats: [json], dir: reports}}
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _apply(work: Path, spec_text: str, name: str, flags: list[str]) -> dict:  # type: ignore[type-arg]
    spec = work / f"{name}.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    report = work / "reports" / f"{name}-latest.json"
    report.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "engine", "apply", str(spec), "--quiet",
                    "--max-run-time", "60", *flags],
                   cwd=work, capture_output=True, text=True, timeout=900, check=False)
    if not report.exists():
        return {}
    doc: dict = json.loads(report.read_text())  # type: ignore[type-arg]
    return doc["specs"][0]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class GateRun:
    """How the regression experiments run: the quick start's baseline profile and history
    baseline as shipped, unless told otherwise."""

    rate: float
    seconds: float
    baseline: str
    """The spec's ``history.baseline`` in flow style, e.g. '{mode: window, window: 7d}'."""


def shipped_gate_run(seconds: float | None = None, last: int | None = None) -> GateRun:
    """The quick start's baseline profile (rate, length) and history baseline, read from the
    spec, not a copy of its numbers; ``seconds`` or ``last`` (baseline `last: N`) override."""
    from engine.spec.loader import load_file
    specs, errors = load_file(QUICK_START)
    profile = specs[0].profile("baseline") if specs and not errors else None
    if profile is None or profile.rate is None:
        raise SystemExit(f"{QUICK_START}: no open-model baseline profile to take the run from")
    policy = specs[0].history.baseline
    if last is not None:
        baseline = f"{{mode: last, last: {last}}}"
    elif policy.mode == "window":
        baseline = f"{{mode: window, window: {policy.window_s / 86400:g}d}}"
    elif policy.mode == "last":
        baseline = f"{{mode: last, last: {policy.last}}}"
    else:
        raise SystemExit(f"{QUICK_START}: baseline mode {policy.mode!r}: pass --last N")
    return GateRun(profile.rate, seconds or profile.duration_s, baseline)


def _gate_spec(slowdown: float, run: GateRun) -> str:
    args = f"--slowdown-pct, '{slowdown:g}'" if slowdown else ""
    return GATE_SPEC.format(port=_port(), args=args, rate=run.rate, seconds=run.seconds,
                            baseline=run.baseline)


def _pooled(spec: dict) -> str:  # type: ignore[type-arg]
    """The pooled p50 and p95 checks: change (baseline -> current), interval, status (why a
    rep decided: a point under the tolerance from a slow baseline shows as a high first
    value)."""
    out = []
    for c in (spec.get("regression") or {}).get("checks") or []:
        if c.get("journey") is None and c.get("metric") in ("p50", "p95"):
            lo, hi, ch = c.get("ci_low"), c.get("ci_high"), c.get("change")
            span = f"[{lo:+.0%}, {hi:+.0%}]" if lo is not None and hi is not None else "[n/a]"
            a, b = c.get("baseline"), c.get("current")
            values = f" ({a * 1e3:.2f} -> {b * 1e3:.2f} ms)" if a and b else ""
            out.append(f"{c['metric']} {ch:+.1%}{values} {span} {c['status']}"
                       if ch is not None else f"{c['metric']} n/a {c['status']}")
    return "; ".join(out)


def _failed(spec: dict) -> str:  # type: ignore[type-arg]
    """An A-vs-A false alarm's failed checks and notes (a busier host, a slower machine, a
    late generator): what to look at."""
    reg = spec.get("regression") or {}
    fails = [c.get("message", "") for c in reg.get("checks") or [] if c.get("status") == "FAIL"]
    note = "".join(f" ({n})" for n in reg.get("notes") or [])
    speed = reg.get("machine_speed") or {}
    if "slowdown" in speed and not reg.get("machine_note"):  # what the probe saw, said or not
        note += f" (machine-speed probe {speed['slowdown']:+.0%} vs the baseline runs)"
    lag = reg.get("generator_lag") or {}
    if "current_lag_p99_s" in lag and not reg.get("lag_note"):  # and the generator's lag
        note += (f" (generator lag p99 {lag['current_lag_p99_s'] * 1e3:.2f} ms vs "
                 f"{lag['baseline_lag_p99_s'] * 1e3:.2f} ms)")
    return f"; A-vs-A FAILED on: {' | '.join(fails)}{note}" if fails else ""


def _again(spec: dict) -> str:  # type: ignore[type-arg]
    """' (measured again: <why>)' when apply set the first run aside on a slower machine
    (engine.history.record.remeasure), else ''."""
    if not any(str(r.get("id", "")).endswith("-set-aside") for r in spec.get("runs") or []):
        return ""
    why = next((m for m in spec.get("messages") or [] if " measured again: " in m), "")
    return f" (measured again: {why.split(' measured again: ', 1)[-1].split(';')[0]})"


def _p95(spec: dict) -> float | None:  # type: ignore[type-arg]
    """The judged (last) run's p95 in seconds, None when the apply left no run."""
    runs = spec.get("runs") or []
    value = (runs[-1].get("latency") or {}).get("p95") if runs else None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _planted(b: dict, a: dict) -> float | None:  # type: ignore[type-arg]
    """The observed p95 shift of one rep: the slowed run's p95 over the A run measured right
    after it, minus 1: the planted fault plus the noise between two runs, so an estimate of
    the fault's size only over many reps. None when either run was measured again (the
    judged run then met a machine slower than its partner did) or left no p95."""
    if _again(b) or _again(a):
        return None
    pb, pa = _p95(b), _p95(a)
    return pb / pa - 1.0 if pb is not None and pa is not None else None


@dataclass
class Regression:
    """What the regression experiments counted: the gate's statuses and, per rep, the size
    of the planted fault at p95 paired with the slowed run's status."""

    aa: Counter[str]
    slow: Counter[str]
    planted: list[tuple[float, str]]


def regression(reps: int, run: GateRun) -> Regression:
    """The A-vs-A and slowed-down gate statuses: each slowed run is judged against a copy of
    the A history so it never enters the baseline."""
    aa: Counter[str] = Counter()
    slow: Counter[str] = Counter()
    planted: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work, other = Path(tmp) / "a", Path(tmp) / "b"
        work.mkdir()
        for _ in range(3):  # seeds the history (the baselines of the first reps)
            _apply(work, _gate_spec(0, run), "power", [])
        for i in range(reps):
            shutil.rmtree(other, ignore_errors=True)
            shutil.copytree(work / ".perfopt", other / ".perfopt")
            b = _apply(other, _gate_spec(20, run), "power", [])
            a = _apply(work, _gate_spec(0, run), "power", [])
            sa = a.get("regression", {}).get("status", "ERROR")
            sb = b.get("regression", {}).get("status", "ERROR")
            aa[sa] += 1
            slow[sb] += 1
            shift = _planted(b, a)
            if shift is not None:
                planted.append((shift, sb))
            size = f" (p95 {shift:+.1%} vs this rep's A run)" if shift is not None else ""
            print(f"regression rep {i + 1}: A-vs-A {sa}{_again(a)}, 20% slowdown {sb}"
                  f"{_again(b)}{size}; slowdown {_pooled(b)}{_failed(a)}", flush=True)
    return Regression(aa, slow, planted)


def _planted_lines(planted: list[tuple[float, str]]) -> list[str]:
    """The observed p95 shift of the slowed run over its rep's A run (median and quartiles
    over the reps that were not measured again: the median estimates the planted fault's
    size), and the gate's statuses among the reps whose shift reached the +20% the target
    names. That subset leans to reps where noise added to the fault, which the gate saw
    too: a look at the gate's own miss rate, never the headline."""
    if not planted:
        return []
    sizes = [s for s, _ in planted]
    q1, med, q3 = (statistics.quantiles(sizes, n=4, method="inclusive") if len(sizes) > 1
                   else sizes * 3)
    big = Counter(status for s, status in planted if s >= 0.20)
    n = sum(big.values())
    lo, hi = wilson(big["FAIL"], n)
    return [f"observed p95 shift (slowed run / the same rep's A run, reps not measured "
            f"again): median {med:+.1%}, quartiles {q1:+.1%}..{q3:+.1%}; >= +20% in {n} of "
            f"{len(planted)} reps",
            f"detection where the observed p95 shift was >= +20%: FAIL {big['FAIL']}/{n}"
            f" ({lo:.1%}..{hi:.1%}), blocked (FAIL or INVALID) "
            f"{big['FAIL'] + big['INVALID']}/{n}; {dict(sorted(big.items()))}"]


def hypothesis_aa(reps: int, seconds: int, max_rounds: int) -> Counter[str]:
    out: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(reps):
            text = HYP_SPEC.format(port=_port(), a=_port(), b=_port(), seconds=seconds,
                                   max_rounds=max_rounds)
            doc = _apply(Path(tmp), text, "aahyp", ["--no-history", "--profile", "baseline"])
            hyps = doc.get("hypotheses") or [{}]
            verdict = hyps[0].get("verdict", "ERROR")
            out[verdict] += 1
            print(f"hypothesis A-vs-A rep {i + 1}: {verdict} after {hyps[0].get('rounds')} "
                  f"rounds", flush=True)
    return out


def _h1_spec() -> str:
    """The shipped quick start as shipped (H1 on `rounds: auto`), H2 left out."""
    text = (ROOT / "specs" / "user-lookup.yaml").read_text(encoding="utf-8")
    h1_block = text[text.index("  - id: H1"):text.index("  - id: H2")]
    if re.search(r"^\s+rounds:\s*\d", h1_block, re.MULTILINE):
        raise SystemExit("specs/user-lookup.yaml pins H1's rounds: this benchmark measures auto")
    return text[:text.index("  - id: H2")] + text[text.index("\ngates:") + 1:]


def h1(reps: int) -> Counter[str]:
    out: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(reps):
            doc = _apply(Path(tmp), _h1_spec(), "user-lookup",
                         ["--no-history", "--profile", "baseline"])
            hyp = (doc.get("hypotheses") or [{}])[0]
            out[hyp.get("verdict", "ERROR")] += 1
            print(f"H1 rep {i + 1}: {hyp.get('verdict', 'ERROR')} after {hyp.get('rounds')} "
                  f"rounds: {hyp.get('detail', '')}", flush=True)
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _row(name: str, counts: Counter[str], hit: str, target: str) -> str:
    """One table row; ``hit``: the status counted, or several joined by '+' (FAIL+INVALID:
    an A-vs-A run blocked either way is a false alarm)."""
    n, k = sum(counts.values()), sum(counts[h] for h in hit.split("+"))
    lo, hi = wilson(k, n)
    rate = f"{k / n:.1%}" if n else "n/a"
    return (f"| {name} | {n} | {dict(sorted(counts.items()))} | {hit} {k}/{n} = {rate} "
            f"| {lo:.1%}..{hi:.1%} | {target} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40, help="repetitions of 1-3")
    parser.add_argument("--h1-reps", type=int, default=20, help="repetitions of H1")
    parser.add_argument("--seconds", type=float, default=None,
                        help="run length of 1-2 (s; default: the quick start's baseline)")
    parser.add_argument("--last", type=int, default=None, metavar="N",
                        help="baseline `last: N` for 1-2 (default: the quick start's "
                             "history baseline)")
    parser.add_argument("--hyp-seconds", type=int, default=2, help="run length of 3 (s)")
    parser.add_argument("--hyp-max-rounds", type=int, default=6,
                        help="max_rounds of 3 (default 6, the engine's)")
    parser.add_argument("--quick", action="store_true", help="4 repetitions, 2 of H1")
    parser.add_argument("--only", action="append", choices=["regression", "h1", "hyp"],
                        help="run only these experiments (repeatable; default all)")
    args = parser.parse_args()
    reps, h1_reps = (4, 2) if args.quick else (args.reps, args.h1_reps)
    started = time.monotonic()
    only = set(args.only or ["regression", "h1", "hyp"])
    run = shipped_gate_run(args.seconds, args.last)
    print(f"regression experiments: {run.rate:g}/s for {run.seconds:g} s, baseline "
          f"{run.baseline}")
    gate = regression(reps, run) if "regression" in only \
        else Regression(Counter(), Counter(), [])
    verdicts = h1(h1_reps) if "h1" in only else Counter()
    hyp = hypothesis_aa(reps, args.hyp_seconds, args.hyp_max_rounds) if "hyp" in only \
        else Counter()
    print(f"\ntotal {time.monotonic() - started:.0f} s\n")
    print("| experiment | reps | outcomes | rate | Wilson 95% | target |")
    print("|---|---:|---|---|---|---|")
    print(_row("regression gate, A vs A", gate.aa, "FAIL+INVALID", "false alarms <= 5%"))
    print(_row("regression gate, 20% slowdown", gate.slow, "FAIL", "detection >= 80%"))
    print(_row("hypothesis A vs A `p50 <= 0%`", hyp, "CONFIRMED", "false confirmations <= 5%"))
    print(_row("H1 quick start, rounds auto", verdicts, "CONFIRMED", "20 of 20"))
    for line in _planted_lines(gate.planted):
        print(f"\n{line}")


if __name__ == "__main__":
    main()
