"""The crossval stage as functions: plan a study (MLflow parents + fold jobs), run folds, finish it.

The Prefect flow in flows/crossval.py only decides where each call runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from distilbench.config.settings import Config, ModelSpec
from distilbench.core import atomic
from distilbench.core.clock import wall_clock_ms
from distilbench.core.paths import ProjectPaths
from distilbench.crossval.fold import FoldResult, compute_fold
from distilbench.crossval.majority import majority_baselines
from distilbench.crossval.mlflow_runs import VARIANT_METRICS, fail_open_parents, find_parent_run, log_fold
from distilbench.crossval.notes import parent_note
from distilbench.crossval.plan import (
    FoldJob,
    ParentSpec,
    PreparedRef,
    parent_key,
    plan_jobs,
    prepared_datasets,
    training_order,
)
from distilbench.models.variants import COMPRESSED, variant_row_name
from distilbench.report.stage import fold_frame, summarize_models
from distilbench.tracking.runs import (
    artifact_location,
    close_parent_run,
    ensure_experiment,
    log_child_comparison,
)
from distilbench.tracking.store import store_errors


@dataclass(frozen=True)
class Study:
    jobs: tuple[FoldJob, ...]  # teachers come before the students that distil from them
    parents: tuple[ParentSpec, ...]
    datasets: tuple[PreparedRef, ...]
    tracking_uri: str
    experiment_id: str


def study_experiment(cfg: Config, paths: ProjectPaths) -> tuple[str, str]:
    """The MLflow store in force and the study's experiment in it (created on first use)."""
    tracking_uri = cfg.tracking.uri or paths.tracking_uri
    with store_errors(tracking_uri):
        experiment_id = ensure_experiment(
            tracking_uri,
            cfg.experiment,
            artifact_location(tracking_uri, cfg.tracking.artifact_location, paths.artifact_root),
        )
    return tracking_uri, experiment_id


def plan_study(cfg: Config, prepared_root: Path, paths: ProjectPaths) -> Study:
    """Plan every fold, and the MLflow parent run (dataset x model) each is logged under."""
    tracking_uri, experiment_id = study_experiment(cfg, paths)
    datasets = tuple(prepared_datasets(prepared_root))
    parents = {
        (data.name, spec.name): ParentSpec(
            key=parent_key(cfg, spec, data),
            dataset=data.name,
            model=spec.name,
            experiment_id=experiment_id,
            params=tuple((k, str(v)) for k, v in parent_params(cfg, spec, data).items()),
        )
        for data in datasets
        for spec in training_order(cfg.zoo.models)
    }
    jobs = plan_jobs(cfg, datasets, parents, tracking_uri, paths.cache)
    return Study(jobs, tuple(parents.values()), datasets, tracking_uri, experiment_id)


def parent_params(cfg: Config, spec: ModelSpec, data: PreparedRef) -> dict:
    return {
        "dataset": data.name,
        "model": spec.name,
        "task": data.task,
        "folds": len(data.eval_folds),
        "repeats": data.repeats,
        "data_hash": data.data_hash,
        "zoo": cfg.zoo.name,
        "teacher": cfg.zoo.teacher,
        "seed": cfg.seed,
        "model_spec": json.dumps(asdict(spec)),
        "train": json.dumps(asdict(cfg.train.for_model(spec))),  # the values this model really used
        "distill": json.dumps(asdict(cfg.distill)) if spec.distil_from else None,
    }


def run_fold(job: FoldJob, device: str | None = None) -> FoldResult:
    """Compute one fold (on `device`, when the caller claimed one), then log it as its parent's child run."""
    result = compute_fold(job, device)
    with store_errors(job.tracking_uri):
        return dataclasses.replace(result, run_id=log_fold(job, result))


def fail_study(study: Study) -> None:
    fail_open_parents(study.tracking_uri, study.parents)


def close_parents(study: Study, results: list[FoldResult], teacher: str) -> None:
    """Each parent's summary over its folds (the report's numbers), description and fold table; and each
    fold's savings against the same fold's teacher. The parent ends when its own last fold ended."""
    models = list(dict.fromkeys(p.model for p in study.parents))
    distil_from = {j.model.name: j.model.distil_from for j in study.jobs if j.model.distil_from}
    summary = parent_metrics(results, teacher, models, distil_from)
    for run_id, savings in fold_savings(results, teacher).items():
        log_child_comparison(study.tracking_uri, run_id, savings, wall_clock_ms())
    for parent in study.parents:
        dataset, model = parent.dataset, parent.model
        run_id = find_parent_run(study.tracking_uri, parent)
        own = [r for r in results if (r.dataset, r.model) == (dataset, model)]
        if run_id is None or not own:
            continue
        stats = summary[dataset, model]
        others = [m for m in models if m != model]
        close_parent_run(
            study.tracking_uri,
            run_id,
            {k: v for k, v in stats.items() if k not in NOT_METRICS} | variant_means(summary, dataset, model),
            note=parent_note(dataset, model, teacher, others, stats, summary.get((dataset, teacher), {})),
            fold_table_csv=fold_table_csv(own),
            end_ms=max(r.finished_ms for r in own) or None,
        )


