"""The fold ↔ MLflow mapping: one parent run per dataset × model, one nested child run per fold.

Only the thread-safe MlflowClient is used, never the fluent API: its active run is thread-local, and
fold tasks run in worker threads (or on Dask workers). Runs are found again by a content key tag, so a
rerun after a crash reuses its parent run instead of duplicating it, and a fold that died half-way is
deleted before it is redone: no half-written run is ever left marked FINISHED.

Parents and children log the same metric keys (parents add `<key>_std`), so one column in the MLflow
runs table holds a model's mean on its parent row and each fold's value on the rows below it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from filelock import FileLock  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunStatus  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from mlflow.utils.mlflow_tags import (  # noqa: E402
    MLFLOW_DATASET_CONTEXT,
    MLFLOW_PARENT_RUN_ID,
    MLFLOW_RUN_NAME,
    MLFLOW_RUN_NOTE,
    MLFLOW_SOURCE_NAME,
    MLFLOW_SOURCE_TYPE,
)
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from distilbench.core.clock import wall_clock_ms  # noqa: E402
from distilbench.core.schema import VARIANT_METRICS  # noqa: E402
from distilbench.crossval.fold import FoldResult  # noqa: E402
from distilbench.crossval.notes import fold_note  # noqa: E402
from distilbench.crossval.plan import FoldJob, ParentSpec  # noqa: E402
from distilbench.crossval.records import measured  # noqa: E402
from distilbench.tracking.runs import as_params, find_runs, log_metrics, stamped  # noqa: E402
from distilbench.training.inference_speed import SPEED_METRICS  # noqa: E402

logger = logging.getLogger(__name__)

PARENT_KEY = "distilbench.parent_key"
FOLD_KEY = "distilbench.fold_key"
# the fold cache (one per clone, guarded by its run lock, core.clone_lock) whose study made the run: a
# rerun closes what a killed attempt of the same clone left RUNNING, whatever settings that attempt had
CLONE = "distilbench.cache"
MAX_DIGEST = 36  # the dataset digest column's width in MLflow's SQL store
# under the fold cache: the parents' file locks, and one empty file per stopped attempt (mark_stopped)
LOCKS = "locks"
STOPPED_ATTEMPTS = "stopped_attempts"
SOURCE = {MLFLOW_SOURCE_NAME: "distilbench crossval", MLFLOW_SOURCE_TYPE: "LOCAL"}


def find_parent_run(tracking_uri: str, parent: ParentSpec) -> str | None:
    runs = find_runs(MlflowClient(tracking_uri), parent.experiment_id, PARENT_KEY, parent.key)
    return runs[0].info.run_id if runs else None


def open_parent_run(
    tracking_uri: str, parent: ParentSpec, start_ms: int, lock_dir: Path, inputs: list[DatasetInput]
) -> str:
    """The parent run, created by the first fold logged under it (at that fold's start) or reused.

    A file lock keeps two folds that finish together (threads, or Dask workers sharing the cache
    directory) from both creating it, and the stop's fail_open_parents from closing it in between.
    A fold of an attempt that has stopped (one a Dask worker was running, which the stop cannot
    interrupt) logs under the parent but leaves it closed: only a rerun reopens it.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    with parent_lock(lock_dir, parent):
        client = MlflowClient(tracking_uri)
        late = attempt_stopped(lock_dir.parent, parent.attempt)
        if late:
            logger.info("%s: a fold of a stopped attempt logs; its parent run stays closed", parent.name)
        existing = find_runs(client, parent.experiment_id, PARENT_KEY, parent.key)
        if existing:
            run = existing[0]
            if run.info.status != "RUNNING" and not late:  # reopened by a rerun after a crash or an edit
                client.update_run(run.info.run_id, status=RunStatus.to_string(RunStatus.RUNNING))
            return run.info.run_id
        run_id = create_parent_run(client, parent, start_ms, lock_dir.parent, inputs)
        if late:  # the stop found no run to close: closed as it would have closed it
            client.set_terminated(run_id, "FAILED")
        return run_id


def parent_lock(lock_dir: Path, parent: ParentSpec) -> FileLock:
    return FileLock(lock_dir / f"parent-{parent.key}.lock")


def create_parent_run(
    client: MlflowClient, parent: ParentSpec, start_ms: int, cache_root: Path, inputs: list[DatasetInput]
) -> str:
    tags = {
        PARENT_KEY: parent.key,
        **SOURCE,
        CLONE: clone_of(cache_root),
        "dataset": parent.dataset,
        "model": parent.model,
    }
    run = client.create_run(parent.experiment_id, start_time=start_ms, run_name=parent.name, tags=tags)
    client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in parent.params])
    client.log_inputs(run.info.run_id, datasets=inputs)
    return run.info.run_id


