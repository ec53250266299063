"""Embedded demo service: a small SQLite-backed JSON API with switchable bottlenecks.

Run it with ``perfopt-engine demo-target`` or ``python -m engine.demo``.
"""
