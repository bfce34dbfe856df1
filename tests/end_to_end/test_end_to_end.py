"""The three flows end to end on a tiny model and a ~50-row dataset, with Prefect's test harness and
MLflow under tmp: what each stage writes, what MLflow holds, and what a rerun redoes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

import flows.crossval as crossval_module
from distilbench.core.clock import wall_clock_ms
from distilbench.crossval.mlflow_runs import FOLD_KEY, open_parent_run
from distilbench.crossval.stage import run_fold as run_fold_for_real
from tests.end_to_end.conftest import Project, tiny_model

MODELS = ["teacher", "student", "distilled", "cnn"]
FOLDS = 3


@pytest.fixture
def project(make_project, tiny_csv: Path) -> Project:
    return make_project(
        models=[
            tiny_model("teacher"),
            tiny_model("student", layers=[1]),
            tiny_model("distilled", layers=[1], distil_from="teacher"),
            {"name": "cnn", "kind": "cnn", "epochs": 2},
        ],
        folds=FOLDS,
    )


class SimulatedCrash(Exception):
    """Stands in for a crash mid-fold. (A real KeyboardInterrupt raised in a Prefect worker thread is
    re-delivered to the main thread, which would abort the test session itself.)"""


def leave_running_fold_run(job) -> str:
    """What a process killed while logging a fold leaves: the fold's child run, tagged as log_fold tags
    it, under its parent, still RUNNING. Returns its run id."""
    parent_id = open_parent_run(
        job.tracking_uri, job.parent, wall_clock_ms(), Path(job.cache_root) / "locks", inputs=[]
    )
    tags = {MLFLOW_PARENT_RUN_ID: parent_id, MLFLOW_RUN_NAME: job.run_name, FOLD_KEY: job.cache_key}
    tags |= {"dataset": job.dataset, "model": job.model.name, "fold": str(job.number)}
    client = MlflowClient(job.tracking_uri)
    return client.create_run(job.parent.experiment_id, tags=tags).info.run_id


def record_training(monkeypatch, crash_on=None, left_running=None) -> list[tuple[str, int]]:
    """Spy on the fold tasks that really train; optionally crash on one (model, fold), and (given a
    list) leave that fold's child run RUNNING as a crash while logging it would, its id in the list."""
    trained = []

    def run_fold(job, device=None, reference=None):
        if (job.model.name, job.number) == crash_on:
            if left_running is not None:
                left_running.append(leave_running_fold_run(job))
            raise SimulatedCrash(f"{job.model.name} fold {job.number}")
        trained.append((job.model.name, job.number))
        return run_fold_for_real(job, device, reference)

    monkeypatch.setattr(crossval_module, "run_fold", run_fold)
    return trained


def test_pipeline_writes_the_comparison_and_one_mlflow_child_run_per_fold(project):
    results = project.run(with_report=True)

    assert sorted((r.model, r.fold) for r in results) == sorted(
        (m, f) for m in MODELS for f in range(1, FOLDS + 1)
    )
    table = (project.reports / "comparison.md").read_text()
    for model in MODELS:
        assert f"| {model}" in table
    for column in ("Accuracy", "Macro-F1", "Size saved", "Time saved", "Accuracy retained"):
        assert column in table
    metrics = json.loads((project.reports / "metrics.json").read_text())
    assert set(metrics["tiny"]) == {*MODELS, "majority_class"}  # the baseline beside the models
    assert 0.0 <= metrics["tiny"]["majority_class"]["accuracy_mean"] <= 1.0
    assert 0.0 <= metrics["tiny"]["student"]["accuracy_mean"] <= 1.0
    assert metrics["tiny"]["teacher"]["size_saved_pct"] == 0.0
    assert metrics["tiny"]["student"]["size_saved_pct"] > 0  # one layer of two: smaller
    assert (project.reports / "tradeoff.png").stat().st_size > 0

    parents = project.parents()
    assert sorted(p.data.tags["model"] for p in parents) == sorted(MODELS)
    assert all(p.info.status == "FINISHED" for p in parents)
    # parents log the fold runs' keys (their mean), plus _std: one column in the runs table for both
    assert all("accuracy" in p.data.metrics and "macro_f1_std" in p.data.metrics for p in parents)
    kids = project.children()
    assert len(kids) == len(MODELS) * FOLDS and all(k.info.status == "FINISHED" for k in kids)
    for metric in (
        "accuracy",
        "macro_f1",
        "train_eval_seconds",
        "model_mb",
        "time_saved_pct",
        "size_saved_pct",
    ):
        assert all(metric in k.data.metrics for k in kids), metric
        assert all(metric in p.data.metrics for p in parents), metric
    assert all("train_seconds" in k.data.metrics for k in kids)
    assert all({"data_hash", "fold", "model", "dataset", "parameters"} <= set(k.data.params) for k in kids)
    assert {p.info.run_id for p in parents} == {k.data.tags[MLFLOW_PARENT_RUN_ID] for k in kids}
    teacher_fold = next(k for k in kids if k.data.tags["model"] == "teacher")
    artifacts = [a.path for a in project.client.list_artifacts(teacher_fold.info.run_id)]
    assert "confusion_matrix.json" in artifacts
    history = project.client.get_metric_history(teacher_fold.info.run_id, "epoch_train_loss")
    assert [m.step for m in history] == [1, 2]  # learning curves: one point per epoch


