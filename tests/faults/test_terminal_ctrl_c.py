"""A terminal's Ctrl-C during `dvc repro` or `make run`: SIGINT to the whole foreground process group
(dvc, the stage's shell and the stage; `make run`'s `distilbench repro` too), with no PREFECT_API_URL, so
a temporary Prefect server runs (core.temporary_server): the stage's own, or one `distilbench repro`
started for all the stages. Every process, the server included, is gone within seconds; the stage says
so in one line, with no traceback; the rerun trains only the folds that had not finished."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from distilbench.core import detached
from distilbench.pipeline.experiments import DVC
from tests.core.test_detached import gone
from tests.faults.conftest import (
    PLANNED,
    Command,
    assert_no_traceback,
    assert_study_whole,
    measured,
    rerun,
    tree_digest,
)
from tests.faults.test_dvc_repro import as_dvc_project
from tests.faults.test_signals import all_labels

pytestmark = pytest.mark.skipif(not detached.supported(), reason="the parent-death signal is Linux's")

ALL_GONE_SECONDS = 10  # the bar: every process gone within 10 s of the Ctrl-C
EPOCHS = 6  # fewer than the suite's: this test pays for a temporary server and a dvc process too
MID_FOLD_2 = r"\| teacher \| fold 2/3 epoch 2/"  # fold 1's teacher and student are finished and logged


# how a user reproduces the pipeline: dvc itself (each stage starts its temporary server), or `make run`
REPRO = {
    "dvc-repro": [*DVC, "repro"],
    "make-run": [sys.executable, "-m", "distilbench", "repro"],  # one temporary server for all stages
}


def repro_in_a_terminal_group(root: Path, repro: list[str]) -> Command:
    """The crossval stage alone, reproduced by `repro`, in a process group of its own (a terminal's
    foreground job), reporting to no Prefect server: a temporary one is started."""
    env = {**os.environ, "DISTILBENCH_PROGRESS": "0"}
    env.pop("PREFECT_API_URL", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])  # dvc.yaml's `python`
    process = subprocess.Popen(
        [*repro, "--single-item", "crossval"],
        cwd=root,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Command(process)


def family(pid: int) -> list[psutil.Process]:
    """`pid` and all its descendants, whatever their session (the temporary server has its own)."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def ending_times(processes: list[psutil.Process], sent_at: float, timeout: float) -> dict[str, float]:
    """Seconds from `sent_at` until each process ended (`<name> <pid>` -> seconds); the ones still
    running after `timeout` are left out."""
    ended: dict[str, float] = {}
    names = {p.pid: f"{' '.join(p.cmdline()[:3])[-40:]} {p.pid}" for p in processes}
    while len(ended) < len(processes) and time.monotonic() - sent_at < timeout:
        for p in processes:
            if names[p.pid] not in ended and gone(p.pid, timeout=0):
                ended[names[p.pid]] = time.monotonic() - sent_at
        time.sleep(0.05)
    return ended


@pytest.mark.parametrize(
    "repro", [REPRO["dvc-repro"], pytest.param(REPRO["make-run"], marks=pytest.mark.slow)], ids=list(REPRO)
)
def test_a_terminals_ctrl_c_ends_dvc_the_stage_and_its_server_within_seconds_in_one_line(study, repro):
    study.raw["train"]["epochs"] = EPOCHS
    study.save()
    shutil.move(study.prepared, study.root / "data" / "prepared")  # where dvc.yaml's crossval reads it
    root = as_dvc_project(study)
    prepared = tree_digest(Path(study.prepared))
    command = repro_in_a_terminal_group(root, repro)
    command.wait_for(MID_FOLD_2, timeout=400)  # a loaded 2-core machine: the server's start alone took 45 s
    processes = family(command.process.pid)
    assert any("uvicorn" in " ".join(p.cmdline()) for p in processes), "no temporary server was started"

    sent_at = time.monotonic()
    os.killpg(command.process.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole foreground group
    ended = ending_times(processes, sent_at, timeout=ALL_GONE_SECONDS)

    assert command.finish(timeout=60) != 0
    assert len(ended) == len(processes), f"{ended} of {processes}\n{command.output[-3000:]}"
    for name, seconds in ended.items():
        measured(f"a terminal's Ctrl-C in dvc repro: {name} gone", seconds)
    stopped = [line for line in command.lines if line.startswith("stopped:")]
    assert len(stopped) == 1 and "ended cleanly on Ctrl-C" in stopped[0], command.output[-3000:]
    assert_no_traceback(command)
    assert [r.info.run_name for r in study.runs() if r.info.status == "RUNNING"] == []

    before = command.trained()
    trained_again = rerun(study, "a terminal's Ctrl-C")

    # only the interrupted fold and those never started are trained: nothing finished is redone
    assert sorted(trained_again) == sorted(set(all_labels(study)) - set(before[:-1]))
    assert len(before) - 1 + len(trained_again) == PLANNED
    assert_study_whole(study, prepared)
