"""What a user finds in the MLflow UI and the Prefect dashboard after a run, read back through their APIs."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME, MLFLOW_RUN_NOTE

from distilbench.config.environment import is_project_server, prefect_server_home
from distilbench.core.paths import ProjectPaths
from distilbench.tracking.views import (
    EXPERIMENT_KIND_TAG,
    SHARED_VIEW_TAG_PREFIX,
    STUDY_METRICS,
    STUDY_VIEW_KEY,
)
from tests.end_to_end.conftest import Project, tiny_model

FOLDS = 3
CNN_EPOCHS = 3  # differs from train.epochs (2): the CNN's params must show its own
A_YEAR_AGO_MS = (time.time() - 365 * 24 * 3600) * 1000


@pytest.fixture
def project(make_project, tiny_csv: Path, cpu_only) -> Project:  # its folds' device: "cpu"
    project = make_project(
        models=[
            tiny_model("teacher"),
            tiny_model("distilled", layers=[1], distil_from="teacher"),
            {"name": "cnn", "kind": "cnn", "epochs": CNN_EPOCHS},
        ],
        folds=FOLDS,
    )
    project.run(with_report=True)
    return project


def by_model(runs: list, model: str) -> list:
    return [r for r in runs if r.data.tags["model"] == model]


def test_mlflow_runs_carry_real_timestamps_effective_params_datasets_and_pictures(project):
    client, parents, kids = project.client, project.parents(), project.children()

    experiment = client.get_experiment_by_name("e2e")
    assert experiment.tags[EXPERIMENT_KIND_TAG] == "custom_model_development"  # opens on the runs table
    view = json.loads(experiment.tags[SHARED_VIEW_TAG_PREFIX + STUDY_VIEW_KEY])
    for metric in STUDY_METRICS:  # every default column is filled on parents and folds alike
        assert f"metrics.`{metric}`" in view["selectedColumns"]
        assert all(
            metric in r.data.metrics for r in parents + kids if metric != "accuracy_std" or r in parents
        )
        # at the report's precision, so the table shows numbers rather than "0.90786191…"
        shown = [r.data.metrics[metric] for r in parents + kids if metric in r.data.metrics]
        assert all(round(value, 4) == value for value in shown)

    for run in kids + parents:
        for key in run.data.metrics:
            history = client.get_metric_history(run.info.run_id, key)
            assert all(m.timestamp > A_YEAR_AGO_MS for m in history), (run.info.run_name, key)

    assert sorted(k.data.tags[MLFLOW_RUN_NAME] for k in by_model(kids, "teacher")) == [
        "fold-1",
        "fold-2",
        "fold-3",
    ]
    assert {k.data.params["fold"] for k in kids} == {"1", "2", "3"}

    cnn_fold = by_model(kids, "cnn")[0]
    assert cnn_fold.data.params["train.epochs"] == str(CNN_EPOCHS)
    assert cnn_fold.data.params["train.learning_rate"] == cnn_fold.data.params["train.cnn_learning_rate"]
    assert json.loads(by_model(parents, "cnn")[0].data.params["train"])["epochs"] == CNN_EPOCHS
    assert cnn_fold.data.params["device"] == "cpu"

    data_hash = kids[0].data.params["data_hash"]
    for run in kids + parents:
        (entry,) = client.get_run(run.info.run_id).inputs.dataset_inputs
        assert (entry.dataset.name, entry.dataset.digest) == ("tiny", data_hash[: len(entry.dataset.digest)])
        assert len(entry.dataset.digest) >= 16

    teacher_fold = by_model(kids, "teacher")[0]
    assert {"confusion_matrix.png", "confusion_matrix.json"} <= {
        a.path for a in client.list_artifacts(teacher_fold.info.run_id)
    }
    steps = client.get_metric_history(teacher_fold.info.run_id, "train_loss")
    assert len(steps) > 2 and [m.step for m in steps] == list(range(1, len(steps) + 1))  # a curve, not 2 dots

    assert any("**Fold 1 of 3**" in k.data.tags[MLFLOW_RUN_NOTE] for k in by_model(kids, "teacher"))
    student_note = by_model(parents, "distilled")[0].data.tags[MLFLOW_RUN_NOTE]
    assert "`distilled` on `tiny`" in student_note and "teacher `teacher`" in student_note

    teacher_parent = by_model(parents, "teacher")[0]
    report = {a.path for a in client.list_artifacts(teacher_parent.info.run_id, "report")}
    assert {"report/comparison.md", "report/tradeoff.png"} <= report
    assert "folds.csv" in {a.path for a in client.list_artifacts(teacher_parent.info.run_id)}
    # a parent spans its own folds, not the whole study
    for parent in parents:
        own = [k for k in kids if k.data.tags["mlflow.parentRunId"] == parent.info.run_id]
        assert parent.info.end_time == max(k.info.end_time for k in own)
        assert parent.info.start_time <= min(k.info.start_time for k in own) + 1000


def test_prefect_shows_fold_tasks_on_the_crossval_run_their_results_and_the_report_artifacts(project):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        LogFilter,
        LogFilterTaskRunId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )

    async def read():
        async with get_client() as client:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(name=None), limit=200)
            flows = {f.id: f.name for f in await client.read_flows(limit=200)}
            crossval = max(
                (r for r in runs if flows[r.flow_id] == "distilbench-crossval"), key=lambda r: r.start_time
            )
            tasks = await client.read_task_runs(
                task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[crossval.id]))
            )
            logs = await client.read_logs(
                log_filter=LogFilter(task_run_id=LogFilterTaskRunId(any_=[t.id for t in tasks]))
            )
            markdown = await client.read_latest_artifacts(limit=50)
            return tasks, logs, markdown

    tasks, logs, artifacts = asyncio.run(read())
    folds = [t for t in tasks if t.name.startswith("tiny-") and not t.name.endswith("-timing")]
    assert len(folds) == 3 * FOLDS  # on the crossval run's page
    timings = sorted(t.name for t in tasks if t.name.endswith("-timing"))  # a fold's rows timed together
    assert timings == [f"tiny-fold{k}-timing" for k in range(1, FOLDS + 1)]
    assert any("timed with its fold's rows" in log.message for log in logs)
    assert any("accuracy" in log.message and "MB" in log.message for log in logs)  # each fold's result line
    assert any("epoch 1/" in log.message for log in logs)  # training progress, not only state changes
    kinds = {a.key: a for a in artifacts}
    assert kinds["distilbench-comparison"].type == "markdown"
    assert "| teacher (teacher)" in kinds["distilbench-comparison"].data
    assert kinds["distilbench-table"].type == "table"


def test_only_this_clones_prefect_server_is_adopted(tmp_path):
    paths = ProjectPaths.under(tmp_path)
    assert is_project_server(str(paths.prefect_home), paths)
    assert not is_project_server(str(tmp_path / "another-clone" / ".cache" / "prefect"), paths)
    assert not is_project_server(None, paths)
    assert prefect_server_home("http://127.0.0.1:9") is None  # nothing listens there
