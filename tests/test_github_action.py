"""The composite action (action.yml) and the example workflow are structurally sound (#16).

Parsed with the YAML library strictyaml ships (ruamel, YAML 1.2: ``on`` stays a string);
every ``run:`` script passes ``bash -n``; the flags the action gives apply exist; the
cached path is the engine's default history path.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from typing import Any

import pytest
from strictyaml.ruamel import YAML

from tests.support.specs import REPO

ACTION = REPO / "action.yml"
EXAMPLE = REPO / "docs" / "examples" / "github-actions.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _load(path: Any) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return data


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _load(ACTION)["runs"]["steps"]
    return steps


def _step(uses_prefix: str) -> dict[str, Any]:
    [step] = [s for s in _steps() if str(s.get("uses", "")).startswith(uses_prefix)]
    return step


def test_action_is_a_composite_action_with_the_documented_inputs() -> None:
    action = _load(ACTION)
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {"path", "gates", "args", "history-path", "reports-dir"} <= set(inputs)
    assert all(isinstance(spec.get("description"), str) for spec in inputs.values())
    for step in _steps():
        assert ("uses" in step) != ("run" in step), step
        if "run" in step:
            assert step["shell"] == "bash"  # a composite run step must name its shell
        assert step.get("name")


def test_every_expression_names_an_input_or_step_that_exists() -> None:
    action, text = _load(ACTION), ACTION.read_text(encoding="utf-8")
    ids = {s["id"] for s in _steps() if "id" in s}
    for expr in EXPRESSION.findall(text):
        for name in re.findall(r"inputs\.([\w-]+)", expr):
            assert name in action["inputs"], expr
        for name in re.findall(r"steps\.([\w-]+)\.", expr):
            assert name in ids, expr


def test_history_database_is_restored_before_and_saved_after_apply() -> None:
    from engine.spec.model import HistorySettings

    action = _load(ACTION)
    assert action["inputs"]["history-path"]["default"] == HistorySettings().path
    names = [str(s.get("uses", s.get("id", ""))) for s in _steps()]
    restore = next(i for i, n in enumerate(names) if n.startswith("actions/cache/restore@"))
    apply = names.index("apply")
    save = next(i for i, n in enumerate(names) if n.startswith("actions/cache/save@"))
    assert restore < apply < save
    restored, saved = _step("actions/cache/restore@"), _step("actions/cache/save@")
    assert restored["with"]["path"] == saved["with"]["path"] == "${{ inputs.history-path }}"
    assert restored["with"]["key"] == saved["with"]["key"]  # the save is what a restore finds
    assert "github.run_id" in saved["with"]["key"]  # caches are immutable: one key per run
    assert saved["if"] == "always()"  # a failed gate's run is history too


def test_apply_runs_with_the_inputs_and_the_job_fails_on_its_exit_code() -> None:
    from engine.commands.apply import add_arguments

    [apply] = [s for s in _steps() if s.get("id") == "apply"]
    script = apply["run"]
    assert "perfopt-engine apply $PERFOPT_PATHS" in script
    assert 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in script
    assert set(apply["env"].values()) == {"${{ inputs.path }}", "${{ inputs.gates }}",
                                          "${{ inputs.args }}", "${{ inputs.reports-dir }}"}
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    apply_options = {o for a in parser._actions for o in a.option_strings}
    assert {f for f in re.findall(r"(--[a-z-]+)", script)} <= apply_options
    upload = _step("actions/upload-artifact@")
    assert upload["with"]["path"] == "${{ inputs.reports-dir }}" and upload["if"] == "always()"
    last = _steps()[-1]
    assert last["env"]["CODE"] == "${{ steps.apply.outputs.exit-code }}"
    assert 'exit "${CODE:-3}"' in last["run"] and "GITHUB_STEP_SUMMARY" in last["run"]
    assert 'pip install "$GITHUB_ACTION_PATH"' in _steps()[1]["run"]


RUN_STEPS = [s for s in _steps() if "run" in s]


@pytest.mark.parametrize("step", RUN_STEPS, ids=[s["name"] for s in RUN_STEPS])
def test_every_run_script_is_valid_bash(step: dict[str, Any]) -> None:
    script = EXPRESSION.sub("x", step["run"])
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr


def test_example_workflow_uses_the_action_with_its_inputs() -> None:
    workflow, action = _load(EXAMPLE), _load(ACTION)
    assert {"name", "on", "jobs"} <= set(workflow)
    assert "pull_request" in workflow["on"]
    [job] = workflow["jobs"].values()
    assert job["runs-on"] and job["timeout-minutes"] > 0
    uses = [s.get("uses", "") for s in job["steps"]]
    assert uses[0].startswith("actions/checkout@")
    [gate] = [s for s in job["steps"] if s.get("uses") == "./"]
    assert set(gate["with"]) <= set(action["inputs"])
    assert gate["with"]["history-path"] == action["inputs"]["history-path"]["default"]
    assert (REPO / gate["with"]["path"]).exists()
