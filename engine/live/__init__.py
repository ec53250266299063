"""Live consumers of a run's progress events: a JSON-lines stream (``--stream``) and a
Prometheus exposition endpoint (``--metrics-port``).

They hang off the same progress callback the terminal printer uses
(engine.live.session.Fanout), so the driver's parent process hands them each closed
interval and nothing else changes; the workers' hot path never sees them. This package
file stays empty so ``engine.live.options`` (argument parsing) imports nothing heavy.
"""
