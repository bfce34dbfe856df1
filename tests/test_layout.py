"""The house rules that keep one change in one place: paths agree with dvc.yaml, layering is one way."""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest
import yaml

from distilbench.cli import STAGES

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "distilbench"


def dvc_stages() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


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


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("module", sorted((SRC / "data").glob("*.py")), ids=lambda p: p.name)
def test_the_data_layer_imports_nothing_of_models_training_or_tracking(module):
    upward = {m for m in imported_modules(module) if m.startswith("distilbench.")}
    assert not {m for m in upward if m.split(".")[1] in {"models", "training", "tracking", "fold", "study"}}


def test_no_module_of_src_imports_prefect():
    """Prefect belongs to flows/: the library runs (and is tested) without an orchestrator."""
    for module in SRC.rglob("*.py"):
        assert not {m for m in imported_modules(module) if m.split(".")[0] == "prefect"}, module
