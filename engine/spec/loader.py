"""Load spec files and folders: strictyaml -> coercion -> JSON Schema -> semantic checks -> records.

Every problem in every file is collected (never only the first), each as a
``SpecError`` naming file, line, column, path and what was expected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.redact import redact, secret_names, secret_values_in
from engine.spec.build_cost import build_cost
from engine.spec.build_flow import (
    build_gates,
    build_history,
    build_hypotheses,
    build_report,
    build_slis,
    build_slos,
)
from engine.spec.build_load import build_profiles
from engine.spec.build_production import (
    attach_production,
    build_production,
    check_shapes,
    header_secrets,
)
from engine.spec.build_target import build_data, build_journeys, build_target
from engine.spec.coerce import Coercer
from engine.spec.context import Ctx
from engine.spec.envsubst import substitute
from engine.spec.errors import SpecError
from engine.spec.execution import build_execution, with_execution
from engine.spec.lint import document_warnings, spec_warnings
from engine.spec.model import Spec
from engine.spec.model_profiling import profiling_extra
from engine.spec.model_target_metrics import target_metrics_extra
from engine.spec.model_tracing import tracing_extra
from engine.spec.source import Document, parse_document, read_text, split_documents
from engine.spec.validate import load_schema, schema_errors

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadResult:
    """Specs that loaded cleanly, and every problem found in the others."""

    specs: list[Spec] = field(default_factory=list)
    errors: list[SpecError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What will not stop a run but will leave a check undecided (engine.spec.lint)."""

    @property
    def ok(self) -> bool:
        return not self.errors


