"""Wire the live consumers for one command: the printer, the stream, the metrics endpoint,
behind one progress callback, opened before the load and closed after it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from engine.driver.progress import ProgressEvent
from engine.live.metrics import MetricsExporter, MetricsUnavailable
from engine.live.stream import IntervalStream, open_stream
from engine.redact import environment_values

Consumer = Callable[[ProgressEvent], None]


class Fanout:
    """One progress callback that calls each consumer in turn; ``set_spec`` names the spec
    whose runs follow (apply loops over specs) for the consumers that label by it.

    The first consumer (the terminal printer) is called as is; a live output that fails
    (a closed pipe, a full disk) is reported once on stderr and dropped, and the run goes
    on: watching a run must never end it."""

    def __init__(self, consumers: Sequence[Consumer]) -> None:
        self.consumers = list(consumers)

    def set_spec(self, name: str) -> None:
        for consumer in self.consumers:
            if hasattr(consumer, "spec"):
                consumer.spec = name

    def __call__(self, event: ProgressEvent) -> None:
        for i, consumer in enumerate(list(self.consumers)):
            if i == 0:
                consumer(event)
                continue
            try:
                consumer(event)
            except Exception as exc:  # any fault of a live output, see above
                self.consumers.remove(consumer)
                print(f"live output stopped ({type(consumer).__name__}): {exc}", file=sys.stderr)


class LiveSession:
    """The printer plus whatever live outputs ``args`` asked for (``--stream``,
    ``--metrics-port``). ``open()`` returns a problem to report (exit 2) or ''."""

    def __init__(self, printer: Consumer, args: Any, secrets: Sequence[str],
                 secret_values: Sequence[str] = ()) -> None:
        self.printer, self.args, self.secrets = printer, args, list(secrets)
        self.secret_values = list(secret_values)
        """The specs' literal secrets (engine.spec.secrets), values from the environment too."""
        self.stream: IntervalStream | None = None
        self.metrics: MetricsExporter | None = None
        self.progress = Fanout([printer])

    def open(self) -> str:
        consumers: list[Consumer] = [self.printer]
        port = getattr(self.args, "metrics_port", None)
        target = getattr(self.args, "stream", None)
        try:
            if port is not None:
                self.metrics = MetricsExporter(self.args.metrics_host, port)
                self.metrics.start()
                print(f"metrics: http://{self.args.metrics_host}:{self.metrics.port}/metrics",
                      file=sys.stderr)
                consumers.append(self.metrics)
            if target:
                values = [*self.secret_values, *environment_values(self.secrets, os.environ)]
                self.stream = IntervalStream(open_stream(target), self.secrets, values)
                consumers.append(self.stream)
        except MetricsUnavailable as exc:
            return str(exc)
        except OSError as exc:
            self.close()
            return f"--stream {target}: cannot write: {exc.strerror or exc}"
        self.progress = Fanout(consumers)
        return ""

    def close(self) -> None:
        if self.metrics is not None:
            self.metrics.stop()
        if self.stream is not None:
            self.stream.close()
