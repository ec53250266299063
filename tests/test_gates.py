"""The gate stage fails closed: typos, missing data and nonsense statistics never pass."""

from __future__ import annotations

from pathlib import Path

from engine.gates import unknown_gate_error
from engine.spec.loader import load_text
from engine.spec.model import Spec
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
