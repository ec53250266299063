"""The literal values one spec's writers remove wherever they appear (engine.redact).

One list for every writer (reports, history, terminal): the values of the spec's secret
headers (Authorization, Cookie and the names in ``secrets:``), ``start.env`` variables
named in ``secrets:``, every value the spec took from the environment (``${VAR}``,
``Spec.secret_values``), and apply's own environment variables named in ``secrets:`` (a
started target inherits them and may print them). Values shorter than
``engine.redact.MIN_LITERAL`` are left to the name rules (so "1" does not eat numbers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.redact import MIN_LITERAL, environment_values, secret_names
from engine.spec.model import Spec

__all__ = ["literal_secrets", "literal_secrets_of"]


def literal_secrets(spec: Spec, environ: Mapping[str, str]) -> list[str]:
    """Every literal secret of ``spec`` (see the module docstring)."""
    names = secret_names(spec.secrets)
    values = []
    for journey in spec.journeys:
        for step in journey.steps:
            values += [v for k, v in step.headers.items() if k.lower() in names]
    targets = [spec.target, *(v.target for h in spec.hypotheses
                              for v in (h.baseline, h.candidate))]
    for target in targets:
        env = target.start.env if target.start else {}
        values += [v for k, v in env.items() if k.lower() in names]
    values += spec.secret_values
    return [v for v in values if len(v) >= MIN_LITERAL] + environment_values(spec.secrets, environ)


def literal_secrets_of(specs: Iterable[Spec], environ: Mapping[str, str]) -> list[str]:
    """The literal secrets of several specs (apply's terminal lines may name any of them)."""
    return sorted({v for spec in specs for v in literal_secrets(spec, environ)})
