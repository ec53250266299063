"""Schema fragment of ``target.metrics`` (issue #21: a remote target's resources read from
Prometheus), spliced in by gen_spec_schema.py."""

from __future__ import annotations

from typing import Any

_MATCHERS = r"^\{.*\}$"

TARGET_METRICS: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["select"],
    "description": "Read the target's resources from Prometheus when apply can not sample "
                   "its process (a remote target): after each run, one range query per "
                   "metric over the run's window gives CPU (rate of "
                   "process_cpu_seconds_total), RSS, open fds and, from node_exporter, "
                   "machine CPU, memory, disk and network, as the local sampler's series. "
                   "A missing metric is a note, never an error. Only the spec's own target.",
    "properties": {
        "prometheus": {"type": "string", "pattern": r"^https?://\S+$",
                       "x-expected": "an http(s) URL of the Prometheus server",
                       "description": "Base URL of the Prometheus HTTP API (before /api/v1). "
                                      "Default: production.prometheus (with its headers)."},
        "select": {"type": "string", "pattern": _MATCHERS,
                   "x-expected": "label matchers in braces, like '{job=\"api\"}'",
                   "description": "Label matchers of the target's process_* series, like "
                                  "'{job=\"api\"}'; several matching series are summed."},
        "node": {"type": "string", "pattern": _MATCHERS,
                 "x-expected": "label matchers in braces, like '{instance=\"api-1:9100\"}'",
                 "description": "Label matchers of the target machine's node_exporter "
                                "series. Default: select."},
        "scrape_interval": {"$ref": "#/$defs/duration",
                            "description": "How often Prometheus scrapes the target: the "
                                           "query step is this (1s to 5s) and rates span 4 "
                                           "scrapes. Default 15s."},
    },
}
