"""Scale-out: one load run spread over the generator hosts of a Dask cluster.

A spec with ``execution: {engine: dask}`` (or ``apply --scheduler``) is driven here instead
of by local worker processes only. The coordinator (``coordinator.run_on_cluster``) finds
the generator hosts (Dask workers started with ``--resources generator=1``), gives each a
slice of the run like k6's execution segments (``plan``), agrees one start instant from
measured clock offsets (``cluster``), runs today's worker processes on every host
(``host``), and merges their encoded HDR histograms and counters into the RunResult a
single-host run produces (``merge``). Dask is imported only on this path.
"""
