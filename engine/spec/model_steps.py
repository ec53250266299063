"""Spec records of stateful journeys and real-client requests (re-exported by
engine.spec.model): think-time distributions, extraction, checks, TLS trust."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TlsSettings:
    """How the driver trusts an https target: ``verify`` False accepts any certificate
    (self-signed test services); ``ca_file`` adds a CA bundle (PEM) to the system ones."""

    verify: bool = True
    ca_file: str | None = None


@dataclass(frozen=True)
class ThinkTime:
    """A pause as a distribution: ``fixed`` (low_s), ``uniform`` [low_s, high_s] or
    ``exponential`` with mean low_s."""

    kind: Literal["fixed", "uniform", "exponential"]
    low_s: float
    high_s: float = 0.0

    @property
    def mean_s(self) -> float:
        return (self.low_s + self.high_s) / 2 if self.kind == "uniform" else self.low_s


@dataclass(frozen=True)
class Extract:
    """Take a variable from a response: ``source`` json (a ``$.a.b[0]`` path into the JSON
    body), header (a name), regex (over the body, first group) or cookie (a name)."""

    var: str
    source: Literal["json", "header", "regex", "cookie"]
    expr: str


@dataclass(frozen=True)
class Check:
    """A per-step check (k6's checks): ``subject`` status, header, json or body; ``op``
    in (status: the code is one of ``value``), equals, matches, exists, contains."""

    name: str
    subject: Literal["status", "header", "json", "body"]
    op: Literal["in", "equals", "matches", "exists", "contains"]
    key: str = ""
    """Header name or JSON path (empty for status and body)."""
    value: str = ""
    codes: tuple[int, ...] = ()
    fail_request: bool = False


DEFAULT_REDIRECTS = 10
"""Redirect hops followed per request unless a journey or step says otherwise (as k6)."""
