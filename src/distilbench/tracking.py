"""MLflow bookkeeping: one parent run per dataset × model, one nested child run per fold.

Only the thread-safe MlflowClient is used, never the fluent API: its active run is thread-local, and
fold tasks run in worker threads (or on Dask workers). Runs are found again by a content key tag, so a
rerun after a crash reuses its parent run instead of duplicating it, and a fold that died half-way is
deleted before it is redone: no half-written run is ever left marked FINISHED.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from mlflow.entities import Metric, Param, RunStatus
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

log = logging.getLogger(__name__)

PARENT_KEY = "distilbench.parent_key"
FOLD_KEY = "distilbench.fold_key"
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value


def ensure_experiment(tracking_uri: str, name: str, artifact_root: Path) -> str:
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(name, artifact_location=artifact_root.resolve().as_uri())


def _find_runs(client: MlflowClient, experiment_id: str, tag: str, value: str) -> list:
    return client.search_runs([experiment_id], filter_string=f"tags.`{tag}` = '{value}'", max_results=100)


def _as_params(params: Mapping[str, object]) -> list[Param]:
    return [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in params.items()]


def open_parent_run(
    tracking_uri: str,
    experiment_id: str,
    key: str,
    name: str,
    params: Mapping[str, object],
    tags: Mapping[str, str],
) -> str:
    """The parent run for this dataset × model × settings: reused if an earlier (interrupted) run made it."""
    client = MlflowClient(tracking_uri)
    existing = _find_runs(client, experiment_id, PARENT_KEY, key)
    if existing:
        run_id = existing[0].info.run_id
        client.update_run(run_id, status=RunStatus.to_string(RunStatus.RUNNING))
        return run_id
    run = client.create_run(experiment_id, run_name=name, tags={PARENT_KEY: key, **tags})
    client.log_batch(run.info.run_id, params=_as_params(params))
    return run.info.run_id


def close_parent_run(
    tracking_uri: str, run_id: str, metrics: Mapping[str, float], status: str = "FINISHED"
) -> None:
    client = MlflowClient(tracking_uri)
    client.log_batch(run_id, metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()])
    client.set_terminated(run_id, status)


def _delete_unfinished(client: MlflowClient, experiment_id: str, fold_key: str) -> None:
    for run in _find_runs(client, experiment_id, FOLD_KEY, fold_key):
        if run.info.status != "FINISHED":
            log.info("deleting unfinished fold run %s left by an interrupted run", run.info.run_id)
            client.delete_run(run.info.run_id)


class FoldRun:
    """A live child run; log through it, and `fold_run` closes it with the right status."""

    def __init__(self, client: MlflowClient, run_id: str):
        self.client = client
        self.run_id = run_id

    def log_params(self, params: Mapping[str, object]) -> None:
        self.client.log_batch(self.run_id, params=_as_params(params))

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), 0, step) for k, v in metrics.items()])

    def log_dict(self, payload: Mapping[str, object], artifact_file: str) -> None:
        self.client.log_dict(self.run_id, dict(payload), artifact_file)


@contextlib.contextmanager
def fold_run(
    tracking_uri: str, parent_run_id: str, fold_key: str, name: str, tags: Mapping[str, str]
) -> Iterator[FoldRun]:
    client = MlflowClient(tracking_uri)
    parent = client.get_run(parent_run_id)
    _delete_unfinished(client, parent.info.experiment_id, fold_key)
    run = client.create_run(
        parent.info.experiment_id,
        tags={MLFLOW_PARENT_RUN_ID: parent_run_id, MLFLOW_RUN_NAME: name, FOLD_KEY: fold_key, **tags},
    )
    try:
        yield FoldRun(client, run.info.run_id)
    except BaseException as error:
        status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
        client.set_terminated(run.info.run_id, status)
        raise
    client.set_terminated(run.info.run_id, "FINISHED")
