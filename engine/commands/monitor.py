"""``perfopt-engine monitor [PATH ...]``: production SLO compliance from Prometheus (#17).

For every SLO with a ``production:`` SLI: compliance over the window and per day, the
error budget, burn rates and the multi-window alert state, and a verdict. Exit 0 when
every SLO is COMPLIANT, 1 when one is BREACHED or burning at a page-level rate, 3 when
Prometheus cannot be reached, rejects a query, or the data is too thin to judge.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.commands.specs import load_or_report
from engine.production.client import PrometheusClient, PrometheusError
from engine.production.doc import iso, status_doc
from engine.production.evaluate import SloQueryRejected, Window, evaluate_all
from engine.production.judge import Outcome, overall
from engine.production.result import SloStatus
from engine.production.text import status_lines
from engine.result import ExitCode
from engine.spec.model import Spec
from engine.spec.production_model import MIN_WINDOW_S
from engine.units import UnitError, parse_duration

MIN_DAYS_TEXT = f"{MIN_WINDOW_S / 86400:g}d"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["specs/"],
                        help="spec files or folders (default: specs/)")
    parser.add_argument("--at", metavar="TIME", help="end of the window (ISO 8601 or unix "
                        "seconds; default now)")
    parser.add_argument("--window", metavar="DURATION", help="compliance window (default: "
                        f"the spec's production.window, else 14d; at least {MIN_DAYS_TEXT})")
    parser.add_argument("--deployed-at", metavar="TIME", help="deploy time for the before/"
                        "after regression check (default: production.deployed_at)")
    parser.add_argument("--json", metavar="FILE", help="also write the statuses as JSON")
    parser.add_argument("--run-flow", action="store_true", help="when an SLO is breached or "
                        "burning at page level, run that spec's optimization flow (as apply "
                        "does) with trigger slo-breach, the breach at the top of its report")
    parser.add_argument("--out", metavar="DIR", help="--run-flow: report folder (default: "
                        "the spec's report.dir)")


def _time(text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        raise ValueError(f"expected a time with its zone (Z or +01:00), got {text!r}")
    return stamp.timestamp()


def run(args: argparse.Namespace) -> int:
    result = load_or_report(args.paths)
    if result is None:
        return ExitCode.SPEC_INVALID
    specs = [s for s in result.specs if s.production and any(o.production for o in s.slos)]
    if not specs:
        print("monitor: no spec has a production: block with production SLIs "
              "(slos[].production)", file=sys.stderr)
        return ExitCode.SPEC_INVALID
    try:
        at = _time(args.at, time.time())
        window_s = parse_duration(args.window) if args.window else None
    except (ValueError, UnitError) as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return ExitCode.SPEC_INVALID
    if window_s is not None and window_s < MIN_WINDOW_S:
        print(f"monitor: --window must be at least {MIN_DAYS_TEXT}", file=sys.stderr)
        return ExitCode.SPEC_INVALID
    return _monitor(specs, at, window_s, args)


def _monitor(specs: list[Spec], at: float, window_s: float | None,
             args: argparse.Namespace) -> int:
    found: list[tuple[Spec, list[SloStatus]]] = []
    for spec in specs:
        try:
            statuses = evaluate_spec(spec, at, window_s, args.deployed_at)
        except (PrometheusError, SloQueryRejected) as exc:
            print(f"monitor: {spec.name}: {exc}; no SLO judged", file=sys.stderr)
            return ExitCode.RUN_INVALID
        except ValueError as exc:
            print(f"monitor: {exc}", file=sys.stderr)
            return ExitCode.SPEC_INVALID
        found.append((spec, statuses))
        for st in statuses:
            print("\n".join(status_lines(spec.name, st)))
    if args.json:
        Path(args.json).write_text(json.dumps(monitor_doc(found, at), indent=2) + "\n",
                                   encoding="utf-8")
    code = exit_code([st for _, sts in found for st in sts])
    if args.run_flow:
        return run_flow([spec for spec, sts in found if exit_code(sts) == ExitCode.GATE_FAILED],
                        args, code)
    return code


def run_flow(breached: list[Spec], args: argparse.Namespace, code: int) -> int:
    """The optimization flow of every breached spec with trigger slo-breach (the slo-breach
    trigger from production); monitor's exit code unless the flow could not run (2, 3)."""
    if not breached:
        print("monitor: no production SLO breached or paging: the flow is not triggered")
        return code
    from engine.commands import apply
    from engine.plan import plan_spec
    from engine.production.shape import resolve_all

    parser = argparse.ArgumentParser()
    apply.add_arguments(parser)
    apply_args = parser.parse_args([*(["--out", args.out] if args.out else [])])
    names = ", ".join(s.name for s in breached)
    print(f"monitor: production breach in {names}: running the flow with trigger slo-breach")
    shaped = resolve_all([replace(s, trigger="slo-breach") for s in breached])
    if isinstance(shaped, str):
        print(f"monitor: {shaped}; the flow was not run", file=sys.stderr)
        return ExitCode.RUN_INVALID
    plans = [plan_spec(s) for s in shaped]
    flow = apply.run_plans(apply_args, plans)
    return flow if flow in (ExitCode.SPEC_INVALID, ExitCode.RUN_INVALID) else code


def evaluate_spec(spec: Spec, at: float, window_s: float | None,
                  deployed_at: str | None) -> list[SloStatus]:
    """The production statuses of one spec's SLOs (raises PrometheusError, SloQueryRejected)."""
    prod = spec.production
    assert prod is not None
    client = PrometheusClient(prod.prometheus.url, prod.prometheus.headers,
                              prod.prometheus.timeout_s)
    deployed = _time(deployed_at, 0.0) if deployed_at else prod.deployed_at
    window = Window(at, window_s or prod.window_s, deployed)
    return evaluate_all(client, [s for s in spec.slos if s.production], window)


def exit_code(statuses: list[SloStatus]) -> int:
    """The SLOs' one outcome (judge.overall) as an exit code: 1 on a breach or a page-level
    burn, 3 when data is missing, else 0 - what the checklist's compliance row says."""
    return _EXIT[overall(statuses)]


_EXIT: dict[Outcome, int] = {"FAIL": ExitCode.GATE_FAILED, "INCONCLUSIVE": ExitCode.RUN_INVALID,
                             "PASS": ExitCode.PASS}


def monitor_doc(found: list[tuple[Spec, list[SloStatus]]], at: float) -> dict[str, Any]:
    """The JSON monitor --json writes."""
    return {"at": iso(at), "specs": [
        {"spec": spec.name, "slos": [status_doc(st) for st in sts]} for spec, sts in found]}
