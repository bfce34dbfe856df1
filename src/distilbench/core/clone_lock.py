"""One run at a time per clone: a second `dvc repro`, stage command or dashboard run is refused in one
line naming the first, instead of training the same folds beside it and logging them twice.

The lock is an OS file lock (filelock): a run killed even by `kill -9` releases it with its process. A
run that starts others (a dashboard study runs `dvc repro`, which runs each stage's command) hands its
token down in the environment, so its own stages go on under its lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from distilbench.core.errors import BusyError

LOCK_FILE = "run.lock"
HOLDER_FILE = "run.holder.json"  # who holds the lock: beside it, since a lock file's content is not ours
TOKEN_ENV = "DISTILBENCH_RUN_TOKEN"  # set for the holder's own child processes


def holder(cache: Path) -> dict:
    try:
        return json.loads((cache / HOLDER_FILE).read_text())
    except (OSError, ValueError):
        return {}


def describe(held_by: dict) -> str:
    if not held_by:
        return "another distilbench run"
    command, pid, started = (held_by.get(k, "?") for k in ("command", "pid", "started"))
    return f"`{command}` (pid {pid}, started {started})"


@contextlib.contextmanager
def one_run_per_clone(cache: Path, command: str | None = None) -> Iterator[None]:
    """Hold this clone's run lock (under `cache`) for the block, or raise BusyError naming its holder.

    Inside a run that holds it already (its token is in the environment): nothing to take.
    """
    token = os.environ.get(TOKEN_ENV)
    if token and holder(cache).get("token") == token:
        yield
        return
    cache.mkdir(parents=True, exist_ok=True)
    lock = FileLock(cache / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BusyError(
            f"{describe(holder(cache))} is running in this clone (lock {cache / LOCK_FILE}); "
            "wait for it to finish or stop it, then rerun"
        ) from None
    token = uuid.uuid4().hex
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    command = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    (cache / HOLDER_FILE).write_text(
        json.dumps({"pid": os.getpid(), "command": command, "started": started, "token": token})
    )
    previous = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = token  # the processes this run starts (DVC's stage commands) are part of it
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = previous
        with contextlib.suppress(OSError):
            (cache / HOLDER_FILE).unlink()
        lock.release()
