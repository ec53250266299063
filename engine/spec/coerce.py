"""Turn strictyaml's strings into the JSON types the schema asks for.

strictyaml (rightly) never guesses types, so without a schema every scalar is
a string. We walk the data beside the JSON schema and convert a string only
where the schema allows an integer, number or boolean and the text is one;
anything else is left for the validator to report with its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}

Schema = Mapping[str, Any]


class Coercer:
    """Schema-guided coercion; ``root`` is the whole schema (for ``$ref``)."""

    def __init__(self, root: Schema) -> None:
        self.root = root

    def coerce(self, value: Any, schema: Schema | None = None) -> Any:
        """A copy of ``value`` with scalars converted where ``schema`` wants it."""
        node = self._resolve(self.root if schema is None else schema)
        if isinstance(value, dict):
            return {k: self.coerce(v, self._property(node, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.coerce(v, self._items(node)) for v in value]
        if isinstance(value, str):
            return _convert(value, self._types(node))
        return value

    def _resolve(self, node: Schema) -> Schema:
        while "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            node = self.root["$defs"][name]
        return node

    def _branches(self, node: Schema) -> list[Schema]:
        """The node and every oneOf/anyOf branch, resolved."""
        out = [node]
        for key in ("oneOf", "anyOf"):
            out.extend(self._resolve(b) for b in node.get(key, ()))
        return out

    def _property(self, node: Schema, key: str) -> Schema:
        for branch in self._branches(node):
            props = branch.get("properties", {})
            if key in props:
                return self._resolve(props[key])
            extra = branch.get("additionalProperties")
            if isinstance(extra, Mapping):
                return self._resolve(extra)
        return {}

    def _items(self, node: Schema) -> Schema:
        for branch in self._branches(node):
            if isinstance(branch.get("items"), Mapping):
                return self._resolve(branch["items"])
        return {}

    def _types(self, node: Schema) -> set[str]:
        types: set[str] = set()
        for branch in self._branches(node):
            declared = branch.get("type")
            if isinstance(declared, str):
                types.add(declared)
            elif isinstance(declared, list):
                types.update(declared)
            for option in branch.get("enum", ()):
                types.add(type(option).__name__)
        return types


def _convert(text: str, types: set[str]) -> Any:
    stripped = text.strip()
    if "integer" in types and _INT.match(stripped):
        return int(stripped)
    if "number" in types and _FLOAT.match(stripped):
        number = float(stripped)
        return int(number) if number.is_integer() and "." not in stripped else number
    if "boolean" in types and stripped.lower() in _BOOLS:
        return _BOOLS[stripped.lower()]
    if "int" in types and _INT.match(stripped):  # enum of integers
        return int(stripped)
    return text


def coerce_json_body(value: Any) -> Any:
    """A free-form JSON body: numbers, booleans and null become JSON types."""
    if isinstance(value, dict):
        return {k: coerce_json_body(v) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce_json_body(v) for v in value]
    if isinstance(value, str):
        stripped = value.strip()
        if stripped in ("true", "false"):
            return stripped == "true"
        if stripped == "null":
            return None
        if _INT.match(stripped):
            return int(stripped)
        if _FLOAT.match(stripped):
            return float(stripped)
    return value
