"""crossval.mlflow_runs: a fold that logs after its attempt stopped (one a Dask worker was running, which
Ctrl-C cannot interrupt) logs its child run but leaves its parent closed; a rerun reopens the parent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from distilbench.config.settings import Config
from distilbench.crossval.mlflow_runs import (
    FOLD_KEY,
    PARENT_KEY,
    fail_open_parents,
    find_parent_run,
    log_fold,
)
from distilbench.crossval.plan import FoldJob, ParentSpec, PreparedRef, parent_key, plan_jobs
from tests.crossval.test_unlogged import fold_result


def fold_jobs(tmp_path: Path, attempt: str) -> list[FoldJob]:
    """The 3 folds of one linear model, planned by stage run `attempt`, logged to a sqlite store."""
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "svm", "models": [{"name": "svm", "kind": "linear"}]}}}
    cfg = Config.from_params({"seed": 1, "models": zoo})
    data = PreparedRef("tiny", tmp_path / "tiny", "abc", (0, 1, 2), "multiclass", 30, "kfold", None)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("study") or client.get_experiment(
        client.create_experiment("study", artifact_location=(tmp_path / "mlruns").as_uri())
    )
    (spec,) = cfg.zoo.models
    parent = ParentSpec(parent_key(cfg, spec, data), "tiny", "svm", experiment.experiment_id, (), attempt)
    parents = {("tiny", "svm"): parent}
    return list(plan_jobs(cfg, [data], parents, client.tracking_uri, tmp_path / "cache"))


def log(job: FoldJob) -> str:
    return log_fold(job, dataclasses.replace(fold_result(), fold=job.number), savings={})


def status(job: FoldJob, run_id: str | None = None) -> str:
    run_id = run_id or find_parent_run(job.tracking_uri, job.parent)
    return MlflowClient(job.tracking_uri).get_run(run_id).info.status


def stop(job: FoldJob) -> None:
    """What the stage does on Ctrl-C to the parent of `job`'s attempt (crossval.stage.fail_crossval)."""
    fail_open_parents(job.tracking_uri, [job.parent], Path(job.cache_root))


def test_a_fold_logging_after_its_attempt_stopped_leaves_the_parent_closed_and_a_rerun_reopens_it(tmp_path):
    first, second, third = fold_jobs(tmp_path, attempt="A")
    log(first)
    parent_id = find_parent_run(first.tracking_uri, first.parent)
    assert status(first) == "RUNNING"
    stop(first)
    assert status(first) == "FAILED"

    late = log(second)  # it was running on a Dask worker when the stage stopped
    assert status(second) == "FAILED"  # not reopened behind the user's back
    assert status(second, late) == "FINISHED"  # nothing computed is lost
    tags = MlflowClient(second.tracking_uri).get_run(late).data.tags
    assert tags[MLFLOW_PARENT_RUN_ID] == parent_id and tags[FOLD_KEY] == second.cache_key

    (rerun, *_) = [j for j in fold_jobs(tmp_path, attempt="B") if j.number == third.number]
    assert rerun.cache_key == third.cache_key  # the attempt is in no key: the rerun takes cached folds
    log(rerun)
    assert find_parent_run(rerun.tracking_uri, rerun.parent) == parent_id
    assert status(rerun) == "RUNNING"  # the rerun reopens it, and closes it when it ends


def test_a_parent_not_created_when_its_attempt_stopped_is_created_closed_by_a_late_fold(tmp_path):
    first, *_ = fold_jobs(tmp_path, attempt="A")
    stop(first)  # before any fold of it logged: no parent run to close
    child = log(first)
    assert status(first) == "FAILED"
    assert status(first, child) == "FINISHED"
    parents = MlflowClient(first.tracking_uri).search_runs(
        [first.parent.experiment_id], f"tags.`{PARENT_KEY}` = '{first.parent.key}'"
    )
    assert [p.info.run_id for p in parents] == [find_parent_run(first.tracking_uri, first.parent)]


def test_a_parent_an_earlier_attempt_closed_stays_closed_when_the_next_attempt_stops_before_reopening_it(
    tmp_path,
):
    earlier, *_ = fold_jobs(tmp_path, attempt="A")
    log(earlier)
    stop(earlier)
    _, second, _ = fold_jobs(tmp_path, attempt="B")
    stop(second)  # the parent is FAILED already: nothing of B's to close
    log(second)
    assert status(second) == "FAILED"
