"""`python -m tests.faults.inject <distilbench arguments>`: the distilbench command, with the fault named
by the FAULT environment variable planted first (none: the plain command).

A fault is planted by replacing one function of the pipeline with one that fails, or stalls, at the
moment the test chose; everything else (Prefect, MLflow, the stage's own handling) is the real code.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import sys
import time

import requests

import distilbench.crossval.fold as fold
import distilbench.crossval.stage as stage
from distilbench.cli import main

LAST_TEACHER_FOLD = "| teacher | fold 3/3"
FILE_SIZE_LIMIT = 4096  # bytes: a tiny model's weights are tens of kilobytes


def say(text: str) -> None:
    print(f"FAULT {text}", file=sys.stderr, flush=True)


def slow_logging() -> None:
    """Fold 1's teacher is computed; its logging takes 5 s (a slow store): the test signals meanwhile."""
    real = stage.log_fold

    def slow(job, result, savings):
        if "| teacher | fold 1/" in job.label:
            say(f"logging {job.label}")
            time.sleep(5)
        return real(job, result, savings)

    stage.log_fold = slow


def store_gone() -> None:
    """The MLflow store stops answering when the last teacher fold logs, and does not come back."""
    real = stage.log_fold

    def refused(job, result, savings):
        if LAST_TEACHER_FOLD in job.label:
            say(f"store away while logging {job.label}")
            raise requests.ConnectionError("HTTPConnectionPool: Max retries exceeded (Connection refused)")
        return real(job, result, savings)

    stage.log_fold = refused


def disk_full_model() -> None:
    """The disk fills while fold 2's teacher model is saved: safetensors' own writer meets a real
    file-size limit (RLIMIT_FSIZE, as `ulimit -f` sets it) and fails as on a full disk (EFBIG, or ENOSPC
    on a full disk: the same error, SafetensorError, carrying no errno)."""
    real = fold.save_model
    calls = []
    # the kernel then refuses a write past the limit with EFBIG instead of killing the process with
    # SIGXFSZ; set here, in the main thread (a fold saves in a worker thread, where signal() is refused)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def full(model, folder):
        calls.append(folder)
        if len(calls) != 3:  # fold 1's teacher and student saved; fold 2's teacher is the third
            return real(model, folder)
        say(f"file-size limit writing {folder}")
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, limits[1]))
        try:
            return real(model, folder)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)

    fold.save_model = full


def disk_full_artifact() -> None:
    """The disk fills while the MLflow artifacts of the last teacher fold are written."""
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    real = stage.log_fold

    def logging_onto_a_full_disk(job, result, savings):
        if LAST_TEACHER_FOLD not in job.label:
            return real(job, result, savings)
        say(f"disk full writing the artifacts of {job.label}")

        def full(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device", self.artifact_dir)

        saved = LocalArtifactRepository.log_artifact, LocalArtifactRepository.log_artifacts
        LocalArtifactRepository.log_artifact = LocalArtifactRepository.log_artifacts = full
        try:
            return real(job, result, savings)
        finally:
            LocalArtifactRepository.log_artifact, LocalArtifactRepository.log_artifacts = saved

    stage.log_fold = logging_onto_a_full_disk


FAULTS = {
    "slow-logging": slow_logging,
    "store-gone": store_gone,
    "disk-full-model": disk_full_model,
    "disk-full-artifact": disk_full_artifact,
}

if __name__ == "__main__":
    fault = os.environ.get("FAULT")
    if fault:
        FAULTS[fault]()
    sys.exit(main(sys.argv[1:]))