def fail_open_parents(tracking_uri: str, parents: Iterable[ParentSpec], cache_root: Path) -> None:
    """After a failed or stopped study: mark the parents it left RUNNING as FAILED (a rerun reopens them).

    The attempt is marked stopped first, so a fold of it that still logs afterwards (on a Dask worker)
    leaves its parent FAILED; each parent is closed under its lock, so a fold opening it at that moment
    cannot reopen or create it just after it was closed.
    """
    parents = list(parents)
    for attempt in {parent.attempt for parent in parents}:
        mark_stopped(cache_root, attempt)
    client = MlflowClient(tracking_uri)
    for parent in parents:
        with parent_lock(Path(cache_root) / LOCKS, parent):
            for run in find_runs(client, parent.experiment_id, PARENT_KEY, parent.key):
                if run.info.status == "RUNNING":
                    client.set_terminated(run.info.run_id, "FAILED")


def stopped_mark(cache_root: Path, attempt: str) -> Path:
    return Path(cache_root) / STOPPED_ATTEMPTS / attempt


def mark_stopped(cache_root: Path, attempt: str) -> None:
    """Say, where every Dask worker looks (the fold cache, which they share), that this attempt stopped.
    A file, not a tag on its parents: a parent the stop found not RUNNING (closed by an earlier attempt,
    or not created yet) would carry no tag, and a late fold would reopen or create it RUNNING."""
    if attempt:
        stopped_mark(cache_root, attempt).parent.mkdir(parents=True, exist_ok=True)
        stopped_mark(cache_root, attempt).touch()


def attempt_stopped(cache_root: Path, attempt: str) -> bool:
    """Whether `attempt` has stopped; a parent planned by no attempt (tests, refit) never has."""
    return bool(attempt) and stopped_mark(cache_root, attempt).exists()


def clone_of(cache_root: Path) -> str:
    return str(Path(cache_root).resolve())


def fail_left_running(tracking_uri: str, experiment_id: str, cache_root: Path) -> list[str]:
    """Mark FAILED every run of this clone's studies in the experiment still RUNNING: called under the
    clone's run lock, before any fold runs, so none of them is running: a `kill -9` (or a lost store at
    the end) left them, maybe with other settings than this run's, whose parents it would never find by
    their key. Returns their ids. (A parent of this run's own settings is reopened when a fold logs.)"""
    client = MlflowClient(tracking_uri)
    left = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.`{CLONE}` = '{clone_of(cache_root)}'",
        max_results=1000,
    )
    for run in left:
        logger.info(
            "closing run %s (%s), left RUNNING by an earlier attempt", run.info.run_id, run.info.run_name
        )
        client.set_terminated(run.info.run_id, "FAILED")
    return [run.info.run_id for run in left]


def delete_earlier_attempts(client: MlflowClient, experiment_id: str, fold_key: str) -> None:
    """A fold is logged once: a run an earlier attempt left (unfinished, by a crash or a store that went
    away while logging; or finished, by a crash before the fold's result was cached) is deleted first."""
    for run in find_runs(client, experiment_id, FOLD_KEY, fold_key):
        logger.info("deleting fold run %s (%s) left by an earlier attempt", run.info.run_id, run.info.status)
        client.delete_run(run.info.run_id)


