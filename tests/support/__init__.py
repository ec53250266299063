"""Shared test helpers (fake servers, spec builders, the demo target)."""
