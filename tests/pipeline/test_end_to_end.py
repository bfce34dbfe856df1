"""The three flows end to end on a tiny model and a ~50-row dataset, with Prefect's test harness and
MLflow under tmp: what each stage writes, what MLflow holds, and what a rerun redoes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from flows.crossval import crossval
from flows.prepare import prepare
from flows.report import report

MODELS = ["teacher", "student", "distilled", "cnn"]
FOLDS = 3


@pytest.fixture(scope="module", autouse=True)
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def project(tmp_path: Path, monkeypatch, tiny_model_dir: Path, tiny_csv: Path):
    """A throwaway project: params.yaml, its own MLflow store and fold cache, paths to every output."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("DISTILBENCH_ARTIFACTS", str(tmp_path / "mlruns"))
    monkeypatch.setenv("DISTILBENCH_CACHE", str(tmp_path / "cache"))
    params = {
        # the seed keys the fold cache, which Prefect keeps for the whole session: one seed per test
        "seed": abs(hash(tmp_path.name)) % 10_000,
        "experiment": "e2e",
        "data": {"folds": FOLDS, "datasets": [{"name": "tiny", "source": "file", "path": str(tiny_csv)}]},
        "models": {
            "zoo": "tiny",
            "zoos": {
                "tiny": {
                    "teacher": "teacher",
                    "models": [
                        {"name": "teacher", "source": "local", "id": str(tiny_model_dir)},
                        {"name": "student", "source": "local", "id": str(tiny_model_dir), "layers": [1]},
                        {
                            "name": "distilled",
                            "source": "local",
                            "id": str(tiny_model_dir),
                            "layers": [1],
                            "distil_from": "teacher",
                        },
                        {"name": "cnn", "kind": "cnn", "epochs": 2},
                    ],
                }
            },
        },
        "train": {
            "epochs": 2,
            "batch_size": 8,
            "max_length": 32,
            "learning_rate": 1e-2,
            "inner_val_fraction": 0.2,
        },
        "distill": {"temperature": 2.0, "alpha": 0.5},
    }
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return {
        "params": str(path),
        "prepared": str(tmp_path / "prepared"),
        "results": str(tmp_path / "results" / "crossval.json"),
        "reports": tmp_path / "reports",
        "client": MlflowClient(uri),
        "raw": params,
    }


def runs(client: MlflowClient) -> list:
    experiment = client.get_experiment_by_name("e2e")
    return client.search_runs([experiment.experiment_id], max_results=1000) if experiment else []


def children(client: MlflowClient) -> list:
    return [r for r in runs(client) if MLFLOW_PARENT_RUN_ID in r.data.tags]


def run_pipeline(project) -> list:
    prepare(params=project["params"], out=project["prepared"])
    return crossval(params=project["params"], prepared=project["prepared"], results=project["results"])


def test_pipeline_writes_the_comparison_and_one_mlflow_child_run_per_fold(project):
    results = run_pipeline(project)
    report(results=project["results"], out=str(project["reports"]))

    assert sorted({(r.model, r.fold) for r in results}) == sorted(
        (m, f) for m in MODELS for f in range(FOLDS)
    )
    table = (project["reports"] / "comparison.md").read_text()
    for model in MODELS:
        assert f"| {model}" in table
    assert "Size saved" in table and "Time saved" in table and "Accuracy retained" in table
    metrics = json.loads((project["reports"] / "metrics.json").read_text())
    assert set(metrics["tiny"]) == set(MODELS)
    assert 0.0 <= metrics["tiny"]["student"]["accuracy_mean"] <= 1.0
    assert metrics["tiny"]["teacher"]["size_saved_pct"] == 0.0
    assert metrics["tiny"]["student"]["size_saved_pct"] > 0  # one layer of two: smaller
    assert (project["reports"] / "tradeoff.png").stat().st_size > 0

    client = project["client"]
    parents = [r for r in runs(project["client"]) if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    assert sorted(p.data.tags["model"] for p in parents) == sorted(MODELS)
    assert all(p.info.status == "FINISHED" for p in parents)
    assert all("accuracy_mean" in p.data.metrics and "macro_f1_std" in p.data.metrics for p in parents)
    kids = children(client)
    assert len(kids) == len(MODELS) * FOLDS and all(k.info.status == "FINISHED" for k in kids)
    kid = kids[0]
    for metric in ("accuracy", "macro_f1", "train_seconds", "eval_seconds", "model_mb", "parameters", "fold"):
        assert metric in kid.data.metrics, metric
    assert {"data_hash", "fold", "model", "dataset"} <= set(kid.data.params)
    assert {p.info.run_id for p in parents} >= {k.data.tags[MLFLOW_PARENT_RUN_ID] for k in kids}
    # per-epoch learning curves are logged as steps
    history = client.get_metric_history(kid.info.run_id, "epoch_train_loss")
    assert [m.step for m in history] == [1, 2] or kid.data.tags["model"] == "cnn"


def test_rerun_skips_finished_folds_and_a_changed_training_param_redoes_them(project, monkeypatch):
    import flows.crossval as crossval_module

    run_pipeline(project)
    client = project["client"]
    first = {k.info.run_id for k in children(client)}

    trained = []
    real_run_fold = crossval_module.run_fold
    monkeypatch.setattr(crossval_module, "run_fold", lambda job: (trained.append(job), real_run_fold(job))[1])
    run_pipeline(project)
    assert trained == []  # every fold came from the cache
    assert {k.info.run_id for k in children(client)} == first  # and nothing was logged twice

    raw = project["raw"]
    raw["train"]["learning_rate"] = 5e-3
    Path(project["params"]).write_text(yaml.safe_dump(raw))
    run_pipeline(project)
    assert len(trained) == len(MODELS) * FOLDS


def test_an_interrupted_run_resumes_without_redoing_or_duplicating_finished_folds(project, monkeypatch):
    import flows.crossval as crossval_module

    real_run_fold = crossval_module.run_fold
    trained = []

    def crash_on_student_fold_1(job):
        if job.model.name == "student" and job.fold == 1:
            raise KeyboardInterrupt  # what Ctrl-C during that fold looks like to the task
        trained.append((job.model.name, job.fold))
        return real_run_fold(job)

    monkeypatch.setattr(crossval_module, "run_fold", crash_on_student_fold_1)
    with pytest.raises(BaseException):  # noqa: B017 - Prefect may wrap the interrupt
        run_pipeline(project)

    trained.clear()
    monkeypatch.setattr(
        crossval_module,
        "run_fold",
        lambda job: (trained.append((job.model.name, job.fold)), real_run_fold(job))[1],
    )
    run_pipeline(project)
    finished_before = {("teacher", 0), ("teacher", 1), ("teacher", 2)}
    assert not finished_before & set(trained)  # the teacher's folds finished before the crash: not redone
    assert ("student", 1) in trained
    client = project["client"]
    kids = children(client)
    keys = [(k.data.tags["model"], k.data.tags["fold"]) for k in kids]
    assert len(keys) == len(set(keys)) == len(MODELS) * FOLDS  # no duplicate fold runs
    assert all(k.info.status == "FINISHED" for k in kids)
    parents = [r for r in runs(client) if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    assert len(parents) == len(MODELS) and all(p.info.status == "FINISHED" for p in parents)
