"""The example specs in tests/fixtures/profiles: one per profile kind, all valid."""

from __future__ import annotations

import pytest

from tests.support.analysis import demo_args, fixture_spec

KINDS = {"bottlenecks": "baseline", "stress": "stress", "soak": "soak", "spike": "spike",
         "capacity": "capacity"}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_example_spec_loads_with_its_profile(name: str) -> None:
    spec = fixture_spec(name)
    profile = spec.profile(KINDS[name])
    assert profile is not None and profile.kind == KINDS[name]
    # the demo's own --host/--port/--fix never leak into the extra flags a test passes on
    _, extra = demo_args(spec)
    assert not {"--host", "--port", "--fix"} & set(extra)


def test_profile_fields_reach_the_records() -> None:
    stress = fixture_spec("stress").profile("stress")
    assert stress is not None and stress.stop_when is not None
    assert (stress.start_rate, stress.step_rate, stress.max_rate) == (10.0, 10.0, 60.0)
    assert stress.stop_when.p95_s == pytest.approx(0.1)
    soak = fixture_spec("soak")
    assert demo_args(soak)[1][-2:] == ("--leak-kb", "64")
    assert "--leak-kb" not in demo_args(soak, without=("--leak-kb",))[1]
    capacity = fixture_spec("capacity")
    assert capacity.cost_per_hour == 0.5
    cap = capacity.profile("capacity")
    assert cap is not None and cap.multipliers == (3.0, 5.0, 10.0)
