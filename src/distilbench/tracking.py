"""MLflow bookkeeping: one parent run per dataset × model, one nested child run per fold.

Only the thread-safe MlflowClient is used, never the fluent API: its active run is thread-local, and
fold tasks run in worker threads (or on Dask workers). Runs are found again by a content key tag, so a
rerun after a crash reuses its parent run instead of duplicating it, and a fold that died half-way is
deleted before it is redone: no half-written run is ever left marked FINISHED.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.entities import Metric, Param, RunStatus
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

if TYPE_CHECKING:
    from distilbench.fold import FoldResult
    from distilbench.jobs import FoldJob
    from distilbench.training.loop import EpochRecord

logger = logging.getLogger(__name__)

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
    client.log_batch(run_id, metrics=_metrics(metrics))
    client.set_terminated(run_id, status)


def _delete_unfinished(client: MlflowClient, experiment_id: str, fold_key: str) -> None:
    for run in _find_runs(client, experiment_id, FOLD_KEY, fold_key):
        if run.info.status != "FINISHED":
            logger.info("deleting unfinished fold run %s left by an interrupted run", run.info.run_id)
            client.delete_run(run.info.run_id)


def log_fold(job: FoldJob, result: FoldResult) -> str:
    """Log one computed fold as a child run of its parent: params, metrics, curve, confusion matrix.

    The run is created only once the fold is computed, so a crash while training leaves no run at all;
    one left unfinished by a crash while logging is deleted here before the fold is logged again.
    """
    client = MlflowClient(job.tracking_uri)
    parent = client.get_run(job.parent_run_id)
    _delete_unfinished(client, parent.info.experiment_id, job.cache_key)
    tags = {"dataset": job.dataset, "model": job.model.name, "fold": str(job.fold)}
    run = client.create_run(
        parent.info.experiment_id,
        tags={
            MLFLOW_PARENT_RUN_ID: job.parent_run_id,
            MLFLOW_RUN_NAME: f"fold-{job.fold}",
            FOLD_KEY: job.cache_key,
            **tags,
        },
    )
    run_id = run.info.run_id
    try:
        client.log_batch(
            run_id, params=_as_params(fold_params(job, result)), metrics=_metrics(fold_metrics(result))
        )
        curve = [m for r in result.history for m in _metrics(_epoch_metrics(r), step=r.epoch)]
        if curve:
            client.log_batch(run_id, metrics=curve)
        if result.confusion is not None:
            matrix = {
                "labels": list(result.labels),
                "rows_true_columns_predicted": [list(r) for r in result.confusion],
            }
            client.log_dict(run_id, matrix, "confusion_matrix.json")
    except BaseException as error:
        client.set_terminated(run_id, "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id


def fold_params(job: FoldJob, result: FoldResult) -> dict[str, object]:
    """The settings this fold really ran with: the model's effective training values, device, precision."""
    return {
        "dataset": job.dataset,
        "model": job.model.name,
        "fold": job.fold,
        "data_hash": job.data_hash,
        "task": result.task,
        **{f"model.{k}": v for k, v in asdict(job.model).items() if k != "name"},
        **{f"train.{k}": v for k, v in asdict(job.train).items()},
        "seed": job.fold_seed,
        "device": result.device,
        "autocast": result.autocast,
        "train_examples": result.train_examples,
        "eval_examples": result.eval_examples,
        "distill": json.dumps(asdict(job.distill)) if job.distill else None,
        "cache_key": job.cache_key,
    }


def fold_metrics(result: FoldResult) -> dict[str, float]:
    return {
        **result.metrics,
        "train_seconds": result.train_seconds,
        "eval_seconds": result.eval_seconds,
        "model_mb": result.model_mb,
        "parameters": result.parameters,
        "fold": result.fold,
        "best_epoch": result.best_epoch,
        "examples_per_second": result.examples_per_second,
    }


def _epoch_metrics(record: EpochRecord) -> dict[str, float]:
    metrics = {"epoch_train_loss": record.train_loss}
    if record.inner_val_score is not None:
        metrics["epoch_inner_val_score"] = record.inner_val_score
    return metrics


def _metrics(values: Mapping[str, float], step: int = 0) -> list[Metric]:
    now = int(time.time() * 1000)  # MLflow's time axis: when it was logged, in ms since the epoch
    return [Metric(k, float(v), now, step) for k, v in values.items()]
