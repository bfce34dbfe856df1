"""The crossval stage as functions: plan the folds (MLflow parents + fold jobs), run folds, finish it.

:func:`run_crossval` is the whole sequence; the Prefect flow in flows/crossval.py only passes in how the
fold jobs are run (its tasks, their retries, cache and runner).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from distilbench.config.settings import Config, ModelSpec
from distilbench.config.variants import COMPRESSED, variant_row_name
from distilbench.core import atomic, stop
from distilbench.core.errors import StorageError, is_user_error, user_message
from distilbench.core.paths import ProjectPaths
from distilbench.core.schema import (
    ACCURACY,
    ACCURACY_RETAINED,
    MODEL_MB,
    RESULTS_VERSION,
    SIZE_SAVED,
    TIME_SAVED,
    TRAIN_EVAL_SECONDS,
    VARIANT_METRICS,
)
from distilbench.crossval import unlogged
from distilbench.crossval.fold import FoldResult, compute_fold
from distilbench.crossval.majority import label_set_baselines, majority_baselines
from distilbench.crossval.mlflow_runs import (
    fail_left_running,
    fail_open_parents,
    find_parent_run,
    log_fold,
    log_fold_speeds,
)
from distilbench.crossval.notes import parent_note
from distilbench.crossval.plan import (
    FoldJob,
    ParentSpec,
    PreparedRef,
    effective_train,
    parent_key,
    plan_jobs,
    prepared_datasets,
    training_order,
)
from distilbench.crossval.records import fold_record, fold_records, prediction_records, results_text
from distilbench.crossval.relog import log_where_the_study_logs
from distilbench.crossval.summary import (
    fold_frame,
    retained_pct,
    run_metrics,
    saved_pct,
    summarize_models,
)
from distilbench.crossval.timing import fold_groups, time_fold
from distilbench.models.zoo import check_zoo
from distilbench.tracking.outage import patiently
from distilbench.tracking.runs import artifact_location, close_parent_run, ensure_experiment
from distilbench.tracking.store import check_store, store_errors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrossvalPlan:
    jobs: tuple[FoldJob, ...]  # teachers come before the students that distil from them
    parents: tuple[ParentSpec, ...]
    datasets: tuple[PreparedRef, ...]
    tracking_uri: str
    experiment_id: str


def mlflow_experiment(cfg: Config, paths: ProjectPaths) -> tuple[str, str]:
    """The MLflow store in force and the study's MLflow experiment in it (created on first use)."""
    tracking_uri = cfg.tracking.uri or paths.tracking_uri
    with store_errors(tracking_uri):
        experiment_id = ensure_experiment(
            tracking_uri,
            cfg.experiment,
            artifact_location(tracking_uri, cfg.tracking.artifact_location, paths.artifact_root),
        )
    return tracking_uri, experiment_id


def plan_crossval(cfg: Config, prepared_root: Path, paths: ProjectPaths) -> CrossvalPlan:
    """Plan every fold, and the MLflow parent run (dataset x model) each is logged under."""
    tracking_uri, experiment_id = mlflow_experiment(cfg, paths)
    datasets = tuple(prepared_datasets(prepared_root))
    attempt = uuid.uuid4().hex  # this run of the stage: what its stop closes stays closed (ParentSpec)
    parents = {
        (data.name, spec.name): ParentSpec(
            key=parent_key(cfg, spec, data),
            dataset=data.name,
            model=spec.name,
            experiment_id=experiment_id,
            params=tuple((k, str(v)) for k, v in parent_params(cfg, spec, data).items()),
            attempt=attempt,
        )
        for data in datasets
        for spec in training_order(cfg.zoo.models)
        if cfg.runs_on(spec, data.name)
    }
    check_model_datasets(cfg, datasets)
    jobs = plan_jobs(cfg, datasets, parents, tracking_uri, paths.cache)
    return CrossvalPlan(jobs, tuple(parents.values()), datasets, tracking_uri, experiment_id)


