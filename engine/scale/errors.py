"""What can keep a cluster run from starting, and the install line when Dask is missing.

Light on purpose: ``apply`` imports it before any load (and without Dask installed)."""

from __future__ import annotations

INSTALL_LINE = 'pip install "perfopt-engine[dask]"'


class ClusterUnavailable(Exception):
    """The generator hosts cannot run the load (scheduler unreachable, too few hosts, a
    host that failed before the start): the run is INVALID, exit 3, before any load."""


def dask_missing() -> str:
    """Why a dask execution cannot run here ('' when ``distributed`` imports)."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        return (f"execution engine dask needs the Dask distributed package ({exc}); "
                f"install it with: {INSTALL_LINE}")
    return ""
