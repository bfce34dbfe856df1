"""tracking.results_store: a changed store (tracking.uri, $MLFLOW_TRACKING_URI, which DVC does not see)
that lacks the results' fold runs is said in one line naming how to log them there."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from distilbench.core.errors import DataError
from distilbench.tracking.results_store import check_runs_in_store, missing_runs


def store(tmp_path: Path, name: str) -> MlflowClient:
    return MlflowClient(f"sqlite:///{tmp_path / name}.db")


def logged_results(client: MlflowClient, tmp_path: Path, folds: int = 3) -> dict:
    experiment = client.create_experiment("study", artifact_location=(tmp_path / "mlruns").as_uri())
    runs = [client.create_run(experiment).info.run_id for _ in range(folds)]
    return {"tracking_uri": client.tracking_uri, "folds": [{"run_id": r} for r in runs]}


def test_results_whose_runs_are_in_the_store_pass(tmp_path):
    first = store(tmp_path, "first")
    check_runs_in_store(tmp_path / "crossval.json", logged_results(first, tmp_path), first.tracking_uri)


def test_another_store_without_the_runs_is_one_line_saying_how_to_log_them_there(tmp_path):
    first, moved = store(tmp_path, "first"), store(tmp_path, "moved")
    moved.create_experiment("study", artifact_location=(tmp_path / "mlruns").as_uri())
    results = logged_results(first, tmp_path)
    with pytest.raises(DataError) as caught:
        check_runs_in_store(tmp_path / "crossval.json", results, moved.tracking_uri)
    line = str(caught.value)
    assert "\n" not in line
    assert "3 of its 3 fold runs are not in the MLflow store in force" in line
    assert moved.tracking_uri in line and first.tracking_uri in line
    assert "`distilbench crossval` (or `dvc repro -f -s crossval`)" in line


def test_a_deleted_run_is_missing(tmp_path):
    first = store(tmp_path, "first")
    results = logged_results(first, tmp_path, folds=2)
    deleted = results["folds"][0]["run_id"]
    first.delete_run(deleted)
    assert missing_runs(first.tracking_uri, [f["run_id"] for f in results["folds"]]) == [deleted]