def check_model_datasets(cfg: Config, datasets: Sequence[PreparedRef]) -> list[str]:
    """A row limited by `datasets` to names not prepared is skipped there, with one line naming the row
    and the datasets: the shipped zoo then runs on any dataset list, and a typo stays visible.
    Returns the lines logged."""
    known = [d.name for d in datasets]
    lines = []
    for i, spec in enumerate(cfg.zoo.models):
        unknown = [name for name in spec.datasets or () if name not in known]
        if unknown:
            runs = [name for name in spec.datasets if name in known] or "none"
            lines.append(
                f"models.zoos.{cfg.zoo.name}.models[{i}] ({spec.name!r}): skipped on {unknown}, not among "
                f"the prepared datasets {known}; it runs on {runs}"
            )
            logger.warning("%s", lines[-1])
    return lines


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
        # the values this model really used on this dataset
        "train": json.dumps(asdict(effective_train(cfg, spec, data.name))),
        "distill": json.dumps(asdict(cfg.distill)) if spec.distil_from else None,
    }


def run_fold(job: FoldJob, device: str | None = None, reference: FoldResult | None = None) -> FoldResult:
    """Compute one fold (on `device`, when the caller claimed one), then log it as its parent's child run,
    with its savings against `reference`, the teacher's result on the same fold (job.reference's; the
    teacher's own fold is its own reference).

    The computed fold is kept on disk until it is logged (crossval.unlogged): a store that stays away
    past tracking.outage_wait_seconds, or a crash while logging, costs a rerun the logging, not the fold.
    """
    stop.check_stop(job.label)  # a fold that starts after Ctrl-C or SIGTERM does not start
    result = unlogged.kept(job) or unlogged.keep(job, compute_fold(job, device))
    against = result if job.is_reference else reference
    savings = fold_savings(result, against) if against else {}
    try:
        run_id = patiently(
            lambda: log_fold(job, result, savings), job.tracking_uri, job.store_wait_seconds, job.label
        )
    except OSError as error:  # StorageError included: a store away too long, a full disk
        if not is_user_error(error):
            raise
        raise StorageError(
            f"{user_message(error)}; {job.label} is computed and kept ({unlogged.unlogged_path(job)}): "
            "rerun once the store answers to log it without training it again"
        ) from error
    unlogged.forget(job)
    return dataclasses.replace(result, run_id=run_id)


def time_and_log(jobs: Sequence[FoldJob], results: Sequence[FoldResult]) -> list[FoldResult]:
    """One fold's rows timed together (crossval.timing), their speeds added to their child runs."""
    timed = time_fold(jobs, results)
    for job, result in zip(jobs, timed, strict=True):
        log = functools.partial(log_fold_speeds, job, result)
        patiently(log, job.tracking_uri, job.store_wait_seconds, job.label)
    return timed


def run_in_order(plan: CrossvalPlan) -> list[FoldResult]:
    """The plain way to run the planned folds: one after the other, in the planned order (teachers first),
    each fold's rows timed together once the fold's last row is trained."""
    done: dict[str, FoldResult] = {}
    for jobs in fold_groups(plan.jobs).values():
        for job in jobs:
            reference = done[job.reference.cache_key] if job.reference else None
            done[job.cache_key] = run_fold(job, reference=reference)
        timed = time_and_log(jobs, [done[job.cache_key] for job in jobs])
        done.update({job.cache_key: result for job, result in zip(jobs, timed, strict=True)})
    return list(done.values())


