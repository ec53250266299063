"""A small Prometheus HTTP API client (/api/v1/query, /api/v1/query_range) on urllib.

Errors are two kinds: the server could not be reached or did not answer in time
(``PrometheusUnreachable``), or it rejected a query (``QueryRejected``, with its message).
Header values are secrets: they go to the server and nowhere else (not in errors).
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.redact import redact


class PrometheusError(Exception):
    """A query that gave no answer to judge."""


class PrometheusUnreachable(PrometheusError):
    """Connection refused, DNS, timeout, or a server error (5xx) or non-API answer."""


class QueryRejected(PrometheusError):
    """Prometheus answered 4xx: the PromQL (or a parameter) is invalid."""


@dataclass(frozen=True)
class Series:
    """One result series: its labels and (unix time, value) points; NaN values are dropped."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


class PrometheusClient:
    """Talks to one Prometheus server."""

    def __init__(self, url: str, headers: Mapping[str, str] | None = None,
                 timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._headers = dict(headers or {})
        self.timeout_s = timeout_s

    def query(self, expr: str, at: float) -> list[Series]:
        """An instant query evaluated at ``at`` (unix seconds)."""
        return self._call("query", {"query": expr, "time": f"{at:.3f}"})

    def query_range(self, expr: str, start: float, end: float, step_s: float) -> list[Series]:
        """A range query: one point per ``step_s`` from ``start`` to ``end``."""
        return self._call("query_range", {"query": expr, "start": f"{start:.3f}",
                                          "end": f"{end:.3f}", "step": f"{step_s:g}"})

    def alert_rules(self) -> list[dict[str, Any]]:
        """The alerting rules the server has loaded (/api/v1/rules?type=alert)."""
        data = self._fetch("rules", {"type": "alert"}, post=False)
        groups = data.get("groups", [])
        return [r for g in groups if isinstance(g, dict) for r in g.get("rules", [])
                if isinstance(r, dict)]

    def _call(self, endpoint: str, params: dict[str, str]) -> list[Series]:
        return _series(self._fetch(endpoint, params))

    def _fetch(self, endpoint: str, params: dict[str, str], post: bool = True) -> dict[str, Any]:
        body = urllib.parse.urlencode(params)
        url = f"{self.url}/api/v1/{endpoint}" + ("" if post else f"?{body}")
        request = urllib.request.Request(
            url, data=body.encode() if post else None, method="POST" if post else "GET",
            headers={**self._headers, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusUnreachable(
                f"Prometheus unreachable at {self.shown_url}: {reason}") from None
        return _decode(payload, self.shown_url)

    @property
    def shown_url(self) -> str:
        """The URL as messages show it (no user:password@)."""
        return str(redact(self.url, ()))

    def _http_error(self, exc: urllib.error.HTTPError) -> PrometheusError:
        try:
            detail = str(json.loads(exc.read()).get("error", ""))
        except (ValueError, OSError, AttributeError):
            detail = ""
        if 400 <= exc.code < 500 and exc.code not in (401, 403, 404, 407):
            return QueryRejected(f"Prometheus rejected the query: {detail or f'HTTP {exc.code}'}")
        text = f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
        return PrometheusUnreachable(f"Prometheus at {self.shown_url} answered {text}")


def _decode(payload: bytes, url: str) -> dict[str, Any]:
    try:
        doc = json.loads(payload)
    except ValueError:
        raise PrometheusUnreachable(f"{url} did not answer like a Prometheus API "
                                    "(not JSON)") from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error", "unknown error") if isinstance(doc, dict) else "not an object"
        raise QueryRejected(f"Prometheus rejected the query: {error}")
    data = doc.get("data")
    return data if isinstance(data, dict) else {}


def _series(data: dict[str, Any]) -> list[Series]:
    kind, result = data.get("resultType"), data.get("result", [])
    if kind == "scalar":
        result = [{"metric": {}, "value": result}]
    out = []
    for item in result if isinstance(result, list) else []:
        raw = item.get("values") or ([item["value"]] if "value" in item else [])
        points = tuple((float(t), float(v)) for t, v in raw if not math.isnan(float(v)))
        out.append(Series(dict(item.get("metric", {})), points))
    return out
