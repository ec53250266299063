"""Shared fixtures: ``impl`` runs a test against both hot-path twins (ids py / c).

The native twin must be built: without engine.hotpath._native the run fails (not skips) unless
PERFOPT_PURE=1 says a pure-only run is intended.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

PURE_ONLY = os.environ.get("PERFOPT_PURE") == "1"
TWINS = {"py": "engine.hotpath._pyhdr", "c": "engine.hotpath._native"}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail the whole run when the extension did not build, unless PERFOPT_PURE=1."""
    if PURE_ONLY:
        return
    try:
        importlib.import_module("engine.hotpath._native")
    except ImportError as exc:
        pytest.exit(f"engine.hotpath._native is not built ({exc}); run `pip install -e . "
                    "--no-build-isolation` or set PERFOPT_PURE=1 for a pure-only run",
                    returncode=3)


@pytest.fixture(params=list(TWINS), ids=list(TWINS))
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """The twin module under test (engine.hotpath._pyhdr or engine.hotpath._native)."""
    if request.param == "c" and PURE_ONLY:
        pytest.skip("PERFOPT_PURE=1: native twin deliberately not tested")
    return importlib.import_module(TWINS[request.param])


@pytest.fixture
def native() -> ModuleType:
    """The native twin alone: for tests that compare it with the pure one (comparing the pure
    twin with itself would prove nothing)."""
    if PURE_ONLY:
        pytest.skip("PERFOPT_PURE=1: native twin deliberately not tested")
    return importlib.import_module(TWINS["c"])


@pytest.fixture
def pure() -> ModuleType:
    """The pure twin, as the reference the native one must agree with."""
    return importlib.import_module("engine.hotpath._pyhdr")
