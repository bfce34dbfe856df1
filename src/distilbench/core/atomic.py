"""Writes that never leave a half-written file behind: a crash keeps the previous version whole."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from distilbench.core.errors import STORAGE_ERRNOS, StorageError, as_os_error

# besides a full or read-only disk: an output path that runs into a file, or names a folder
REFUSED = STORAGE_ERRNOS | {errno.ENOTDIR, errno.EISDIR, errno.EEXIST}


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    Readers (a student reading its teacher's logits, DVC, a user) see the old file or the new one, never
    a part; on an error (a full disk, a kill) the temporary file is removed and ``path`` is untouched.
    """
    with refused_writes(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # same directory: a rename within one file system is atomic; keep the suffix for writers needing it
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        with refused_writes(path):
            yield Path(tmp)
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_paths(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """:func:`atomic_path` for several files that belong together (a report): all replaced, or none."""
    with contextlib.ExitStack() as stack:
        temporaries = [stack.enter_context(atomic_path(Path(p))) for p in paths]
        # innermost, so a failed write names the folder, not whichever file was opened last
        with refused_writes(Path(paths[0]).parent):
            yield temporaries


@contextlib.contextmanager
def refused_writes(where: Path) -> Iterator[None]:
    """A full disk or a read-only place is the machine's state, not a bug: one StorageError line. Writers
    that raise no OSError (safetensors' SafetensorError) count when their message names the OS error."""
    try:
        yield
    except Exception as error:
        refused = as_os_error(error)
        if isinstance(error, StorageError) or refused is None or refused.errno not in REFUSED:
            raise
        detail = refused.strerror or str(refused)
        if refused.filename and str(refused.filename) != str(where):  # e.g. the folder that is a file
            detail += f": {refused.filename}"
        raise StorageError(f"{where}: cannot be written ({detail}); nothing was changed") from error


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """One folder written whole or not at all: :func:`atomic_directories` for a single target."""
    with atomic_directories([target]) as (staging,):
        yield staging


@contextlib.contextmanager
def atomic_directories(targets: Sequence[Path]) -> Iterator[list[Path]]:
    """Yield one empty staging folder per target; on success they all take their targets' places.

    All or nothing: an error while filling the staging folders (bad data, a full disk, a kill) leaves
    every target as it was, and if one swap fails the ones already made are undone. Previous targets
    stay until the new ones are in place, so a half-filled folder is never taken for a finished one.
    Staging folders are hidden and marked with "+" (which dataset and asset names cannot contain):
    the leftovers of a killed run are found by name and removed.
    """
    stagings: list[Path] = []
    try:
        with refused_writes(Path(targets[0]).parent if targets else Path.cwd()):
            stagings += [_staging(Path(target)) for target in targets]
            yield stagings
        _swap_all(list(zip(map(Path, targets), stagings, strict=True)))
    finally:
        for staging in stagings:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(staging.with_suffix(".old"), ignore_errors=True)


def _staging(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}+*"):
        shutil.rmtree(leftover, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}+", suffix=".tmp", dir=target.parent))


def _swap_all(pairs: list[tuple[Path, Path]]) -> None:
    """Put each staging folder in its target's place, keeping the old target beside it until all moved."""
    done: list[tuple[Path, Path, bool]] = []
    try:
        for target, staging in pairs:
            old, existed = staging.with_suffix(".old"), target.exists()
            if existed:
                os.replace(target, old)
            done.append((target, old, existed))
            os.replace(staging, target)
    except BaseException:
        for target, old, existed in reversed(done):  # undo: every target back as it was (or absent)
            shutil.rmtree(target, ignore_errors=True)
            if existed:
                os.replace(old, target)
        raise
