"""The crossval stage as functions: plan a study (MLflow parents + fold jobs), run folds, finish it.

The Prefect flow in flows/crossval.py only decides where each call runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from distilbench import atomic
from distilbench.config import Config, ModelSpec
from distilbench.fold import FoldResult, compute_fold
from distilbench.jobs import FoldJob, PreparedRef, parent_key, plan_jobs, prepared_datasets, training_order
from distilbench.paths import ProjectPaths
from distilbench.report import fold_frame, summarize_models
from distilbench.tracking import close_parent_run, ensure_experiment, log_fold, open_parent_run


@dataclass(frozen=True)
class ParentRun:
    dataset: str
    model: str
    run_id: str


@dataclass(frozen=True)
class Study:
    jobs: tuple[FoldJob, ...]  # teachers come before the students that distil from them
    parents: tuple[ParentRun, ...]
    datasets: tuple[PreparedRef, ...]
    tracking_uri: str


def plan_study(cfg: Config, prepared_root: Path, paths: ProjectPaths) -> Study:
    """Open (or reopen, after a crash) one MLflow parent run per dataset x model, and plan every fold."""
    experiment_id = ensure_experiment(paths.tracking_uri, cfg.experiment, paths.artifact_root)
    datasets = tuple(prepared_datasets(prepared_root))
    parents = tuple(
        ParentRun(
            data.name,
            spec.name,
            open_parent_run(
                paths.tracking_uri,
                experiment_id,
                parent_key(cfg, spec, data),
                f"{data.name} / {spec.name}",
                params=parent_params(cfg, spec, data),
                tags={"dataset": data.name, "model": spec.name},
            ),
        )
        for data in datasets
        for spec in training_order(cfg.zoo.models)
    )
    parent_ids = {(p.dataset, p.model): p.run_id for p in parents}
    jobs = plan_jobs(cfg, datasets, parent_ids, paths.tracking_uri, paths.cache)
    return Study(jobs, parents, datasets, paths.tracking_uri)


def parent_params(cfg: Config, spec: ModelSpec, data: PreparedRef) -> dict:
    return {
        "dataset": data.name,
        "model": spec.name,
        "task": data.task,
        "folds": len(data.eval_folds),
        "data_hash": data.data_hash,
        "zoo": cfg.zoo.name,
        "teacher": cfg.zoo.teacher,
        "seed": cfg.seed,
        "model_spec": json.dumps(asdict(spec)),
        "train": json.dumps(asdict(cfg.train.for_model(spec))),  # the values this model really used
        "distill": json.dumps(asdict(cfg.distill)) if spec.distil_from else None,
    }


def run_fold(job: FoldJob) -> FoldResult:
    """Compute one fold, then log it as its parent's child run."""
    result = compute_fold(job)
    return dataclasses.replace(result, run_id=log_fold(job, result))


def close_parents(study: Study, results: list[FoldResult], teacher: str, status: str = "FINISHED") -> None:
    """Log each parent's summary over its folds (the report's numbers) and close it; FAILED on a failure."""
    summary = parent_metrics(results, teacher, [p.model for p in study.parents]) if results else {}
    for parent in study.parents:
        metrics = summary.get((parent.dataset, parent.model), {})
        close_parent_run(study.tracking_uri, parent.run_id, metrics, status)


def parent_metrics(results: list[FoldResult], teacher: str, model_order: list[str]) -> dict:
    """Mean ± std over folds and % saved vs the teacher, computed once, by the report's own aggregation."""
    frame = summarize_models(fold_frame({"folds": [r.as_record() for r in results]}), teacher, model_order)
    numeric = frame.drop(columns=["dataset", "model", "task"]).select_dtypes("number")
    return {
        (row.dataset, row.model): {k: v for k, v in numeric.loc[i].items() if not math.isnan(v)}
        for i, row in frame.iterrows()
    }


def write_results(path: Path, cfg: Config, study: Study, results: list[FoldResult]) -> None:
    """The crossval stage's output: every fold's numbers, plus what the report needs to lay them out."""
    payload = {
        "zoo": cfg.zoo.name,
        "teacher": cfg.zoo.teacher,
        "models": [asdict(m) for m in cfg.zoo.models],
        "datasets": {
            d.name: {"task": d.task, "examples": d.n_examples, "protocol": d.protocol, "note": d.note}
            for d in study.datasets
        },
        "folds": [r.as_record() for r in sorted(results, key=lambda r: (r.dataset, r.model, r.fold))],
    }
    atomic.write_text(path, json.dumps(payload, indent=2))
