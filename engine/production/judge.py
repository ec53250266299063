"""Pure judgements on fetched numbers: burn-rate alert state, verdict, budget policy.

Multi-window multi-burn-rate alerts as the SRE workbook defines them (chapter 5): page
when the 1h and 5m burn both exceed 14.4x (2% of a 30-day budget in an hour) or the 6h
and 30m burn both exceed 6x; ticket when the 3d and 6h burn both exceed 1x.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from engine.production.result import Burn, BurnLevel, Coverage, SloStatus
from engine.spec.production_model import MIN_WINDOW_S

BURN_WINDOWS: dict[str, float] = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200,
                                  "6h": 21600, "1d": 86400, "3d": 259200}
ALERTS: tuple[tuple[BurnLevel, float, str, str], ...] = (
    ("page", 14.4, "1h", "5m"), ("page", 6.0, "6h", "30m"), ("ticket", 1.0, "3d", "6h"))
MIN_DAYS = MIN_WINDOW_S / 86400.0
"""The spec's minimum window (engine.spec.production_model), as days of samples."""
CURRENT = "1h"
"""The window whose burn rate is 'the current burn' (time to exhaustion)."""
RISKY_CONSUMED = 0.8
Outcome = Literal["FAIL", "INCONCLUSIVE", "PASS"]
"""The one verdict monitor's exit code (1 / 3 / 0) and the checklist's compliance row read."""
_WORST: tuple[Outcome, ...] = ("FAIL", "INCONCLUSIVE", "PASS")


def burn_state(rates: Mapping[str, float | None]) -> Burn:
    """The alert level from burn rates by window; unknown when a deciding window is missing."""
    fired: list[str] = []
    level: BurnLevel = "ok"
    for alert, factor, long, short in ALERTS:
        a, b = rates.get(long), rates.get(short)
        if a is None or b is None:
            return Burn(dict(rates), "unknown", tuple(fired))
        if a > factor and b > factor:
            fired.append(f"{alert}: {factor:g}x over {long} and {short} "
                         f"({a:.1f}x, {b:.1f}x)")
            level = alert if level == "ok" else level
    return Burn(dict(rates), level, tuple(fired))


def exhaustion_s(consumed: float | None, rates: Mapping[str, float | None],
                 window_s: float) -> float | None:
    """Seconds until the budget is spent at the current burn (0 when already spent)."""
    burn = rates.get(CURRENT)
    if consumed is None or burn is None:
        return None
    if consumed >= 1.0:
        return 0.0
    if burn <= 0:
        return None
    return (1.0 - consumed) * window_s / burn


def data_problem(coverage: Coverage, compliance: float | None) -> str:
    """Why the data cannot be judged, or '' when it can: never COMPLIANT on missing data."""
    if coverage.present == 0 or compliance is None:
        return "the SLI queries returned no data for the window"
    if coverage.days < MIN_DAYS:
        return (f"only {coverage.days:.1f} days of samples in the window "
                f"(at least {MIN_DAYS:g} needed)")
    if coverage.gaps:
        total_h = sum(b - a for a, b in coverage.gaps) / 3600
        return f"{len(coverage.gaps)} gap(s) in the samples, {total_h:.0f} h in all"
    return ""


def policy_line(consumed: float | None) -> str:
    """The error budget policy for the budget's state."""
    if consumed is None:
        return "budget unknown: treat releases as risky until production data is complete"
    if consumed >= 1.0:
        return ("error budget exhausted: stop feature work and releases; only reliability "
                "fixes ship until the budget recovers")
    if consumed >= RISKY_CONSUMED:
        return f"budget {consumed:.0%} consumed: risky changes wait"
    return f"budget {consumed:.0%} consumed: releases proceed"


def outcome(st: SloStatus) -> Outcome:
    """FAIL on a breach or a page-level burn: the budget is going fast enough to page, so
    the SLO is not being met even while the whole window still complies; INCONCLUSIVE when
    the window's data cannot be judged; else PASS."""
    if st.verdict == "BREACHED" or st.page:
        return "FAIL"
    if st.verdict == "INSUFFICIENT_DATA":
        return "INCONCLUSIVE"
    return "PASS"


def overall(statuses: Sequence[SloStatus]) -> Outcome:
    """The worst outcome of the SLOs (INCONCLUSIVE for none: nothing judged is no PASS)."""
    found = {outcome(st) for st in statuses}
    return next((o for o in _WORST if o in found), "INCONCLUSIVE")


def outcome_note(st: SloStatus) -> str:
    """Why a compliant window is not a PASS ('' when nothing to add)."""
    if st.page and st.verdict != "BREACHED":
        return f"burning at page level: {'; '.join(st.burn.fired)}"
    return ""
