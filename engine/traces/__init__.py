"""OpenTelemetry traces linked to the requests the driver sends (issue #21).

``ids``: the trace ids the driver puts in ``traceparent`` (run nonce, journey, step);
``spans``: the compact span records; ``receiver``: the OTLP/HTTP receiver on loopback;
``inject``: traced journeys and the managed target's OTEL environment; ``session``: one
spec's drive with tracing on. The analysis of the spans is engine.analysis.traces.
"""