def run_crossval(
    cfg: Config,
    prepared_root: Path,
    results_path: Path,
    project: ProjectPaths,
    submit_folds: Callable[[CrossvalPlan], Sequence[FoldResult]] = run_in_order,
) -> list[FoldResult]:
    """The crossval stage: plan, run every fold (`submit_folds` turns the plan's ordered jobs into their
    results: Prefect tasks in the flow, :func:`run_in_order` otherwise), close the MLflow parents (or mark
    them failed) and write the results file."""
    stop.reset()  # a study run again in the same process (a test, a served deployment) starts afresh
    # before any training: a store that refuses the first fold would waste it
    check_store(project, cfg.tracking.uri)
    check_zoo(cfg.zoo)
    plan = plan_crossval(cfg, prepared_root, project)
    # this clone's run lock is held: a run of this study still RUNNING was left by a killed attempt
    patiently(
        lambda: fail_left_running(plan.tracking_uri, plan.experiment_id, project.cache),
        plan.tracking_uri,
        cfg.tracking.outage_wait_seconds,
        "closing the runs an earlier attempt left RUNNING",
    )
    try:
        # a fold from the cache may have been logged to another experiment or store (crossval.relog)
        results = log_where_the_study_logs(plan.jobs, submit_folds(plan), plan.experiment_id, fold_savings)
    except BaseException:
        stop.request_stop()  # folds still running in other threads stop at their next step (core.stop)
        fail_crossval(plan, project.cache)
        raise
    try:
        patiently(
            lambda: close_parents(plan, results, cfg.zoo.teacher),
            plan.tracking_uri,
            cfg.tracking.outage_wait_seconds,
            "closing the MLflow parent runs",
        )
    except BaseException:
        # a parent that could not be closed is FAILED, never left RUNNING
        fail_crossval(plan, project.cache)
        raise
    write_results(results_path, cfg, plan, results)
    return results


def fail_crossval(plan: CrossvalPlan, cache_root: Path) -> None:
    """Mark the parents left RUNNING as FAILED (a rerun reopens them; a fold of this attempt still running
    on a Dask worker does not). Best effort: the error that stopped the study is the line the user must
    see, not a second one from a store that is away too."""
    try:
        fail_open_parents(plan.tracking_uri, plan.parents, cache_root)
    except Exception as error:  # noqa: BLE001 - see above
        logger.warning("could not mark the MLflow parent runs FAILED (%s): a rerun closes them", error)


def close_parents(plan: CrossvalPlan, results: list[FoldResult], teacher: str) -> None:
    """Each parent's summary over its folds (the report's numbers), description and fold table. The parent
    ends when its own last fold ended."""
    models = list(dict.fromkeys(p.model for p in plan.parents))
    # whose fold teacher's cost a row's end-to-end cost includes: it learnt from it or started from it
    distil_from = {j.model.name: j.model.fold_teacher for j in plan.jobs if j.model.fold_teacher}
    summary = summary_rows(results, teacher, models, distil_from)
    for parent in plan.parents:
        dataset, model = parent.dataset, parent.model
        run_id = find_parent_run(plan.tracking_uri, parent)
        own = [r for r in results if (r.dataset, r.model) == (dataset, model)]
        if run_id is None or not own:
            continue
        row = summary[dataset, model]
        metrics = run_metrics(row)
        teacher_metrics = run_metrics(summary[dataset, teacher]) if (dataset, teacher) in summary else {}
        others = [m for m in models if m != model]
        close_parent_run(
            plan.tracking_uri,
            run_id,
            metrics | variant_means(summary, dataset, model),
            note=parent_note(dataset, model, teacher, others, int(row["folds"]), metrics, teacher_metrics),
            fold_table_csv=fold_table_csv(own),
            end_ms=max(r.finished_ms for r in own) or None,
        )


def summary_rows(
    results: list[FoldResult], teacher: str, model_order: list[str], distil_from: dict[str, str] | None = None
) -> dict[tuple[str, str], dict]:
    """(dataset, model) -> its row of the report's summary (mean and std over folds, % saved vs the teacher;
    for a distilled student also end to end, with its fold teachers' cost), compressed variants included."""
    if not results:
        return {}
    folds = fold_frame([record for r in results for record in fold_records(r)])
    frame = summarize_models(folds, teacher, model_order, distil_from or {})
    return {(row["dataset"], row["model"]): row for row in frame.to_dict(orient="records")}


def variant_means(summary: dict, dataset: str, model: str) -> dict[str, float]:
    """A model's compressed variants summarised in its own parent run, under `<variant>/<metric>` (the
    fold runs' keys): the variants have no runs of their own."""
    out = {}
    for variant in COMPRESSED:
        row = summary.get((dataset, variant_row_name(model, variant)))
        numbers = run_metrics(row) if row else {}
        out |= {f"{variant}/{k}": v for k, v in numbers.items() if k in VARIANT_METRICS}
    return out


