"""``execution:`` -> Execution, and the one way to give a spec's profiles their execution.

``execution`` says where the load generators run: ``local`` worker processes (the default)
or ``dask``, the generator hosts of a Dask cluster (engine.scale). Every profile carries it
in its RunSettings, so the driver sees it where it sees ``workers``. ``apply --scheduler``
overrides it for every spec (engine.commands.apply).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.spec.context import Ctx
from engine.spec.model import Execution, LoadProfile, Spec

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
"""Where the scheduler address comes from when neither the spec nor --scheduler gives it."""


def build_execution(ctx: Ctx, raw: dict[str, Any] | None) -> Execution:
    """The ``execution:`` section (already schema-checked); defaults when absent."""
    if not raw:
        return Execution()
    nodes = raw.get("nodes", "all")
    per_node = raw.get("workers_per_node")
    engine = raw.get("engine", "local")
    if engine == "local" and raw.get("scheduler"):
        ctx.error(("execution", "scheduler"),
                  "expected engine: dask with a scheduler (engine is local)")
    return Execution(
        engine="dask" if engine == "dask" else "local",
        scheduler=str(raw["scheduler"]) if raw.get("scheduler") else None,
        nodes=0 if nodes == "all" else int(nodes),
        workers_per_node=None if per_node is None else 0 if per_node == "auto" else int(per_node))


def with_execution(profiles: tuple[LoadProfile, ...],
                   execution: Execution) -> tuple[LoadProfile, ...]:
    """The profiles with ``execution`` in their settings."""
    return tuple(dataclasses.replace(p, settings=dataclasses.replace(p.settings, execution=execution))
                 for p in profiles)


def on_scheduler(spec: Spec, address: str) -> Spec:
    """``spec`` run on the Dask cluster at ``address`` (``apply --scheduler``): its own
    ``nodes`` and ``workers_per_node`` are kept."""
    execution = dataclasses.replace(spec.execution, engine="dask", scheduler=address)
    return dataclasses.replace(spec, execution=execution,
                               profiles=with_execution(spec.profiles, execution))


def uses_dask(spec: Spec) -> bool:
    return spec.execution.engine == "dask"
