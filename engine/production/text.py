"""SloStatus -> the console lines monitor prints (formatting only)."""

from __future__ import annotations

from engine.production.doc import iso
from engine.production.judge import ALERTS, outcome_note
from engine.production.result import SloStatus
from engine.units import human_duration

SHOWN_BURNS = ("5m", "30m", "1h", "6h", "3d")


def _pct(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def _when(t: float) -> str:
    return (iso(t) or "").replace("T", " ").replace(":00Z", " UTC")


def status_lines(spec: str, st: SloStatus) -> list[str]:
    """A verdict line, then indented details."""
    cov = st.coverage
    days = "no samples" if cov is None else f"{cov.days:.1f} d of samples"
    note = outcome_note(st)
    lines = [f"{st.verdict:<17} {spec} / {st.slo}: {st.reason}" + (f"; but {note}" if note else ""),
             f"  period     {_when(st.start)} -> {_when(st.end)} "
             f"({st.window_s / 86400:g} d window, {days})",
             f"  compliance {_pct(st.compliance)} (target {_pct(st.target)}); per day: "
             + " ".join("--" if d.compliance is None else f"{d.compliance * 100:.2f}"
                        for d in st.days)]
    lines += [_budget_line(st), _burn_line(st), f"  policy     {st.policy}"]
    if st.regression is not None:
        lines.append(_regression_line(st))
    if st.shifts:
        lines.append("  shifts     " + "; ".join(
            f"{'worse' if s.worse else 'better'} from {_when(s.at)}: {_value(st, s.before)} -> "
            f"{_value(st, s.after)}" for s in st.shifts))
    return lines


def _value(st: SloStatus, value: float) -> str:
    return f"{value * 1000:.1f}ms" if st.metric.startswith("p") else f"{value:.3%}"


def _budget_line(st: SloStatus) -> str:
    if st.budget_consumed is None or st.events is None:
        return f"  budget     {_pct(st.budget)} of events; consumption unknown"
    left = ("exhausted" if st.exhaustion_s == 0 else "not burning" if st.exhaustion_s is None
            else f"exhausted in {human_duration(st.exhaustion_s)} at the current burn")
    return (f"  budget     {_pct(st.budget)} of {st.events:,.0f} events = "
            f"{st.events * st.budget:,.0f}; consumed {_pct(st.budget_consumed, 1)}, "
            f"remaining {_pct(st.budget_remaining, 1)}; {left}")


def _burn_line(st: SloStatus) -> str:
    rates = " ".join(f"{w} {'n/a' if st.burn.rates.get(w) is None else f'{st.burn.rates[w]:.2f}x'}"
                     for w in SHOWN_BURNS)
    fired = "; ".join(st.burn.fired) or (
        "no alert (" + ", ".join(f"{f:g}x {a}&{b}" for _, f, a, b in ALERTS) + ")")
    return f"  burn       {rates} -> {st.burn.level.upper()}: {fired}"


def _regression_line(st: SloStatus) -> str:
    reg = st.regression
    assert reg is not None
    text = (f"  deploy     {_when(reg.deployed_at)}: burn {_burn(reg.burn_before)} -> "
            f"{_burn(reg.burn_after)}")
    if reg.value_before is not None and reg.value_after is not None:
        text += f", {st.metric} {reg.value_before * 1000:.1f}ms -> {reg.value_after * 1000:.1f}ms"
    verdict = {True: "REGRESSION", False: "no regression", None: "not judged"}[reg.regressed]
    return f"{text}: {verdict}"


def _burn(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"
