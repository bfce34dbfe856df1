"""The code that decides a fold's numbers, as one digest in every fold cache key.

A commit that changes what a fold computes used to need a hand-bumped CACHE_VERSION; forgotten once, a
workspace with cached folds reported what a fresh clone did not. The digest covers the fold module and
every module of the package it imports, directly or not, so any edit there (a comment too: the safe
side) recomputes the folds, and an edit elsewhere (the report, the flows) keeps them. What names and
summarises a fold's numbers (core.schema, crossval.records, crossval.summary) is kept out of the fold
code on purpose: rewording a column or changing a summary never retrains a fold.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

FOLD_MODULE = "distilbench.crossval.fold"
TIMING_MODULE = "distilbench.crossval.timing"


def imported_names(source: str) -> set[str]:
    """Every absolute import of a module, and of each name `from <module> import <name>` (which may be
    a submodule); relative imports are not used in this package."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def package_root(package: str) -> Path:
    """The folder of a top-level package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{package!r} is not an installed package")
    return Path(next(iter(spec.submodule_search_locations)))


def module_file(name: str, package: str, root: Path) -> Path | None:
    """The source file of a module of the package, None for a name that is not one (a class imported by
    name). Found by path, not imported: nothing heavy loads to compute a cache key."""
    parts = name.split(".")[1:]
    for candidate in (root.joinpath(*parts, "__init__.py"), root.joinpath(*parts).with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def module_closure(entry: str, package: str, root: Path | None = None) -> dict[str, Path]:
    """entry and every module of `package` it imports, directly or through another: name -> file.
    `root`: the package's folder, when not the installed one (a copy to check what an edit changes)."""
    root = root or package_root(package)
    found: dict[str, Path] = {}
    pending = [entry]
    while pending:
        name = pending.pop()
        path = None if name in found else module_file(name, package, root)
        if path is None:
            continue
        found[name] = path
        imported = imported_names(path.read_text(encoding="utf-8"))
        # a package's __init__ runs on every import of its modules
        parents = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
        pending += [n for n in imported | parents if n == package or n.startswith(f"{package}.")]
    return found


def closure_digest(entry: str, package: str, root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for name, path in sorted(module_closure(entry, package, root).items()):
        digest.update(f"{name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def fold_code_digest() -> str:
    """The digest of this installation's fold code (computed once per process)."""
    return closure_digest(FOLD_MODULE, "distilbench")


@functools.cache
def timing_code_digest() -> str:
    """The digest of the code that times a fold's rows together (crossval.timing, the fold code with it)."""
    return closure_digest(TIMING_MODULE, "distilbench")
