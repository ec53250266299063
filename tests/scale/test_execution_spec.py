"""The ``execution:`` section: parsed onto the spec and every profile, bad values named."""

from __future__ import annotations

from engine.spec.execution import on_scheduler
from engine.spec.loader import load_text
from engine.spec.model import Execution
from tests.support.specs import VALID


def test_default_is_local_on_the_spec_and_every_profile() -> None:
    specs, errors = load_text(VALID)
    assert errors == []
    assert specs[0].execution == Execution()
    assert all(p.settings.execution.engine == "local" for p in specs[0].profiles)


def test_dask_execution_reaches_every_profile() -> None:
    text = VALID + ("execution: {engine: dask, scheduler: \"tcp://127.0.0.1:8786\", nodes: 2,"
                    " workers_per_node: auto}\n")
    specs, errors = load_text(text)
    assert errors == []
    want = Execution("dask", "tcp://127.0.0.1:8786", 2, 0)
    assert specs[0].execution == want
    assert [p.settings.execution for p in specs[0].profiles] == [want]


def test_nodes_all_and_workers_default() -> None:
    specs, errors = load_text(VALID + "execution: {engine: dask, nodes: all}\n")
    assert errors == []
    assert specs[0].execution == Execution("dask", None, 0, None)


def test_bad_values_are_named_with_their_line() -> None:
    _, errors = load_text(VALID + "execution: {engine: dask, nodes: 0}\n")
    assert [e.path for e in errors] == ["execution.nodes"]
    assert 'a number of generator hosts or "all"' in errors[0].message
    _, errors = load_text(VALID + "execution: {engine: ray}\n")
    assert "expected one of local, dask" in errors[0].message
    _, errors = load_text(VALID + "execution: {scheduler: \"tcp://h:1\"}\n")
    assert "expected engine: dask with a scheduler" in errors[0].message
    _, errors = load_text(VALID + "execution: {engine: dask, scheduler: \"http://h\"}\n")
    assert "a scheduler address like tcp://HOST:8786" in errors[0].message


def test_on_scheduler_turns_a_local_spec_into_a_dask_one() -> None:
    specs, _ = load_text(VALID + "execution: {nodes: 2}\n")
    moved = on_scheduler(specs[0], "tcp://127.0.0.1:9")
    assert moved.execution == Execution("dask", "tcp://127.0.0.1:9", 2, None)
    assert moved.profiles[0].settings.execution == moved.execution