def log_fold(job: FoldJob, result: FoldResult, savings: Mapping[str, float]) -> str:
    """Log one computed fold as a child run of its parent, once: params, metrics, its savings against the
    teacher's run on the same fold, curves, confusion matrix.

    The run is created only once the fold is computed, so a crash while training leaves no run at all;
    one left by an earlier attempt is deleted here before the fold is logged again.
    """
    client = MlflowClient(job.tracking_uri)
    parent_id = open_parent_run(
        job.tracking_uri,
        job.parent,
        result.started_ms,
        Path(job.cache_root) / LOCKS,
        inputs=[dataset_input(job, "cross-validation")],
    )
    delete_earlier_attempts(client, job.parent.experiment_id, job.cache_key)
    run = client.create_run(
        job.parent.experiment_id,
        start_time=result.started_ms,
        tags={
            MLFLOW_PARENT_RUN_ID: parent_id,
            MLFLOW_RUN_NAME: job.run_name,
            MLFLOW_RUN_NOTE: fold_note(job, result),
            FOLD_KEY: job.cache_key,
            **SOURCE,
            CLONE: clone_of(Path(job.cache_root)),
            "dataset": job.dataset,
            "model": job.model.name,
            "fold": str(job.number),
            **({"repeat": str(job.repeat)} if job.repeated else {}),
        },
    )
    run_id = run.info.run_id
    try:
        client.log_batch(run_id, params=as_params(fold_params(job, result)))
        metrics = stamped(fold_metrics(result) | savings, result.finished_ms)
        log_metrics(client, run_id, metrics + curves(result))
        client.log_inputs(run_id, datasets=[dataset_input(job, "training and held-out evaluation")])
        if result.confusion is not None:
            log_confusion(client, run_id, job, result)
        log_predictions(client, run_id, result)
    except BaseException as error:
        client.set_terminated(run_id, "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED", end_time=result.finished_ms)
    return run_id


def dataset_input(job: FoldJob, context: str) -> DatasetInput:
    """The prepared dataset as an MLflow dataset: the UI's Dataset column and filter."""
    dataset = Dataset(
        name=job.dataset,
        digest=job.data_hash[:MAX_DIGEST],
        source_type="local",
        source=json.dumps({"uri": Path(job.dataset_dir).resolve().as_uri()}),
        profile=json.dumps({"folds": job.n_folds}),
    )
    return DatasetInput(dataset, tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)])


def log_confusion(client: MlflowClient, run_id: str, job: FoldJob, result: FoldResult) -> None:
    matrix = [list(row) for row in result.confusion or ()]
    client.log_dict(
        run_id,
        {"labels": list(result.labels), "rows_true_columns_predicted": matrix},
        "confusion_matrix.json",
    )
    figure = confusion_figure(result.labels, matrix, title=job.label)
    client.log_figure(run_id, figure, "confusion_matrix.png")
    plt.close(figure)  # pyplot keeps every figure alive until closed


PREDICTIONS_FILE = "predictions.csv"


def predictions_csv(result: FoldResult) -> str:
    """One line per held-out row: its position in the prepared examples, true and predicted label (labels
    joined by ";" for multilabel) and its score for each class (softmax; multilabel: each sigmoid)."""
    p = result.predictions
    labels = list(result.labels)

    def names(ids) -> str:
        if p.predicted.ndim == 1:
            return labels[int(ids)]
        return ";".join(label for label, on in zip(labels, ids, strict=True) if on)

    frame = pd.DataFrame(
        {
            "row": p.rows,
            "true": [names(t) for t in p.truth],
            "predicted": [names(y) for y in p.predicted],
            **{f"score_{label}": p.scores[:, i] for i, label in enumerate(labels)},
        }
    )
    return frame.to_csv(index=False, float_format="%.4f")


def log_predictions(client: MlflowClient, run_id: str, result: FoldResult) -> None:
    """The fold's per-example predictions, and each compressed variant's under `<variant>/`."""
    for row in (result, *result.variant_rows()):
        if row.predictions is None or not row.labels:
            continue
        folder = f"{row.variant.variant}/" if row.variant else ""
        client.log_text(run_id, predictions_csv(row), f"{folder}{PREDICTIONS_FILE}")


