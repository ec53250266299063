"""Schema fragment of the spec-level ``profiling:`` block (issue #21), spliced in by
gen_spec_schema.py."""

from __future__ import annotations

from typing import Any

PROFILING: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "A sampling profiler on the target under load: py-spy samples the "
                   "managed or named target process (target.start, target.process, demo) "
                   "during each run; the report shows the top functions by self and total "
                   "on-CPU time, a flame graph, and names the hot function in the cpu "
                   "bottleneck. Python targets only; without py-spy on PATH the run goes on "
                   "with a note (pip install \"perfopt-engine[profile]\").",
    "properties": {
        "enabled": {"type": "boolean", "description": "Sample the target's stacks. Default "
                                                      "true when the block is given."},
        "rate": {"type": "integer", "minimum": 1, "maximum": 1000,
                 "description": "Stack samples per second (py-spy --rate). Default 100."},
    },
}
