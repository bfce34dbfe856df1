"""The Prefect side of GPU placement: a global concurrency limit with one slot per GPU.

Fold tasks on CUDA occupy a slot of `distilbench-gpus` for the whole fold, so no more folds train at
once than there are cards, whatever the task runner (threads, Dask workers) or the number of flow runs.
The limit is created by the first fold task that needs it, sized to the GPUs it sees, and then left as
it is: a user who fans out over a cluster raises it on the dashboard's Concurrency page to the cluster's
GPU count, and no run resets it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists

from distilbench.core.runtime import claim_gpu, visible_gpus

GPU_LIMIT = "distilbench-gpus"


def ensure_gpu_limit(gpus: int) -> None:
    """Create the limit if it is missing (idempotent: an existing one, maybe resized by hand, is kept)."""
    # ObjectAlreadyExists: it was there already, or another fold task created it first
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=GPU_LIMIT, limit=gpus))


@contextlib.contextmanager
def fold_device(lock_dir: Path) -> Iterator[str | None]:
    """The device a fold runs on: None (CPU) without CUDA; else "cuda:<i>", holding a slot of the limit
    and GPU i of this host until the fold is done."""
    gpus = visible_gpus()
    if gpus == 0:
        yield None
        return
    ensure_gpu_limit(gpus)
    # strict: a limit that cannot be found raises instead of silently meaning "no limit"
    with concurrency(GPU_LIMIT, occupy=1, strict=True), claim_gpu(lock_dir, gpus) as index:
        yield f"cuda:{index}"