def fold_params(job: FoldJob, result: FoldResult) -> dict[str, object]:
    """The settings this fold really ran with: the model's effective training values, device, precision."""
    return {
        "dataset": job.dataset,
        "model": job.model.name,
        "fold": job.number,
        **({"repeat": job.repeat} if job.repeated else {}),
        "data_hash": job.data_hash,
        "split_hash": job.split_hash,  # what the fold key holds of the data: its rows and held-out ids
        "task": result.task,
        **{f"model.{k}": v for k, v in asdict(job.model).items() if k != "name"},
        **{f"train.{k}": v for k, v in asdict(job.train).items()},
        "seed": job.fold_seed,
        "device": result.device,
        "autocast": result.autocast,
        "threads": result.threads,
        "parameters": result.parameters,
        "best_epoch": result.best_epoch,
        "train_examples": result.train_examples,
        "eval_examples": result.eval_examples,
        "distill": json.dumps(asdict(job.distill)) if job.distill else None,
        # what train.class_weights resolved to on this fold (training.imbalance), and a multilabel fold's
        # per-label thresholds chosen on its inner split (training.decision)
        "imbalance_ratio": result.imbalance_ratio,
        "class_weighted": result.class_weights,
        **({"thresholds": json.dumps(list(result.thresholds))} if result.thresholds else {}),
        **({"at_least_one": result.at_least_one} if result.thresholds else {}),
        **{f"fingerprint.{k}": v for k, v in asdict(job.fingerprint).items()},
        "cache_key": job.cache_key,
    }


def fold_metrics(result: FoldResult) -> dict[str, float]:
    """What was measured, under the keys the parents use too; counts and settings are params. Speeds
    are not measured yet when a fold is logged (log_fold_speeds adds them): NaN is left out."""
    numbers = {**measured(result), **result.distill_stats, **variant_metrics(result)}
    return {k: v for k, v in numbers.items() if not math.isnan(v)}


def log_fold_speeds(job: FoldJob, result: FoldResult) -> None:
    """The speeds its fold's timing measured (crossval.timing), added to the fold's finished child run."""
    if result.run_id is None:
        return
    speeds = {k: v for k, v in fold_metrics(result).items() if k.rpartition("/")[2] in SPEED_METRICS}
    log_metrics(MlflowClient(job.tracking_uri), result.run_id, stamped(speeds, wall_clock_ms()))


def variant_metrics(result: FoldResult) -> dict[str, float]:
    """A compressed variant's numbers in its source fold's run, under `<variant>/<metric>`."""
    out = {}
    for row in result.variant_rows():
        numbers = measured(row)
        variant = row.variant.variant
        out |= {f"{variant}/{k}": float(numbers[k]) for k in VARIANT_METRICS if k in numbers}
        out[f"{variant}/agreement_with_fp32"] = row.variant.agreement
    return out


def curves(result: FoldResult) -> list[Metric]:
    """Per-step training loss (a curve even for one epoch), per-epoch loss and inner-validation score."""
    steps = [Metric("train_loss", loss, at, step) for step, (at, loss) in enumerate(result.step_losses, 1)]
    epochs = [Metric("epoch_train_loss", r.train_loss, r.finished_ms, r.epoch) for r in result.history]
    scores = [
        Metric("epoch_inner_val_score", r.inner_val_score, r.finished_ms, r.epoch)
        for r in result.history
        if r.inner_val_score is not None
    ]
    return steps + epochs + scores


def confusion_figure(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str) -> Figure:
    """Counts with class names on both axes: true classes down, predicted across."""
    size = max(4.0, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ConfusionMatrixDisplay(pd.DataFrame(matrix).to_numpy(), display_labels=list(labels)).plot(
        ax=ax, cmap="Blues", colorbar=False, xticks_rotation=45
    )
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
