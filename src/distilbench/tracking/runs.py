"""MLflow bookkeeping that knows no fold: experiments, finding runs by tag, stamped metrics, closing a run.

Only the thread-safe MlflowClient is used, never the fluent API: its active run is thread-local, and
callers run in worker threads (or on Dask workers). What a fold's or a parent's run holds is
:mod:`distilbench.crossval.mlflow_runs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NOTE

from distilbench.core.clock import wall_clock_ms
from distilbench.tracking.views import experiment_tags

MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value
MAX_BATCH = 1000  # MLflow's limit on metrics per log_batch call


def is_server(tracking_uri: str) -> bool:
    return tracking_uri.startswith(("http://", "https://"))


def artifact_location(tracking_uri: str, configured: str | None, local_root: Path) -> str | None:
    """Where a new experiment keeps its artifacts: the configured place, else this clone's mlruns/ for a
    local store; None for a server, which then uses its own --artifacts-destination (proxied to every
    client): a path on this machine would be written by the server's host, or by no one."""
    if configured:
        return configured
    return None if is_server(tracking_uri) else local_root.resolve().as_uri()


def ensure_experiment(tracking_uri: str, name: str, artifact_location: str | None) -> str:
    """The study's experiment, with the tags that make the MLflow UI open on its runs table."""
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        experiment_id = client.create_experiment(name, artifact_location=artifact_location)
    else:
        experiment_id = experiment.experiment_id
    for key, value in experiment_tags(name).items():
        client.set_experiment_tag(experiment_id, key, value)
    return experiment_id


def find_runs(client: MlflowClient, experiment_id: str, tag: str, value: str) -> list:
    return client.search_runs([experiment_id], filter_string=f"tags.`{tag}` = '{value}'", max_results=100)


def as_params(params: Mapping[str, object]) -> list[Param]:
    return [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in params.items()]


def close_parent_run(
    tracking_uri: str,
    run_id: str,
    metrics: Mapping[str, float],
    *,
    note: str,
    fold_table_csv: str,
    end_ms: int | None,
    status: str = "FINISHED",
) -> None:
    """Summary metrics, description and per-fold table; ends when its last fold ended, not the study."""
    client = MlflowClient(tracking_uri)
    log_metrics(client, run_id, stamped(metrics, end_ms))
    client.set_tag(run_id, MLFLOW_RUN_NOTE, note)
    client.log_text(run_id, fold_table_csv, "folds.csv")
    client.set_terminated(run_id, status, end_time=end_ms)


def log_report_files(tracking_uri: str, run_id: str, files: Iterable[Path]) -> None:
    client = MlflowClient(tracking_uri)
    for path in files:
        client.log_artifact(run_id, str(path), artifact_path="report")


def parent_of(tracking_uri: str, run_id: str) -> str | None:
    return MlflowClient(tracking_uri).get_run(run_id).data.tags.get(MLFLOW_PARENT_RUN_ID)


# the report's precision: MLflow's runs table shows every digit it gets and cuts them off with "…"
SUMMARY_DECIMALS = 4


def stamped(values: Mapping[str, float], at_ms: int | None) -> list[Metric]:
    """Metrics stamped with when they were measured (ms since the epoch): MLflow's time axis."""
    stamp = at_ms or wall_clock_ms()
    return [Metric(k, round(float(v), SUMMARY_DECIMALS), stamp, 0) for k, v in values.items()]


def log_metrics(client: MlflowClient, run_id: str, metrics: list[Metric]) -> None:
    for start in range(0, len(metrics), MAX_BATCH):
        client.log_batch(run_id, metrics=metrics[start : start + MAX_BATCH])
