"""The README stays true: its spec reference matches the schema, CI runs its test command."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.specs import REPO


def _quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def test_quick_start_is_exactly_two_commands() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    assert commands[0].endswith("perfopt-engine apply specs/")
    assert re.search(r'\[test\]', commands[1]) and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    last = [ln for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")][-1]
    assert last.strip() == _quick_start()[1]


def test_spec_reference_generated_from_schema() -> None:
    result = subprocess.run([sys.executable, "tools/gen_spec_reference.py", "--check"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, "README spec reference is stale: run tools/gen_spec_reference.py"


def test_readme_names_every_cli_command() -> None:
    from engine.cli import COMMANDS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in COMMANDS if f"perfopt-engine {name}" not in readme]
    assert missing == []


def _properties(node: object, where: str = "#") -> list[tuple[str, dict[str, object]]]:
    """Every (pointer, property) of the schema, however deep."""
    out: list[tuple[str, dict[str, object]]] = []
    if isinstance(node, dict):
        for key, prop in node.get("properties", {}).items():
            out.append((f"{where}/properties/{key}", prop))
        for key, value in node.items():
            out += _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _properties(value, f"{where}/{i}")
    return out


def test_every_spec_property_says_what_it_does() -> None:
    import json

    schema = json.loads((REPO / "schemas" / "perfopt.v1.schema.json").read_text(encoding="utf-8"))
    bare = [where for where, prop in _properties(schema)
            if len(str(prop.get("description", "")).strip()) < 12]
    assert bare == [], "give these properties a description in tools/gen_spec_schema.py"


def test_spec_reference_has_a_table_for_every_object_and_shared_settings_once() -> None:
    import json

    sys.path.insert(0, str(REPO / "tools"))
    try:
        import gen_spec_reference as ref
    finally:
        sys.path.remove(str(REPO / "tools"))
    schema = json.loads((REPO / "schemas" / "perfopt.v1.schema.json").read_text(encoding="utf-8"))
    tables = [ref.node_at(schema, pointer) for _, pointer in ref.SECTIONS]
    objects = [prop for _, prop in _properties(schema)
               if isinstance(prop, dict) and "properties" in prop]
    objects += [prop["items"] for _, prop in _properties(schema)
                if isinstance(prop.get("items"), dict) and "properties" in prop["items"]]
    untabled = [o.get("description") for o in objects if o not in tables]
    assert untabled == []
    text = ref.render(schema)
    assert text.count("| `connect_timeout` |") == 1
    assert text.count("Also accepts every shared driver setting") == len(ref.PROFILES)
    assert "|  |\n" not in text, "a row without a meaning"
