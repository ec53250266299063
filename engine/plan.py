"""Plan stage: which runs a spec and its trigger call for (printed by ``apply --dry-run``).

The trigger shapes the default: capacity-planning runs stress and capacity,
proactive runs soak and spike, and so on (``TRIGGER_PROFILES``). Profiles the
spec defines but the trigger does not call for are listed as skipped with the
flag that runs them. Hypotheses always run (step 4 of the flow).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.spec.model import PROFILE_KINDS, Hypothesis, LoadProfile, ProfileKind, Spec

PROFILE_CHOICES = PROFILE_KINDS

TRIGGER_PROFILES: dict[str, tuple[str, ...]] = {
    "slo-breach": ("baseline", "stress"),
    "capacity-planning": ("baseline", "stress", "capacity"),
    "cost-reduction": ("baseline", "capacity"),
    "user-complaint": ("baseline", "spike"),
    "proactive": ("baseline", "soak", "spike"),
    "new-feature": ("baseline", "stress", "spike"),
}
TARGET_START_S = 3.0


@dataclass(frozen=True)
class PlannedStep:
    """One thing apply will do for a spec."""

    kind: str
    """'profile' (baseline/soak/spike), 'stress', 'capacity' or 'hypothesis'."""
    profile: LoadProfile
    description: str
    est_seconds: float
    hypothesis: Hypothesis | None = None


@dataclass(frozen=True)
class SpecPlan:
    spec: Spec
    steps: tuple[PlannedStep, ...]
    skipped: tuple[tuple[str, str], ...]

    @property
    def est_seconds(self) -> float:
        return sum(s.est_seconds for s in self.steps) + TARGET_START_S


def constant_profile(profile: LoadProfile, rate: float, duration_s: float,
                     kind: ProfileKind) -> LoadProfile:
    """A constant-rate, open-model derivative of ``profile``: one stress step or capacity point."""
    return dataclasses.replace(profile, kind=kind, rate=rate, duration_s=duration_s,
                               ramp_up_s=0.0, stages=(), rate_csv=None, vus=None,
                               base_rate=None, peak_rate=None)


def capacity_base_rate(spec: Spec, profile: LoadProfile) -> float | None:
    """Capacity multiplies its own ``base`` rate, else the baseline profile's rate."""
    if profile.rate:
        return profile.rate
    baseline = spec.profile("baseline")
    return baseline.rate if baseline else None


def profile_seconds(profile: LoadProfile) -> float:
    """Planned wall time of a single-run profile."""
    if profile.stages:
        return sum(s.duration_s for s in profile.stages)
    return profile.ramp_up_s + profile.duration_s


def plan_spec(spec: Spec, only: set[str] | None = None, hypotheses: bool = True) -> SpecPlan:
    """Steps for one spec: the trigger's profiles (or ``only``), then hypotheses."""
    wanted = set(only) if only else set(TRIGGER_PROFILES[spec.trigger])
    steps: list[PlannedStep] = []
    skipped: list[tuple[str, str]] = []
    for profile in spec.profiles:
        if profile.kind not in wanted:
            skipped.append((profile.name, f"not called for by trigger {spec.trigger}; "
                                          f"run it with --profile {profile.name}"))
            continue
        step = _profile_step(spec, profile)
        if isinstance(step, str):
            skipped.append((profile.name, step))
        else:
            steps.append(step)
    if hypotheses:
        steps.extend(_hypothesis_step(spec, h) for h in spec.hypotheses)
    return SpecPlan(spec, tuple(steps), tuple(skipped))


MAX_STEPS = 50
"""At most this many stress steps, whatever start, step and max_rate say."""


def stress_rates(profile: LoadProfile, max_steps: int = MAX_STEPS) -> list[float]:
    """The step rates: start, start + step, ... up to max_rate (at most ``max_steps``)."""
    if not profile.start_rate or not profile.step_rate or not profile.step_duration_s:
        raise ValueError(f"profile {profile.name!r}: stress needs start, step and step_duration")
    rates: list[float] = []
    rate = profile.start_rate
    while len(rates) < max_steps and (profile.max_rate is None
                                      or rate <= profile.max_rate * (1 + 1e-9)):
        rates.append(rate)
        rate += profile.step_rate
    return rates


