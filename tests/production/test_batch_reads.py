"""One reading of a batched instant query (queries.read_batch) for the window's figures and
the before/after-deploy pair alike: non-finite answers are no data, float error below 0
reads 0, and several series for one name are rejected, not silently one of them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engine.production import queries as q
from engine.production.client import PrometheusClient, QueryRejected, Series
from engine.production.regression import regression
from engine.spec.loader import load_paths
from engine.spec.model import Slo
from tests.production.specs import write_spec


class Answers(PrometheusClient):
    """A client whose instant queries answer ``series`` (unit tests of the reading only;
    the end-to-end tests talk to a real Prometheus)."""

    def __init__(self, series: list[Series]) -> None:
        super().__init__("http://127.0.0.1:9")
        self.series = series

    def query(self, expr: str, at: float) -> list[Series]:
        return [Series(s.labels, tuple((at, v) for _, v in s.points)) for s in self.series]


def _one(name: str, value: float) -> Series:
    return Series({q.TAG: name}, ((0.0, value),))


def _slo(tmp_path: Path, name: str) -> Slo:
    spec = load_paths([str(write_spec(tmp_path, "compliant", "http://127.0.0.1:9"))]).specs[0]
    return next(s for s in spec.slos if s.name == name)


def test_non_finite_is_absent_and_float_error_reads_zero() -> None:
    client = Answers([_one("err", math.inf), _one("ratio", -1e-12), _one(q.QUANTILE, -math.inf),
                      _one("events", 42.0), Series({q.TAG: "empty"}, ())])
    assert q.read_batch(client, {}, 0.0) == {"ratio": 0.0, "events": 42.0}


def test_several_series_for_one_name_are_rejected() -> None:
    client = Answers([_one("err", 0.0001), _one("err", 0.5)])
    with pytest.raises(QueryRejected, match="returns 2 series where one is needed"):
        q.read_batch(client, {}, 0.0)


def test_deploy_pair_with_no_finite_answer_is_not_judged(tmp_path: Path) -> None:
    # x/0 on both sides: before the shared reading, inf - inf compared as 'no regression'
    reg = regression(Answers([_one("err", math.inf)]), _slo(tmp_path, "errors"), 0.0,
                     10 * 86400.0, 5 * 86400.0)
    assert (reg.burn_before, reg.burn_after, reg.regressed) == (None, None, None)


def test_deploy_pair_reads_burn_and_percentile(tmp_path: Path) -> None:
    client = Answers([_one("err", 0.002), _one(q.QUANTILE, 0.031)])
    reg = regression(client, _slo(tmp_path, "lookup-p95"), 0.0, 10 * 86400.0, 5 * 86400.0)
    assert reg.burn_before == pytest.approx(0.002 / 0.05)  # p95 < 50ms: a 95% target
    assert reg.value_before == reg.value_after == pytest.approx(0.031)
    assert reg.regressed is False


def test_deploy_pair_with_several_series_is_rejected(tmp_path: Path) -> None:
    client = Answers([_one("err", 0.0001), _one("err", 0.5)])
    with pytest.raises(QueryRejected):
        regression(client, _slo(tmp_path, "errors"), 0.0, 10 * 86400.0, 5 * 86400.0)
