"""The house rules that keep one change in one place: imports point one way, with no circle, through
src/distilbench, flows/ and bench/; and the tests mirror the packages they test."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "distilbench"
TESTS = REPO / "tests"

# The layers, lowest first: a module imports only from its own package and the packages below it (type-only
# and function-local imports included), so each package can be read, tested and replaced knowing only what
# lies beneath it.
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
# Above the packages: flows/ wraps them as Prefect flows, the CLI starts the flows, bench/ may use all of it.
FLOWS, ENTRY, BENCH = len(LAYERS), len(LAYERS) + 1, len(LAYERS) + 2
# tests/ beside the package mirrors: cross-package suites, this file's folder, docs (the user pages)
SUITES = {"end_to_end", "faults", "bench", "architecture", "docs"}


def rank(module: str) -> int | None:
    """A module's height: layers by index, then flows, the entry points, bench; None outside the project.
    The package root (its docstring and version, where its files lie) sits below everything."""
    parts = module.split(".")
    if module == "distilbench":
        return -1
    if parts[0] == "distilbench":
        return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else ENTRY
    return {"flows": FLOWS, "bench": BENCH}.get(parts[0])


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports: import statements anywhere in it, and importlib.import_module calls
    (a string's literal head, so `import_module(f"flows.{stage}")` counts as importing flows)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # a submodule, if one
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" and node.args:
            head = node.args[0]
            if isinstance(head, ast.JoinedStr) and head.values and isinstance(head.values[0], ast.Constant):
                head = head.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                names.add(head.value.rstrip("."))
    return names


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent if path.is_relative_to(SRC) else REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> list[Path]:
    return sorted([*SRC.rglob("*.py"), *(REPO / "flows").rglob("*.py"), *(REPO / "bench").rglob("*.py")])


MODULES = {module_name(path): path for path in project_files()}


def project_imports(path: Path) -> set[str]:
    """The project modules a file imports, each resolved to a module that exists (a name imported from a
    module is the module itself)."""
    found = set()
    for name in imported_modules(path):
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def test_the_top_level_holds_only_the_entry_points_and_the_layer_packages():
    modules = {p.name for p in SRC.glob("*.py")}
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules == ENTRY_POINTS
    assert packages == set(LAYERS)


@pytest.mark.parametrize("package", LAYERS)
def test_each_package_says_what_it_owns(package):
    assert ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text()))


@pytest.mark.parametrize("path", project_files(), ids=lambda p: str(p.relative_to(REPO)).removesuffix(".py"))
def test_imports_point_down_the_layers_only(path):
    here = rank(module_name(path))
    upward = sorted(m for m in imported_modules(path) if (r := rank(m)) is not None and r > here)
    assert not upward, f"{path.relative_to(REPO)} imports from a layer above it: {upward}"
    assert not {m for m in imported_modules(path) if m.split(".")[0] == "tests"}, "the project imports tests"


def cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Each import circle once, as the path that closes it (depth-first, colouring finished modules)."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> Iterator[list[str]]:
        for target in sorted(graph.get(module, ())):
            if target in path:
                yield [*path[path.index(target) :], target]
            elif target not in done:
                yield from visit(target, [*path, target])
        done.add(module)

    for start in sorted(graph):
        if start not in done:
            yield from visit(start, [start])


def test_no_import_circle_through_src_flows_and_bench():
    """A package's __init__ is where its name is imported from, not a use of its modules: it is left out
    as a target, so `from distilbench.core import paths` is an edge to core.paths only."""
    graph = {
        module: {m for m in project_imports(path) if m != module and MODULES[m].name != "__init__.py"}
        for module, path in MODULES.items()
    }
    assert not list(cycles(graph))


def test_the_checks_see_an_upward_import_and_a_circle(tmp_path):
    """The checks themselves: a tracking module importing a crossval name is caught, type-only or not, as
    is a dynamic import of flows; and a circle a -> b -> a is found."""
    module = tmp_path / "runs.py"
    module.write_text(
        "import importlib\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from distilbench.crossval.fold import X\nimportlib.import_module(f'flows.{name}')\n"
    )
    above = {m for m in imported_modules(module) if (rank(m) or 0) > LAYERS.index("tracking")}
    assert {"distilbench.crossval.fold", "flows"} <= above
    assert list(cycles({"a": {"b"}, "b": {"a", "c"}, "c": set()})) == [["a", "b", "a"]]


def test_no_module_of_src_imports_prefect():
    """Prefect belongs to flows/: the library runs (and is tested) without an orchestrator."""
    for module in SRC.rglob("*.py"):
        assert not {m for m in imported_modules(module) if m.split(".")[0] == "prefect"}, module


def test_the_tests_mirror_the_packages():
    """tests/<package>/ for each layer package, beside the cross-package suites, each a package; at the top
    only the harness and helpers (no test module)."""
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(LAYERS) | SUITES
    assert all((TESTS / folder / "__init__.py").is_file() for folder in folders)
    assert not sorted(p.name for p in TESTS.glob("test_*.py"))


@pytest.mark.parametrize("package", LAYERS)
def test_each_test_module_is_named_after_a_module_of_its_package(package):
    """tests/<package>/test_<module>[_<aspect>].py for src/distilbench/<package>/<module>.py."""
    modules = {p.stem for p in (SRC / package).glob("*.py")} - {"__init__"}
    for test in (TESTS / package).glob("test_*.py"):
        name = test.stem.removeprefix("test_")
        assert any(name == m or name.startswith(f"{m}_") for m in modules), f"{test.relative_to(REPO)}"
