"""The report never says "no regression seen" about a series it could not read."""

from __future__ import annotations

from engine.report.md_production import _shifts


def test_no_change_point_on_too_little_data_is_not_judged() -> None:
    short = {"slo": "lookup-p95", "metric": "p95", "verdict": "INSUFFICIENT_DATA",
             "reason": "3.0 days of data, 7 needed", "changepoints": []}
    assert _shifts(short) == ("lookup-p95: change points not judged: 3.0 days of data, "
                              "7 needed")
    judged = dict(short, verdict="COMPLIANT")
    assert "no regression seen" in _shifts(judged)
