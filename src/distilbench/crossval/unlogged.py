"""Folds computed but not yet logged: kept on disk until the tracking store takes them.

A fold is computed first and logged after (crossval.stage.run_fold). If the store does not answer, or the
process dies in between, the next attempt (a Prefect retry, or a rerun) logs the kept result instead of
training the fold again. The file goes once the fold's run is FINISHED.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
from pathlib import Path

from distilbench.core.atomic import atomic_path
from distilbench.crossval.fold import FoldResult
from distilbench.crossval.plan import FoldJob

logger = logging.getLogger(__name__)

FOLDER = "unlogged"  # under the cache root


def unlogged_path(job: FoldJob) -> Path:
    return Path(job.cache_root) / FOLDER / f"{job.cache_key}.pickle"


def keep(job: FoldJob, result: FoldResult) -> FoldResult:
    with atomic_path(unlogged_path(job)) as tmp:
        tmp.write_bytes(pickle.dumps(result))
    return result


def kept(job: FoldJob) -> FoldResult | None:
    """The fold's result kept by an earlier attempt that could not log it, if any (an unreadable file,
    from a crash mid-write of an older version, is no result: the fold is computed again)."""
    path = unlogged_path(job)
    if not path.is_file():
        return None
    try:
        result = pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - any unreadable file means: compute the fold again
        return None
    logger.info("%s: computed by an earlier attempt and not yet logged; logging it now", job.label)
    return result


def forget(job: FoldJob) -> None:
    with contextlib.suppress(FileNotFoundError):
        unlogged_path(job).unlink()