def test_rerun_skips_finished_folds_and_a_changed_training_param_redoes_them(project, monkeypatch):
    project.run()
    first = {k.info.run_id for k in project.children()}

    trained = record_training(monkeypatch)
    project.run()
    assert trained == []  # every fold came from the cache
    assert {k.info.run_id for k in project.children()} == first  # and nothing was logged twice

    project.raw["train"]["learning_rate"] = 5e-3
    project.save()
    project.run()
    # the cache key holds each model's effective settings: the CNN trains with cnn_learning_rate instead
    transformers = [m for m in MODELS if m != "cnn"]
    assert sorted(trained) == sorted((m, fold) for m in transformers for fold in range(1, FOLDS + 1))


def test_an_interrupted_run_resumes_without_redoing_or_duplicating_finished_folds(project, monkeypatch):
    record_training(monkeypatch, crash_on=("student", 2))
    # Prefect persists the failure and re-raises an unpickled copy: match it by message, not class identity
    with pytest.raises(Exception, match="student fold 2"):
        project.run()

    trained = record_training(monkeypatch)
    project.run()
    # folds run fold-major: every model's fold 1 and the teacher's fold 2 finished before the crash
    assert not ({(m, 1) for m in MODELS} | {("teacher", 2)}) & set(trained)
    assert ("student", 2) in trained
    kids = project.children()
    keys = [(k.data.tags["model"], k.data.tags["fold"]) for k in kids]
    assert len(keys) == len(set(keys)) == len(MODELS) * FOLDS  # no duplicate fold runs
    assert all(k.info.status == "FINISHED" for k in kids)
    parents = project.parents()
    assert len(parents) == len(MODELS) and all(p.info.status == "FINISHED" for p in parents)


def test_a_fold_run_left_running_by_a_crash_is_deleted_and_the_fold_redone_once(project, monkeypatch):
    """README: "a fold run that died half-way is deleted before it is redone, so no run is duplicated
    or left half-written as FINISHED"."""
    left_running: list[str] = []
    record_training(monkeypatch, crash_on=("student", 2), left_running=left_running)
    with pytest.raises(Exception, match="student fold 2"):
        project.run()
    (crashed,) = left_running
    assert project.client.get_run(crashed).info.status == "RUNNING"  # the state a rerun finds

    trained = record_training(monkeypatch)
    project.run()
    assert trained.count(("student", 2)) == 1  # redone exactly once
    assert project.client.get_run(crashed).info.lifecycle_stage == "deleted"
    kids = project.children()
    keys = sorted((k.data.tags["model"], int(k.data.tags["fold"])) for k in kids)
    assert keys == sorted((m, f) for m in MODELS for f in range(1, FOLDS + 1))  # one per fold
    assert all(k.info.status == "FINISHED" for k in kids)
    assert [r.info.run_id for r in project.runs() if r.info.status == "RUNNING"] == []


def test_fold_results_are_cached_in_the_tests_own_prefect_storage(make_project, tiny_csv, prefect_results):
    """conftest's prefect_results: a fold cached here is invisible to any other test."""
    project = make_project(
        models=[tiny_model("teacher")],
        folds=2,
        epochs=1,
    )
    keys = []

    def run_fold(job, device=None, reference=None):
        keys.append(job.cache_key)
        return run_fold_for_real(job, device, reference)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crossval_module, "run_fold", run_fold)
        project.run()
    assert len(keys) == 2
    assert set(keys) <= {path.name for path in prefect_results.iterdir()}  # the results, keyed by job
