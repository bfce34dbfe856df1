"""The house rules that keep one change in one place: paths agree with dvc.yaml, layering is one way."""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest
import yaml

from distilbench.cli import STAGES

REPO = Path(__file__).resolve().parents[2]
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


# The layers, lowest first: a module imports only from its own package and the packages below it (type-only
# imports included), so each package can be read, tested and replaced knowing only what lies beneath it.
LAYERS = (
    "core",
    "config",
    "data",
    "models",
    "training",
    "tracking",
    "crossval",
    "report",
    "deploy",
    "pipeline",
)
ENTRY_POINTS = {"__init__.py", "__main__.py", "cli.py"}  # the only modules beside the packages


def layer_of(module: str) -> int:
    """A distilbench module's layer; the entry points sit above every package."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else len(LAYERS)


def test_the_top_level_holds_only_the_entry_points_and_the_layer_packages():
    modules = {p.name for p in SRC.glob("*.py")}
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules == ENTRY_POINTS
    assert packages == set(LAYERS)


@pytest.mark.parametrize("package", LAYERS)
def test_each_package_says_what_it_owns(package):
    assert ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text()))


@pytest.mark.parametrize(
    "path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)).removesuffix(".py")
)
def test_imports_point_down_the_layers_only(path):
    here = layer_of("distilbench." + ".".join(path.relative_to(SRC).with_suffix("").parts))
    upward = sorted(m for m in imported_modules(path) if m.startswith("distilbench.") and layer_of(m) > here)
    assert not upward, f"{path.relative_to(SRC)} imports from a layer above it: {upward}"


def test_the_layer_check_sees_an_upward_import(tmp_path):
    """The check itself: a tracking module importing a crossval name is caught, type-only or not."""
    module = tmp_path / "runs.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from distilbench.crossval.fold import X\n"
    )
    assert [m for m in imported_modules(module) if layer_of(m) > LAYERS.index("tracking")]


def test_no_module_of_src_imports_prefect():
    """Prefect belongs to flows/: the library runs (and is tested) without an orchestrator."""
    for module in SRC.rglob("*.py"):
        assert not {m for m in imported_modules(module) if m.split(".")[0] == "prefect"}, module
