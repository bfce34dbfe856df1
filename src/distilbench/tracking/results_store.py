"""Are the fold runs a results file names in the MLflow store in force?

`tracking.uri` and $MLFLOW_TRACKING_URI are invisible to DVC: after changing them, `dvc repro` reruns no
crossval, and the results still name runs of the store the folds were logged to. The stages that read
those runs check here first and say in one line how to log them to the store in force (crossval logs
its cached folds there without training them: crossval.relog).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from distilbench.core.errors import DataError
from distilbench.tracking.store import store_errors


def missing_runs(tracking_uri: str, run_ids: Iterable[str]) -> list[str]:
    """The runs among `run_ids` that the store does not hold (or holds deleted)."""
    client = MlflowClient(tracking_uri)
    missing = []
    for run_id in dict.fromkeys(run_ids):
        try:
            run = client.get_run(run_id)
        except MlflowException as error:
            if error.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            missing.append(run_id)
            continue
        if run.info.lifecycle_stage == "deleted":
            missing.append(run_id)
    return missing


def check_runs_in_store(results_path: Path, results: dict, tracking_uri: str) -> None:
    """One DataError line if the results' fold runs are not all in the store at `tracking_uri`."""
    run_ids = [fold["run_id"] for fold in results["folds"] if fold.get("run_id")]
    with store_errors(tracking_uri):
        missing = missing_runs(tracking_uri, run_ids)
    if not missing:
        return
    logged_to = results.get("tracking_uri", "another store")
    raise DataError(
        f"{results_path}: {len(missing)} of its {len(set(run_ids))} fold runs are not in the MLflow store "
        f"in force ({tracking_uri}; they were logged to {logged_to}): log them there from the fold cache, "
        "training nothing, with `distilbench crossval` (or `dvc repro -f -s crossval`), then rerun"
    )
