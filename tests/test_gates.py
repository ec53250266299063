"""The gate stage fails closed: typos, missing data and nonsense statistics never pass."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.analysis.soak import SoakAnalysis, SoakWindow, TrendFit
from engine.analysis.spike import SpikeAnalysis
from engine.gates import evaluate_gates, exit_code, load_gate, spec_verdict, unknown_gate_error
from engine.outcome import GateResult, SpecOutcome
from engine.plan import SpecPlan
from engine.result import Status
from engine.spec.loader import load_text
from engine.spec.model import Gate, Spec
from tests.support.specs import VALID, run_cli, write_spec


def _spec(text: str = VALID) -> Spec:
    specs, errors = load_text(text)
    assert not errors, errors
    return specs[0]


def test_known_gate_names_and_kinds_are_accepted() -> None:
    spec = _spec()
    assert unknown_gate_error([spec], ["slo", "validity", "error_budget"]) == ""


def test_unknown_gate_names_the_known_gates_and_kinds() -> None:
    message = unknown_gate_error([_spec()], ["slo", "slos"])
    assert message.startswith("unknown gate 'slos': known gates are ")
    assert "(kinds: " in message and "slo" in message and "validity" in message


def test_apply_with_an_unknown_gate_is_a_usage_error_before_any_load(tmp_path: Path) -> None:
    """--dry-run included: the check runs right after the specs load, before any plan."""
    spec = write_spec(tmp_path, VALID)
    for extra in (["--dry-run"], []):
        # The target URL is closed: reaching the driver would fail differently (exit 3).
        proc = run_cli("apply", str(spec), "--gate", "slos", "--no-history", *extra,
                       cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "unknown gate 'slos': known gates are" in proc.stderr
        assert "(kinds: " in proc.stderr
        assert not (tmp_path / "reports").exists()


def test_apply_dry_run_with_a_known_gate_kind_succeeds(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, VALID)
    proc = run_cli("apply", str(spec), "--gate", "slo", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# --- load gate: soak leak / degradation, spike recovery -------------------------------

def _outcome(spec: Spec | None = None) -> SpecOutcome:
    spec = spec or _spec()
    return SpecOutcome(spec, SpecPlan(spec, (), ()))


def _fit(verdict: str) -> TrendFit:
    return TrendFit("rss_bytes", verdict, 100, 1e5, 5e4, 2e5, 50e6, 60.0, 6e6, 4e6)


def _soak(verdict: str = "NO_LEAK", p95_change: float | None = 0.02,
          tput_change: float | None = 0.0, p95_s: float = 0.02) -> SoakAnalysis:
    windows = tuple(SoakWindow(t, 10.0, p95_s, 50.0, 0.0, 50 << 20, 10.0, 4.0)
                    for t in (0.0, 10.0, 20.0, 30.0, 40.0, 50.0))
    return SoakAnalysis(60.0, windows, (_fit(verdict),), p95_change, tput_change, 0, 12.0)


def _spike(recovered: bool) -> SpikeAnalysis:
    return SpikeAnalysis(30.0, 300.0, 0.01, 0.0, 0.01, 0.2, 0.1, 2.0 if recovered else None,
                         recovered, 0.2, 8)


def _load(outcome: SpecOutcome) -> GateResult:
    return load_gate(outcome, Gate("load", "load"))


def test_load_gate_is_a_default_gate() -> None:
    assert "load" in [g.kind for g in _spec().gates]


def test_load_gate_without_any_analysis_is_inconclusive_not_pass() -> None:
    result = _load(_outcome())
    assert result.status == Status.INCONCLUSIVE
    assert "no load-test analysis ran" in result.message


def test_load_gate_fails_on_a_leaking_soak() -> None:
    outcome = _outcome()
    outcome.soak = _soak("LEAK")
    result = _load(outcome)
    assert result.status == Status.FAIL
    assert "rss_bytes leak" in result.message


def test_load_gate_fails_on_soak_degradation_but_not_on_sub_millisecond_noise() -> None:
    outcome = _outcome()
    outcome.soak = _soak(p95_change=0.8, p95_s=0.02)   # 20 ms -> 36 ms
    assert _load(outcome).status == Status.FAIL
    outcome.soak = _soak(p95_change=0.8, p95_s=0.001)  # 1 ms -> 1.8 ms: jitter
    assert _load(outcome).status == Status.PASS
    outcome.soak = _soak(tput_change=-0.3)
    assert "throughput degraded" in _load(outcome).message


def test_load_gate_soak_without_a_leak_verdict_is_inconclusive() -> None:
    outcome = _outcome()
    outcome.soak = _soak("INCONCLUSIVE")
    assert _load(outcome).status == Status.INCONCLUSIVE


def test_load_gate_fails_on_an_unrecovered_spike_and_passes_a_recovered_one() -> None:
    outcome = _outcome()
    outcome.spike = _spike(recovered=True)
    assert _load(outcome).status == Status.PASS
    outcome.spike = _spike(recovered=False)
    result = _load(outcome)
    assert result.status == Status.FAIL and "did not recover" in result.message


def test_load_gate_inconclusive_does_not_block_the_exit_code() -> None:
    outcome = _outcome()
    outcome.gates = [replace(g, decides_exit=True) for g in evaluate_gates(outcome)
                     if g.kind == "load"]
    assert outcome.gates[0].status == Status.INCONCLUSIVE
    assert exit_code([spec_verdict(outcome)]) == 0
