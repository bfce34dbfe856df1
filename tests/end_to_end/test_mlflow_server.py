"""Crossval against a real `mlflow server` (sqlite behind it), named by params.yaml's tracking.uri."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from tests.end_to_end.conftest import Project, tiny_model
from tests.end_to_end.servers import mlflow_server

FOLDS = 2
MODELS = [tiny_model("teacher"), {"name": "cnn", "kind": "cnn"}]


def run_against(project: Project, tracking_uri: str) -> None:
    project.raw["tracking"] = {"uri": tracking_uri}
    project.save()
    project.client = MlflowClient(tracking_uri)
    project.run(with_report=True)


def check_runs_and_artifacts(project: Project, artifacts: Path) -> None:
    """Parents, one FINISHED child per fold, and artifacts stored where the server keeps them."""
    parents, kids = project.parents(), project.children()
    assert sorted(p.data.tags["model"] for p in parents) == ["cnn", "teacher"]
    assert all(p.info.status == "FINISHED" for p in parents)
    folds = sorted((k.data.tags["model"], k.data.tags["fold"], k.info.status) for k in kids)
    assert folds == [(m, str(f), "FINISHED") for m in ("cnn", "teacher") for f in range(1, FOLDS + 1)]

    client = project.client
    experiment = client.get_experiment_by_name(project.raw["experiment"])
    assert experiment.artifact_location.startswith("mlflow-artifacts:")  # the server's, not a local path
    kid_files = {f.path for f in client.list_artifacts(kids[0].info.run_id)}
    assert {"confusion_matrix.png", "confusion_matrix.json"} <= kid_files
    teacher = next(p for p in parents if p.data.tags["model"] == "teacher")
    assert "folds.csv" in {f.path for f in client.list_artifacts(teacher.info.run_id)}
    report = {f.path for f in client.list_artifacts(teacher.info.run_id, "report")}
    assert "report/comparison.md" in report
    assert list(artifacts.rglob("comparison.md")), "artifacts must land in the server's destination"
    assert not (project.root / "mlruns").exists()  # nothing written beside the client


def test_crossval_tracks_to_a_shared_mlflow_server(make_project, tiny_csv, tmp_path):
    project = make_project(models=MODELS, folds=FOLDS)
    artifacts = tmp_path / "server-artifacts"
    with mlflow_server(f"sqlite:///{tmp_path / 'server.db'}", artifacts, tmp_path / "mlflow.log") as uri:
        run_against(project, uri)
        check_runs_and_artifacts(project, artifacts)
