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
