"""The request outcome codes are written once (engine.hotpath.snapshot.OUTCOME_NAMES); the native
recorder's C constants are generated from that list and both twins agree."""

from __future__ import annotations

import importlib

import engine.hotpath.snapshot as snapshot
from tests.support.specs import REPO
from tools.gen_outcomes import TARGET, render


def test_the_generated_pxi_matches_the_list() -> None:
    assert TARGET == REPO / "ext" / "outcomes.pxi"
    assert TARGET.read_text(encoding="utf-8") == render(), \
        "ext/outcomes.pxi is stale: run python tools/gen_outcomes.py and rebuild"


def test_each_named_code_is_its_position_in_the_list() -> None:
    for code, name in enumerate(snapshot.OUTCOME_NAMES):
        assert getattr(snapshot, name.upper()) == code, name
    assert len(snapshot.OUTCOME_NAMES) == snapshot.N_OUTCOMES


def test_native_and_pure_twins_export_the_same_codes() -> None:
    native = importlib.import_module("engine.hotpath._native")
    pure = importlib.import_module("engine.hotpath._pyhdr")
    for name in (*(n.upper() for n in snapshot.OUTCOME_NAMES), "N_OUTCOMES"):
        assert getattr(native, name) == getattr(pure, name) == getattr(snapshot, name), name
    assert tuple(native.OUTCOME_NAMES) == tuple(pure.OUTCOME_NAMES) == snapshot.OUTCOME_NAMES
