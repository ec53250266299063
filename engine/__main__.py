"""``python -m engine`` is the same as ``perfopt-engine``."""

from engine.cli import entry

entry()