# counts describe the run rather than measure it: they are params, not curves
NOT_METRICS = ("folds", "repeats", "parameters")
# the report's column names -> the metric keys fold runs use, so parent and child share a column
PARENT_METRIC_KEYS = {"seconds_per_fold": "train_eval_seconds", "seconds_total": "train_eval_seconds_total"}


def parent_metrics(
    results: list[FoldResult], teacher: str, model_order: list[str], distil_from: dict[str, str] | None = None
) -> dict:
    """Mean (under the fold runs' key) and `_std` over folds and % saved vs the teacher (for a distilled
    student also end to end, with its fold teachers' cost), computed once, by the report's own aggregation."""
    if not results:
        return {}
    records = fold_frame({"folds": [rec for r in results for rec in (r.as_record(), *r.variant_records())]})
    frame = summarize_models(records, teacher, model_order, distil_from or {})
    numeric = frame.drop(columns=["dataset", "model", "task"]).select_dtypes("number")
    numeric = numeric.drop(columns=[c for c in numeric.columns if c.startswith("teacher_")])
    return {
        (row.dataset, row.model): {_metric_key(k): v for k, v in numeric.loc[i].items() if not math.isnan(v)}
        for i, row in frame.iterrows()
    }


def variant_means(summary: dict, dataset: str, model: str) -> dict[str, float]:
    """A model's compressed variants summarised in its own parent run, under `<variant>/<metric>` (the
    fold runs' keys): the variants have no runs of their own."""
    out = {}
    for variant in COMPRESSED:
        numbers = summary.get((dataset, variant_row_name(model, variant)), {})
        out |= {f"{variant}/{k}": v for k, v in numbers.items() if k in VARIANT_METRICS}
    return out


def _metric_key(column: str) -> str:
    return PARENT_METRIC_KEYS.get(column, column.removesuffix("_mean"))


def fold_savings(results: list[FoldResult], teacher: str) -> dict[str, dict[str, float]]:
    """Per fold run: time and size saved, accuracy retained, against the teacher's run on the same fold."""
    teachers = {(r.dataset, r.repeat, r.fold): r for r in results if r.model == teacher}
    savings = {}
    for r in results:
        base = teachers.get((r.dataset, r.repeat, r.fold))
        if base is None or r.run_id is None:
            continue
        seconds, base_seconds = r.train_seconds + r.eval_seconds, base.train_seconds + base.eval_seconds
        ratios = {
            "time_saved_pct": (seconds, base_seconds, True),
            "size_saved_pct": (r.model_mb, base.model_mb, True),
            "accuracy_retained_pct": (r.metrics["accuracy"], base.metrics["accuracy"], False),
        }
        # a teacher that scored 0 (a tiny test model) leaves its students' ratios undefined: not logged
        savings[r.run_id] = {
            key: 100 * (1 - value / of) if saved else 100 * value / of
            for key, (value, of, saved) in ratios.items()
            if of
        }
    return savings


def fold_table_csv(results: list[FoldResult]) -> str:
    """The per-fold table a parent run keeps as an artifact."""
    ordered = sorted(results, key=lambda r: (r.repeat, r.fold))
    frame = fold_frame({"folds": [r.as_record() for r in ordered]})
    repeat = ["repeat"] if any(r.repeat > 1 for r in results) else []
    columns = [*repeat, "fold", *results[0].metrics, "train_eval_seconds", "model_mb", "run_id"]
    return frame[columns].to_csv(index=False, float_format="%.4f")


def write_results(path: Path, cfg: Config, study: Study, results: list[FoldResult]) -> None:
    """The crossval stage's output: every fold's numbers, the majority-class baseline of every fold (no
    training: computed here, each time), plus what the report needs to lay them out."""
    payload = {
        "zoo": cfg.zoo.name,
        "teacher": cfg.zoo.teacher,
        "tracking_uri": study.tracking_uri,  # the report is published to the store the folds went to
        "models": [asdict(m) for m in cfg.zoo.models],
        "datasets": {
            d.name: {"task": d.task, "examples": d.n_examples, "protocol": d.protocol, "note": d.note}
            for d in study.datasets
        },
        "folds": [
            record
            for r in sorted(results, key=lambda r: (r.dataset, r.model, r.repeat, r.fold))
            for record in (r.as_record(), *r.variant_records())
        ],
        "baselines": majority_baselines(d.directory for d in study.datasets),
    }
    atomic.write_text(path, json.dumps(payload, indent=2))
