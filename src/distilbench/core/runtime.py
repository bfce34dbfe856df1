"""Where and how tensors are computed: device, mixed precision, CPU threads, seeds."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock, Timeout


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    autocast_dtype: torch.dtype | None  # None = full fp32

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        # fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none
        return torch.amp.GradScaler(self.device.type, enabled=self.autocast_dtype == torch.float16)


def pick_device() -> torch.device:
    """CUDA when there is one, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def visible_gpus() -> int:
    """The CUDA devices this process may use (after CUDA_VISIBLE_DEVICES; one on a dask-cuda worker)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@contextlib.contextmanager
def claim_gpu(lock_dir: Path, gpus: int, poll_seconds: float = 1.0) -> Iterator[int]:
    """Hold the first of this host's `gpus` devices that no other fold task holds, and yield its index.

    The Prefect concurrency limit caps how many fold tasks use GPUs at once; this says *which* one each
    gets: a lock file per host and device, so threads, Dask worker processes and machines sharing the
    cache directory never pick the same card.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname()
    while True:
        for index in range(gpus):
            lock = FileLock(lock_dir / f"gpu-{host}-{index}.lock")
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            try:
                yield index
            finally:
                lock.release()
            return
        # a cluster-wide limit larger than this host's GPUs: wait for one of them to free up
        time.sleep(poll_seconds)


def resolve_runtime(precision: str, device: torch.device | None = None) -> Runtime:
    """Turn the `train.precision` setting into a device and an autocast dtype.

    auto: bf16 on a CUDA card that supports it, else fp16 on CUDA; fp32 on CPU, where bf16 autocast
    is slower than fp32 on most processors.
    """
    device = device or pick_device()
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return Runtime(device, None)
    if precision == "auto":
        bf16 = torch.cuda.is_bf16_supported()
        return Runtime(device, torch.bfloat16 if bf16 else torch.float16)
    return Runtime(device, {"bf16": torch.bfloat16, "fp16": torch.float16}[precision])


def set_threads(parallel_tasks: int = 1) -> int:
    """Give each parallel fold task its share of the cores.

    Torch defaults to one thread per core in every task; two tasks on two cores then oversubscribe, and a
    fit was measured 60x slower that way on this project's 2-core machines.
    """
    cores = os.cpu_count() or 1
    threads = max(1, cores // max(1, parallel_tasks))
    torch.set_num_threads(threads)
    return threads


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