def fold_savings(result: FoldResult, teacher: FoldResult) -> dict[str, float]:
    """Time and size saved, accuracy retained, against the teacher's result on the same fold."""
    ratios = {
        TIME_SAVED: (result.train_eval_seconds, teacher.train_eval_seconds, saved_pct),
        SIZE_SAVED: (result.model_mb, teacher.model_mb, saved_pct),
        ACCURACY_RETAINED: (result.metrics[ACCURACY], teacher.metrics[ACCURACY], retained_pct),
    }
    # a teacher that scored 0 (a tiny test model) leaves its students' ratios undefined: not logged
    return {key: pct(value, of) for key, (value, of, pct) in ratios.items() if of}


def fold_table_csv(results: list[FoldResult]) -> str:
    """The per-fold table a parent run keeps as an artifact."""
    ordered = sorted(results, key=lambda r: (r.repeat, r.fold))
    frame = fold_frame([fold_record(r) for r in ordered])
    repeat = ["repeat"] if any(r.repeat > 1 for r in results) else []
    columns = [*repeat, "fold", *results[0].metrics, TRAIN_EVAL_SECONDS, MODEL_MB, "run_id"]
    return frame[columns].to_csv(index=False, float_format="%.4f")


def write_results(path: Path, cfg: Config, plan: CrossvalPlan, results: list[FoldResult]) -> None:
    """The crossval stage's output: every fold's numbers, the majority-class floor of every fold (no
    training: computed here, each time), plus what the report needs to lay them out."""
    ordered = sorted(results, key=lambda r: (r.dataset, r.model, r.repeat, r.fold))
    labels = {r.dataset: list(r.labels) for r in ordered}
    payload = {
        "version": RESULTS_VERSION,
        "zoo": cfg.zoo.name,
        "teacher": cfg.zoo.teacher,
        "tracking_uri": plan.tracking_uri,  # the report is published to the store the folds went to
        "models": [asdict(m) for m in cfg.zoo.models],
        # the primary questions this run was declared with: the report tests these, whatever params.yaml
        # says by then, and says so when they differ
        "questions": [asdict(q) for q in cfg.zoo.primary_questions],
        "datasets": {
            d.name: {
                "task": d.task,
                "examples": d.n_examples,
                "protocol": d.protocol,
                "note": d.note,
                # where the predictions' row ids point, and what their class ids name (report.disagreement)
                "directory": str(d.directory),
                "labels": labels.get(d.name, []),
                "preparation": preparation_counts(Path(d.directory)),
                "train": cfg.dataset_train(d.name),  # its own train settings, over the train section's
            }
            for d in plan.datasets
        },
        "folds": [record for r in ordered for record in fold_records(r)],
        "baselines": majority_baselines((d.directory for d in plan.datasets), cfg.train.imbalance_ratio),
        "label_baselines": label_set_baselines(d.directory for d in plan.datasets),
        # each fold's answer to each held-out row, for paired per-example analyses (report.disagreement)
        "predictions": [p for r in ordered for p in prediction_records(r)],
    }
    atomic.write_text(path, results_text(payload))


# what prepare did with the source's rows (data.prepared writes them to meta.json): the report states them
PREPARATION_KEYS = (
    "empty_dropped",
    "duplicates_removed",
    "conflicting_texts",
    "conflicting_duplicates",
    "conflicts_merged",
    "repeated_texts",
    "repeated_rows",
    "capped_from",
    "repeat_policy",
    "rare_labels_dropped",
    "development",
)


def preparation_counts(directory: Path) -> dict:
    """The prepared dataset's counts of dropped, merged and kept repeated rows, and the policy that decided
    them; read here, not in data.prepared, which the fold-code digest covers."""
    meta_file = directory / "meta.json"
    if not meta_file.is_file():
        return {}
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return {key: meta[key] for key in PREPARATION_KEYS if key in meta}
