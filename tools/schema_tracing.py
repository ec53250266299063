"""Schema fragment of the spec-level ``tracing:`` block (issue #21), spliced in by
gen_spec_schema.py."""

from __future__ import annotations

from typing import Any

TRACING: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "OpenTelemetry traces linked to each request: the driver sends a W3C "
                   "traceparent whose trace id names the run, journey and step; the engine "
                   "receives the target's spans over OTLP/HTTP on loopback or bind (managed targets "
                   "get OTEL_EXPORTER_OTLP_ENDPOINT) and breaks each journey's time down by "
                   "span (pip install \"perfopt-engine[traces]\").",
    "properties": {
        "enabled": {"type": "boolean", "description": "Send traceparent and receive spans. "
                                                      "Default true when the block is given."},
        "sample": {"type": "number", "exclusiveMinimum": 0, "maximum": 1,
                   "description": "Fraction of requests sent as sampled (flags 01); the "
                                  "others carry traceparent with flags 00. Default 1."},
        "port": {"type": "integer", "minimum": 0, "maximum": 65535,
                 "description": "Port of the OTLP/HTTP receiver (point an unmanaged "
                                "target's exporter at it). Default 0: any free port."},
        "bind": {"type": "string", "pattern": r"^[0-9A-Fa-f:.]+$",
                 "x-expected": "an IP address like \"127.0.0.1\", \"10.0.0.5\" or \"::1\"",
                 "description": "The address the receiver listens on. Default 127.0.0.1 "
                                "(loopback only); give the interface a remote target's "
                                "exporter can reach: anyone who reaches it can send spans."},
        "advertise": {"type": "string",
                      "pattern": r"^https?://([^/\s:\[\]]+|\[[0-9A-Fa-f:.]+\])"
                                 r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}"
                                 r"|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?/?$",
                      "x-expected": "a URL like \"http://10.0.0.5:4318\" (no path)",
                      "description": "The receiver URL managed targets get as "
                                     "OTEL_EXPORTER_OTLP_ENDPOINT (behind NAT or a port "
                                     "forward); without a port, the receiver's. Default: the "
                                     "bound address and port."},
        "max_spans": {"type": "integer", "minimum": 1000, "maximum": 5000000,
                      "description": "Spans kept per drive; later ones are counted as "
                                     "dropped. Default 200000."},
    },
}