def find_spec_files(paths: list[str]) -> tuple[list[Path], list[SpecError]]:
    """Expand folders (recursively, *.yaml/*.yml, sorted); report missing paths."""
    files: list[Path] = []
    errors: list[SpecError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not found:
                errors.append(SpecError(raw, 1, 1, "", "no *.yaml or *.yml spec files in folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(SpecError(raw, 1, 1, "", "no such file or folder"))
    return files, errors


def load_paths(paths: list[str]) -> LoadResult:
    """Load every spec in the given files and folders."""
    files, errors = find_spec_files(paths)
    result = LoadResult(errors=errors)
    for file in files:
        specs, problems, warnings = _load_file(file, os.environ)
        result.files.append(str(file))
        result.specs.extend(specs)
        result.errors.extend(problems)
        result.warnings.extend(warnings)
    _check_unique_names(result)
    result.warnings += [w for spec in result.specs for w in spec_warnings(spec)]
    return result


Loaded = tuple[list[Spec], list[SpecError], list[str]]


def load_file(path: Path) -> tuple[list[Spec], list[SpecError]]:
    """All documents of one file (``${VAR}`` resolved from this process's environment)."""
    specs, errors, _ = _load_file(path, os.environ)
    return specs, errors


def _load_file(path: Path, environ: Mapping[str, str]) -> Loaded:
    shown = str(path)
    text, errors = read_text(path, shown)
    if text is None:
        return [], errors, []
    if not split_documents(text):
        return [], [SpecError(shown, 1, 1, "", "file is empty: expected a PerformanceFlow spec "
                                               "(apiVersion: perfopt/v1)")], []
    return _load_text(text, shown, path.parent, environ)


def load_text(text: str, name: str = "<spec>", base_dir: Path | None = None,
              environ: Mapping[str, str] | None = None) -> tuple[list[Spec], list[SpecError]]:
    """Load the specs of every document in ``text`` (a file's contents, or tests, stdin);
    ``${VAR}`` resolves from ``environ`` (default: this process's environment)."""
    specs, errors, _ = _load_text(text, name, base_dir, os.environ if environ is None else environ)
    return specs, errors


def _load_text(text: str, name: str, base_dir: Path | None, environ: Mapping[str, str]) -> Loaded:
    """Specs, errors and the documents' warnings (engine.spec.lint.document_warnings)."""
    errors: list[SpecError] = []
    specs: list[Spec] = []
    warnings: list[str] = []
    for index, (first_line, body) in enumerate(split_documents(text)):
        parsed = parse_document(name, index, first_line, body)
        if isinstance(parsed, SpecError):
            errors.append(parsed)
            continue
        spec, problems = load_document(parsed, base_dir or Path.cwd(), environ)
        errors.extend(problems)
        warnings += document_warnings(parsed, environ)
        if spec is not None and not problems:
            specs.append(spec)
    return specs, errors, warnings


def load_document(doc: Document, base_dir: Path, environ: Mapping[str, str] | None = None
                  ) -> tuple[Spec | None, list[SpecError]]:
    """Resolve ``${VAR}`` (engine.spec.envsubst), coerce, validate against the schema, then
    build records with semantic checks."""
    if not isinstance(doc.data, dict):
        got = "a list" if isinstance(doc.data, list) else f"{str(doc.data)[:40]!r}"
        return None, [SpecError(doc.file, doc.first_line, 1, "",
                                f"expected a mapping with apiVersion: perfopt/v1, got {got}")]
    resolved = substitute(doc, os.environ if environ is None else environ)
    secret = resolved.secret_values
    if resolved.errors:
        return None, _without_secrets(resolved.data, resolved.errors, secret)
    data = Coercer(load_schema()).coerce(resolved.data)
    errors = schema_errors(doc, data)
    if errors:
        return None, _without_secrets(resolved.data, errors, secret)
    ctx = Ctx(doc, base_dir)
    spec = dataclasses.replace(_build(ctx, data), secret_values=secret)
    return spec, _without_secrets(resolved.data, sorted(ctx.errors, key=lambda e: (e.line, e.column)),
                                  secret)


def _without_secrets(raw: dict[str, Any], errors: list[SpecError],
                     from_env: tuple[str, ...] = ()) -> list[SpecError]:
    """Error messages never repeat a secret: values of secret headers and ``start.env``
    names, query parameters named in ``secrets:``, URL passwords, and every value taken
    from the environment."""
    if not errors:
        return errors
    listed = raw.get("secrets")
    names = [str(s) for s in listed] if isinstance(listed, list) else []
    values = [*secret_values_in(raw, secret_names(names)), *from_env]
    return [dataclasses.replace(e, message=redact(e.message, names, values)) for e in errors]


def _build(ctx: Ctx, data: dict[str, Any]) -> Spec:
    journeys = build_journeys(ctx, data["journeys"])
    names = {j.name for j in journeys}
    slis = build_slis(ctx, data.get("slis", []), names)
    slos = build_slos(ctx, data.get("slos", []), slis, names)
    production = build_production(ctx, data.get("production"))
    slos = attach_production(ctx, data.get("slos", []), slos, production)
    profiles = build_profiles(ctx, data["load"])
    check_shapes(ctx, profiles, production)
    execution = build_execution(ctx, data.get("execution"))
    profiles = with_execution(profiles, execution)
    if not profiles:
        ctx.error(("load",), "expected at least one profile: baseline, stress, soak, spike or capacity")
    criteria = {str(k): float(v) for k, v in data.get("criteria", {}).items()}
    _check_weights(ctx, criteria)
    hypotheses = build_hypotheses(ctx, data.get("hypotheses", []), slos,
                                  {p.name: p for p in profiles}, set(criteria), names)
    meta = data["metadata"]
    return Spec(
        name=str(meta["name"]), component=str(meta["component"]), trigger=data["trigger"],
        target=build_target(ctx, data["target"], ("target",)), journeys=journeys, slos=slos,
        profiles=profiles, hypotheses=hypotheses,
        execution=execution,
        gates=build_gates(ctx, data.get("gates"), bool(hypotheses)), slis=slis,
        data=build_data(ctx, data.get("data", [])), report=build_report(data.get("report", {})),
        history=build_history(ctx, data.get("history", {})), project=str(meta.get("project", "")),
        description=str(meta.get("description", "")),
        secrets=tuple(str(s) for s in data.get("secrets", [])) + header_secrets(production),
        cost_per_hour=data.get("cost", {}).get("per_hour"),
        cost=build_cost(ctx, data.get("cost")),
        criteria=MappingProxyType(criteria), source=ctx.location(()),
        source_text_hash=hashlib.sha256(ctx.doc.text.encode()).hexdigest()[:16],
        production=production,
        extra=MappingProxyType({**tracing_extra(data.get("tracing")),
                                **profiling_extra(data.get("profiling")),
                                **target_metrics_extra(ctx, data["target"], production)}))


def _check_weights(ctx: Ctx, criteria: dict[str, float]) -> None:
    if criteria and abs(sum(criteria.values()) - 1.0) > 0.01:
        ctx.error(("criteria",), f"expected weights summing to 1, got {sum(criteria.values()):g}")


def _check_unique_names(result: LoadResult) -> None:
    seen: dict[str, Spec] = {}
    for spec in result.specs:
        if spec.name in seen and spec.source is not None:
            first = seen[spec.name].source
            result.errors.append(SpecError(spec.source.file, spec.source.line, 1, "metadata.name",
                                           f"duplicate spec name {spec.name!r} (first at {first})"))
        seen.setdefault(spec.name, spec)
