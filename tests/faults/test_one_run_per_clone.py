"""Two runs in one clone: the second is refused in one line naming the first, and never interleaves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import flows.study as study_flows
from tests.faults.conftest import (
    assert_no_traceback,
    assert_study_whole,
    error_lines,
    start,
    start_crossval,
    tree_digest,
)


@pytest.mark.slow  # CI's budget: tests/core/test_clone_lock.py refuses a second holder in CI
def test_a_second_crossval_is_refused_naming_the_first_which_finishes_alone(study):
    prepared = tree_digest(Path(study.prepared))
    first = start_crossval(study)
    first.wait_for(r"\| teacher \| fold 1/3 epoch 2/")

    second = start_crossval(study)

    assert second.finish() == 2, second.output[-3000:]
    (line,) = error_lines(second)
    assert re.search(
        rf"`distilbench crossval` \(pid {first.process.pid}, started .*\) is running in this clone", line
    )
    assert "wait for it to finish or stop it, then rerun" in line
    assert_no_traceback(second)
    assert second.trained() == []
    assert first.finish() == 0, first.output[-3000:]
    assert_study_whole(study, prepared)  # every fold once: the second run logged nothing


@pytest.mark.slow
def test_a_dashboard_run_holds_the_clone_for_its_own_stages_only(study, monkeypatch):
    """The dashboard's repro flow runs `dvc repro`, whose stage commands must go on under its lock; a
    user's command started beside it is refused."""
    prepare = ["prepare", "--params", study.params, "--out", str(study.root / "prepared-again")]
    seen = {}

    def repro_beside_a_user(repo, stage=None):
        own_stage = start(study, *prepare)  # inherits the run's token, as DVC's stage commands do
        seen["own"] = (own_stage.finish(), own_stage.output)
        monkeypatch.delenv("DISTILBENCH_RUN_TOKEN")  # a user's shell has none
        user = start(study, *prepare)
        seen["user"] = (user.finish(), error_lines(user))

    monkeypatch.chdir(study.root)
    monkeypatch.setattr(study_flows, "reproduce", repro_beside_a_user)
    study_flows.repro()

    code, output = seen["own"]
    assert code == 0, output[-3000:]
    code, lines = seen["user"]
    assert code == 2
    assert len(lines) == 1 and "`the dashboard's distilbench-repro run` (pid" in lines[0], lines
