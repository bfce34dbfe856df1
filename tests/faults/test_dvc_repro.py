"""Ctrl-C in the middle of `dvc repro` (what `make run` runs): the outputs of the last finished run stay
as they were (dvc.yaml's outs are `persist`, and every stage writes its files whole), and the next
`dvc repro` finishes the study, training only the folds that had not finished."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distilbench.pipeline.experiments import DVC
from tests.faults.conftest import PLANNED, Command, assert_study_whole, measured, tree_digest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = ["results/crossval.json", "reports", "dvc.lock"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def as_dvc_project(study) -> Path:
    """The study's folder as a git + DVC clone with the project's dvc.yaml (its paths: data/prepared, ...)."""
    root = study.root
    study.prepared, study.results = str(root / "data" / "prepared"), str(root / "results" / "crossval.json")
    Path(study.results).unlink()
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    for folder in ("flows", "src/distilbench"):  # stand-ins for the code dependencies
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "README").write_text("stand-in\n")
    (root / ".gitignore").write_text("/cache\n/mlruns\nmlflow.db\n/prepared\n")
    git(root, "init", "-q")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "user.name", "test")
    subprocess.run([*DVC, "init", "-q"], cwd=root, check=True)
    shutil.copy(REPO / ".dvc" / "config", root / ".dvc" / "config")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "tiny study")
    return root


def dvc_repro(root: Path) -> Command:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "DISTILBENCH_PROGRESS": "0", "PREFECT_API_URL": PREFECT_API_URL.value()}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])  # dvc.yaml's `python`
    process = subprocess.Popen(
        [*DVC, "repro"],
        cwd=root,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches all of it
    )
    return Command(process)


def snapshot(root: Path) -> dict[str, str]:
    return {
        name: tree_digest(root / name) if (root / name).is_dir() else (root / name).read_text()
        for name in OUTPUTS
    }


def test_ctrl_c_in_dvc_repro_keeps_the_last_outputs_and_the_next_repro_trains_only_what_was_left(study):
    root = as_dvc_project(study)
    first = dvc_repro(root)
    assert first.finish(timeout=900) == 0, first.output[-3000:]
    before = snapshot(root)
    prepared = tree_digest(root / "data" / "prepared")

    study.raw["train"]["epochs"] += 1  # every fold is stale: crossval, report and select rerun
    study.raw["experiment"] = "e2e-again"  # its runs apart from the first run's, to count them
    study.save()
    second = dvc_repro(root)
    second.wait_for(r"\| teacher \| fold 2/3 epoch 3/")
    os.killpg(second.process.pid, signal.SIGINT)  # Ctrl-C in the terminal

    assert second.finish() != 0
    assert any(line.startswith("stopped:") for line in second.lines), second.output[-3000:]
    assert snapshot(root) == before  # the last run's results, reports and dvc.lock, untouched

    started = time.monotonic()
    third = dvc_repro(root)
    assert third.finish(timeout=900) == 0, third.output[-3000:]
    took = time.monotonic() - started
    # no finished fold redone (the select stage's refit of the champion on all the data is "fold 1/1")
    folds = [label for label in third.trained() if label.endswith("/3")]
    assert len(second.trained()) - 1 + len(folds) == PLANNED
    measured(
        f"dvc repro after Ctrl-C in dvc repro ({len(folds)} folds trained, then report and select)", took
    )
    assert snapshot(root) != before
    assert_study_whole(study, prepared)
