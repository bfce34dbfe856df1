"""The disk fills while a fold's model is saved, or while its MLflow artifacts are written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults.conftest import (
    assert_left_resumable,
    assert_no_traceback,
    assert_study_whole,
    error_lines,
    rerun,
    start_crossval,
    tree_digest,
)


@pytest.mark.slow  # CI's budget: tests/core/test_atomic.py fails each real writer in CI, safetensors too
def test_a_full_disk_while_a_fold_model_is_saved_stops_in_one_line_leaving_no_half_model(study):
    """Through the real writer: safetensors meets a file-size limit (EFBIG) mid-write."""
    prepared = tree_digest(Path(study.prepared))
    command = start_crossval(study, fault="disk-full-model")

    assert command.finish() == 2, command.output[-3000:]
    (line,) = error_lines(command)
    # safetensors' SafetensorError, which has no errno, read as the disk refusing the write
    assert "File too large" in line and "nothing was changed" in line, line
    assert str(Path(os.environ["DISTILBENCH_CACHE"]) / "timing") in line
    assert_no_traceback(command)
    # fold 2's teacher failed and its student never started; the other folds went on
    assert len(assert_left_resumable(study, prepared)) == 4
    cache = Path(os.environ["DISTILBENCH_CACHE"])
    assert not [p for p in cache.rglob("*") if "+" in p.name], "a half-written model folder was left"

    assert sorted(rerun(study, "a full disk while a model is saved")) == [
        "tiny | student | fold 2/3",
        "tiny | teacher | fold 2/3",
    ]
    assert_study_whole(study, prepared)


def test_a_full_disk_while_a_fold_logs_its_artifacts_keeps_the_fold_for_the_rerun(study):
    prepared = tree_digest(Path(study.prepared))
    command = start_crossval(study, fault="disk-full-artifact")

    assert command.finish() == 2, command.output[-3000:]
    (line,) = error_lines(command)
    assert "No space left on device" in line
    assert "tiny | teacher | fold 3/3 is computed and kept" in line
    assert_no_traceback(command)
    # folds 1 and 2 of both models; the half-logged fold 3 run is FAILED, never RUNNING, and not counted
    assert len(assert_left_resumable(study, prepared)) == 4

    assert rerun(study, "a full disk while artifacts are logged") == [
        "tiny | student | fold 3/3"
    ]  # the kept teacher fold is logged, not retrained
    assert_study_whole(study, prepared)
