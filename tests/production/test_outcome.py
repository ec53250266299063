"""One verdict per production SLO (judge.outcome): monitor's exit code and the checklist's
compliance row say the same thing, and a page-level burn is not a PASS; one minimum
window (engine.spec.production_model.MIN_WINDOW_S) for the spec, the judge and monitor."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import get_args

import pytest

from engine.cli import main
from engine.commands.monitor import exit_code
from engine.production.findings import ProductionFindings, compliance_criterion, observe
from engine.production.judge import MIN_DAYS, data_problem, outcome
from engine.production.result import Burn, BurnLevel, Coverage, SloStatus, Verdict
from engine.result import ExitCode
from engine.spec.loader import load_paths
from engine.spec.production_model import MIN_WINDOW_S
from tests.production.conftest import Prom
from tests.production.specs import write_spec

EXIT_OF = {"FAIL": ExitCode.GATE_FAILED, "INCONCLUSIVE": ExitCode.RUN_INVALID,
           "PASS": ExitCode.PASS}
"""The documented meaning of monitor's exit codes, per checklist status."""
OK = Burn({"1h": 0.2, "5m": 0.2}, "ok")
PAGE = Burn({"1h": 20.0, "5m": 30.0}, "page", ("page: 14.4x over 1h and 5m (20.0x, 30.0x)",))


def _status(name: str, verdict: Verdict, burn: Burn = OK) -> SloStatus:
    return SloStatus(name, "error_rate", ">= 99.9%", 0.999, 14 * 86400.0, 0.0, 14 * 86400.0,
                     verdict, "", 0.9995, coverage=Coverage(336, 336, 0.0, 14 * 86400.0),
                     burn=burn)


def _all_statuses() -> list[SloStatus]:
    levels: tuple[BurnLevel, ...] = get_args(BurnLevel)
    verdicts: tuple[Verdict, ...] = get_args(Verdict)
    return [_status(f"{v}-{lvl}", v, Burn({}, lvl, ("fired",) if lvl != "ok" else ()))
            for v, lvl in itertools.product(verdicts, levels)]


@pytest.mark.parametrize("size", [1, 2])
def test_exit_code_and_compliance_row_agree(size: int) -> None:
    for group in itertools.combinations(_all_statuses(), size):
        row, _ = compliance_criterion(ProductionFindings(0.0, group))
        assert exit_code(list(group)) == EXIT_OF[row], [st.slo for st in group]


def test_compliant_window_burning_at_page_level_fails_and_says_why() -> None:
    paging = _status("availability", "COMPLIANT", PAGE)
    calm = _status("errors", "COMPLIANT")
    assert outcome(paging) == "FAIL" and outcome(calm) == "PASS"
    row, evidence = compliance_criterion(ProductionFindings(0.0, (calm, paging)))
    assert row == "FAIL" and exit_code([calm, paging]) == 1
    assert "availability: COMPLIANT (99.950% good over 14.0 d, but burning at page level: " \
           "page: 14.4x over 1h and 5m" in evidence
    assert "errors: COMPLIANT (99.950% good over 14.0 d)" in evidence


def test_breach_and_thin_data() -> None:
    assert outcome(_status("a", "BREACHED")) == "FAIL"
    assert outcome(_status("a", "INSUFFICIENT_DATA")) == "INCONCLUSIVE"
    assert outcome(_status("a", "INSUFFICIENT_DATA", PAGE)) == "FAIL"  # the last hour pages
    assert compliance_criterion(ProductionFindings(0.0, ()))[0] == "INCONCLUSIVE"
    assert exit_code([]) == ExitCode.RUN_INVALID  # nothing judged is never a pass


@pytest.mark.slow
def test_page_level_burn_is_one_verdict_against_prometheus(tmp_path: Path, prom: Prom) -> None:
    # 'burning': 14 compliant days, then 5% errors for two hours (a 50x burn)
    spec = write_spec(tmp_path, "burning", prom.url)
    assert main(["monitor", str(spec), "--at", f"{prom.end:.0f}"]) == 1
    found = observe(load_paths([str(spec)]).specs[0], prom.end)
    assert found is not None
    avail = next(st for st in found.statuses if st.slo == "availability")
    assert (avail.verdict, avail.burn.level) == ("COMPLIANT", "page")
    row, evidence = compliance_criterion(found)
    assert row == "FAIL" and "availability: COMPLIANT" in evidence
    assert "but burning at page level" in evidence


def test_one_minimum_window() -> None:
    assert MIN_WINDOW_S == 7 * 86400  # the flow: at least 7 days of production metrics
    assert MIN_DAYS * 86400 == MIN_WINDOW_S
    enough = Coverage(round(MIN_DAYS * 24), round(MIN_DAYS * 24), 0.0, MIN_WINDOW_S)
    short = Coverage(round(MIN_DAYS * 24), round(MIN_DAYS * 24) - 1, 0.0, MIN_WINDOW_S)
    assert data_problem(enough, 0.9995) == ""
    assert "at least 7 needed" in data_problem(short, 0.9995)


def test_monitor_window_below_the_minimum_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, "compliant", "http://127.0.0.1:9")
    below = f"{MIN_WINDOW_S / 3600 - 1:g}h"
    assert main(["monitor", str(spec), "--window", below]) == ExitCode.SPEC_INVALID
    assert "monitor: --window must be at least 7d" in capsys.readouterr().err
    at_minimum = f"{MIN_WINDOW_S / 3600:g}h"  # accepted: fails later, on the unreachable server
    assert main(["monitor", str(spec), "--window", at_minimum]) == ExitCode.RUN_INVALID
    assert "Prometheus unreachable" in capsys.readouterr().err
