"""Ctrl-C, a scheduler's SIGTERM and `kill -9` in the middle of a fold, and Ctrl-C while a fold logs."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.faults.conftest import (
    PLANNED,
    assert_left_resumable,
    assert_no_traceback,
    assert_study_whole,
    measured,
    rerun,
    start_crossval,
    tree_digest,
)

MID_FOLD_2 = r"\| teacher \| fold 2/3 epoch 3/"


@pytest.mark.parametrize(
    ("sent", "code", "how"),
    [
        # CI's budget: test_terminal_ctrl_c.py[dvc-repro] stops a fold by Ctrl-C and reruns in CI; make
        # test-faults runs all three (SIGTERM takes the same path as Ctrl-C past the handler)
        pytest.param(signal.SIGINT, 130, "Ctrl-C", marks=pytest.mark.slow),
        pytest.param(signal.SIGTERM, 143, "SIGTERM", marks=pytest.mark.slow),
        pytest.param(signal.SIGKILL, -9, None, marks=pytest.mark.slow),
    ],
    ids=["ctrl-c", "sigterm", "kill-9"],
)
def test_a_signal_mid_fold_leaves_a_study_the_rerun_finishes_without_redoing_a_fold(study, sent, code, how):
    prepared = tree_digest(Path(study.prepared))
    command = start_crossval(study)
    command.wait_for(MID_FOLD_2)
    sent_at = time.monotonic()
    command.process.send_signal(sent)

    assert command.finish() == code, command.output[-3000:]
    exited_after = time.monotonic() - sent_at
    measured(f"{how or 'kill -9'}: exit after the signal", exited_after)
    assert exited_after < 30  # within a training step, not once the fold ends
    if how:  # a signal the process can catch: one line, no traceback
        stopped = [line for line in command.lines if line.startswith("stopped:")]
        assert len(stopped) == 1 and f"ended cleanly on {how}" in stopped[0], command.output[-3000:]
        assert_no_traceback(command)
    # kill -9 leaves its parents RUNNING (nothing can run): the rerun closes them
    finished = assert_left_resumable(study, prepared, unmarked=how is None)
    before = command.trained()
    assert len(finished) == len(before) - 1  # every fold trained but the interrupted one is logged

    trained_again = rerun(study, how or "kill -9")

    assert_study_whole(study, prepared)
    # only the interrupted fold and those never started are trained: nothing finished is redone
    assert sorted(trained_again) == sorted(set(all_labels(study)) - set(before[:-1]))
    assert len(before) - 1 + len(trained_again) == PLANNED


def all_labels(study) -> list[str]:
    return [f"tiny | {model} | fold {n}/3" for model in ("teacher", "student") for n in (1, 2, 3)]


@pytest.mark.slow
def test_ctrl_c_while_a_fold_logs_lets_it_finish_logging_and_stops_after(study):
    prepared = tree_digest(Path(study.prepared))
    command = start_crossval(study, fault="slow-logging")
    command.wait_for(r"FAULT logging tiny \| teacher \| fold 1/3")
    command.process.send_signal(signal.SIGINT)

    assert command.finish() == 130, command.output[-3000:]
    assert_no_traceback(command)
    finished = assert_left_resumable(study, prepared)
    # the fold being logged is logged whole, and no other fold starts
    assert [r.data.tags["fold"] + r.data.tags["model"] for r in finished] == ["1teacher"]
    assert command.trained() == ["tiny | teacher | fold 1/3"]

    assert "tiny | teacher | fold 1/3" not in rerun(study, "Ctrl-C while a fold logs")
    assert_study_whole(study, prepared)
