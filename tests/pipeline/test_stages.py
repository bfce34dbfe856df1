"""The stage list agrees with dvc.yaml: each DVC stage runs its CLI command with the paths' defaults."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from distilbench.pipeline.stages import STAGES

REPO = Path(__file__).resolve().parents[2]


def dvc_stages() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def test_dvc_yaml_has_exactly_the_stages_of_the_list():
    assert set(dvc_stages()) == set(STAGES)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_each_dvc_stage_runs_its_cli_command_with_the_paths_modules_defaults(stage):
    words = shlex.split(dvc_stages()[stage]["cmd"])
    assert words[:4] == ["python", "-m", "distilbench", stage]
    given = dict(zip(words[4::2], words[5::2], strict=True))
    assert given == {f"--{name}": default for name, default in STAGES[stage].items()}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_each_stage_depends_on_all_the_code_so_no_edit_leaves_it_stale(stage):
    deps = dvc_stages()[stage]["deps"]
    assert "src/distilbench" in deps and "flows" in deps


def test_bytecode_is_not_a_dependency():
    ignored = (REPO / ".dvcignore").read_text().split()
    assert "__pycache__/" in ignored and "*.pyc" in ignored
