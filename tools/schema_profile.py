"""Schema fragment of the spec-level ``profiling:`` block (issue #21), spliced in by
gen_spec_schema.py."""

from __future__ import annotations

from typing import Any

PROFILING: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "A sampling profiler on the target under load: py-spy (Python targets) "
                   "or perf (native code: nginx, Go, C) samples the managed or named target "
                   "process (target.start, target.process, demo) during each run; the report "
                   "shows the top functions by self and total on-CPU time, a flame graph, and "
                   "names the hot function in the cpu bottleneck. Without the tool on PATH "
                   "(pip install \"perfopt-engine[profile]\"; Debian: apt-get install "
                   "linux-perf), or where perf_event_open is not permitted, the run goes on "
                   "with a note.",
    "properties": {
        "enabled": {"type": "boolean", "description": "Sample the target's stacks. Default "
                                                      "true when the block is given."},
        "rate": {"type": "integer", "minimum": 1, "maximum": 1000,
                 "description": "Stack samples per second (py-spy --rate, perf -F). "
                                "Default 100."},
        "tool": {"enum": ["auto", "py-spy", "perf"],
                 "description": "The sampler. auto (default): py-spy when the target process "
                                "or one of its children runs a Python interpreter (its "
                                "executable is named python* or pypy*), perf otherwise."},
    },
}
