"""Property tests: whatever text arrives, the loader answers with its own errors, never a crash."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.spec.errors import SpecError
from engine.spec.loader import load_file, load_text
from tests.support.specs import VALID

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.text(max_size=12), st.integers(), st.floats(allow_nan=False),
                    st.booleans(), st.sampled_from(["500/s", "1.5s", "< 200ms", "99.9%", "auto"]))
keys = st.sampled_from(["apiVersion", "kind", "metadata", "name", "trigger", "target", "url",
                        "journeys", "request", "path", "slos", "load", "baseline", "rate",
                        "duration", "weight", "x", "objective", "sli"])
yamlish = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=20)


def _dump(value: object, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        return "".join(f"{pad}{k}:\n{_dump(v, indent + 2)}" for k, v in value.items())
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        return "".join(f"{pad}-\n{_dump(v, indent + 2)}" for v in value)
    return f"{pad}{value!r}\n"


def _assert_only_spec_errors(text: str) -> None:
    specs, errors = load_text(text, "fuzz.yaml", Path("."))
    assert all(isinstance(e, SpecError) for e in errors)
    for e in errors:
        assert e.line >= 1 and e.column >= 1 and str(e).startswith("fuzz.yaml:")
    assert specs or errors or not text.strip() or all(
        ln.strip().startswith("#") or not ln.strip() or ln.strip() in ("---", "...")
        for ln in text.splitlines())


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    _assert_only_spec_errors(text)


@SETTINGS
@given(yamlish)
def test_arbitrary_yaml_structures(value: object) -> None:
    _assert_only_spec_errors(_dump(value))


@SETTINGS
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.text(min_size=1, max_size=8))
def test_mutated_valid_spec(position: int, insert: str) -> None:
    _assert_only_spec_errors(VALID[:position] + insert + VALID[position:])


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_file(tmp_path_factory: object, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.yaml"  # type: ignore[attr-defined]
    path.write_bytes(data)
    _specs, errors = load_file(path)
    assert all(isinstance(e, SpecError) for e in errors)