def _profile_step(spec: Spec, profile: LoadProfile) -> PlannedStep | str:
    if profile.kind == "stress":
        rates = stress_rates(profile)
        secs = len(rates) * (profile.step_duration_s or 0.0)
        desc = (f"stress: {rates[0]:g}/s -> up to {rates[-1]:g}/s in {len(rates)} steps of "
                f"{profile.step_duration_s:g}s, until an SLO breaks")
        return PlannedStep("stress", profile, desc, secs)
    if profile.kind == "capacity":
        base = capacity_base_rate(spec, profile)
        if base is None:
            return "capacity needs load.capacity.base or a baseline rate to multiply"
        mults = ", ".join(f"{m:g}x" for m in profile.multipliers)
        desc = f"capacity: {base:g}/s x ({mults}), {profile.duration_s:g}s each"
        return PlannedStep("capacity", profile, desc, len(profile.multipliers) * profile.duration_s)
    return PlannedStep("profile", profile, f"{profile.kind}: {_shape_text(profile)}",
                       profile_seconds(profile))


def _shape_text(p: LoadProfile) -> str:
    if p.stages:
        return f"{len(p.stages)} stages over {profile_seconds(p):g}s"
    if p.rate_csv:
        return f"replay {p.rate_csv}"
    if p.peak_rate is not None:
        return (f"{p.base_rate:g}/s, jump to {p.peak_rate:g}/s for {p.spike_s:g}s, "
                f"{p.after_s:g}s recovery")
    if p.vus:
        return f"{p.vus} virtual users for {p.duration_s:g}s (closed model)"
    ramp = f" after {p.ramp_up_s:g}s ramp" if p.ramp_up_s else ""
    return f"{p.rate:g}/s for {p.duration_s:g}s{ramp} (open model)"


def _hypothesis_step(spec: Spec, h: Hypothesis) -> PlannedStep:
    profile = spec.profile(h.profile) or spec.profiles[0]
    if h.duration_s is not None:  # the rounds' own length (the loader allowed it here)
        profile = dataclasses.replace(profile, duration_s=h.duration_s)
    rounds = h.max_rounds if h.rounds == "auto" else h.rounds
    text = f"auto (2-{h.max_rounds})" if h.rounds == "auto" else str(h.rounds)
    runs = 2 * rounds
    desc = (f"hypothesis {h.id} ({h.type}): {h.title}; {text} A/B rounds interleaved on "
            f"{profile.name}{_round_text(h)}, expects {h.expect.metric} {_expect_text(h)}")
    return PlannedStep("hypothesis", profile, desc, runs * profile_seconds(profile) + runs,
                       hypothesis=h)


def _round_text(h: Hypothesis) -> str:
    """' (8s a run)' when the hypothesis sets its runs' length, else ''."""
    return f" ({h.duration_s:g}s a run)" if h.duration_s is not None else ""


def _expect_text(h: Hypothesis) -> str:
    if h.expect.change is not None:
        return f"change {h.expect.change.text}"
    return h.expect.value.text if h.expect.value else ""


def render_plan(plans: list[SpecPlan]) -> str:
    """Text of the plan for --dry-run."""
    lines: list[str] = []
    for plan in plans:
        lines.append(f"{plan.spec.name} ({plan.spec.source}) trigger={plan.spec.trigger} "
                     f"target={plan.spec.target.url}")
        lines.extend(f"  {i}. {step.description}" for i, step in enumerate(plan.steps, 1))
        lines.extend(f"  - skip {name}: {why}" for name, why in plan.skipped)
        lines.append(f"  estimated time: {plan.est_seconds:.0f}s")
    total = sum(p.est_seconds for p in plans)
    lines.append(f"{len(plans)} spec(s), estimated {total:.0f}s in all")
    return "\n".join(lines)
