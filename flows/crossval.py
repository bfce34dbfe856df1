"""`crossval` stage: fine-tune or distil every model on every fold, one Prefect task per fold."""

from pathlib import Path

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from distilbench.config import CrossvalConfig, load_config
from distilbench.fold import FoldResult
from distilbench.jobs import FoldJob
from distilbench.models.zoo import check_zoo
from distilbench.paths import PARAMS_FILE, PREPARED_DIR, RESULTS_FILE, ProjectPaths
from distilbench.runtime import set_threads
from distilbench.study import Study, close_parents, plan_study, run_fold, write_results


# The cache key is the job's content hash (data, fold, model, settings): a rerun after a crash, or after
# an edit elsewhere in params.yaml, skips every fold that already finished with the same inputs.
@task(
    task_run_name="{job.dataset}-{job.model.name}-fold{job.fold}",
    cache_key_fn=lambda _context, parameters: parameters["job"].cache_key,
    persist_result=True,
)
def fold_task(job: FoldJob, teacher_result: FoldResult | None = None) -> FoldResult:
    # teacher_result only orders the tasks: a distilled student waits for its fold teacher's logits
    return run_fold(job)


def task_runner(cfg: CrossvalConfig):
    if cfg.dask_address:
        from prefect_dask import DaskTaskRunner  # optional extra: pip install 'distilbench[dask]'

        return DaskTaskRunner(address=cfg.dask_address)
    return ThreadPoolTaskRunner(max_workers=cfg.max_workers)


@flow(name="distilbench-folds", validate_parameters=False)
def run_folds(study: Study) -> list[FoldResult]:
    """Every fold task of the study, on the task runner that crossval.* configures."""
    futures = {}
    for job in study.jobs:
        teacher = futures[job.teacher.cache_key] if job.teacher else None
        futures[job.cache_key] = fold_task.submit(job, teacher)
    try:
        return [future.result() for future in futures.values()]
    except BaseException:
        close_parents(study, [], teacher="", status="FAILED")
        raise


@flow(name="distilbench-crossval")
def crossval(
    params: str = PARAMS_FILE, prepared: str = PREPARED_DIR, results: str = RESULTS_FILE
) -> list[FoldResult]:
    cfg = load_config(Path(params))
    check_zoo(cfg.zoo)
    set_threads(cfg.crossval.max_workers)
    study = plan_study(cfg, Path(prepared), ProjectPaths.current())
    # the runner is chosen here, from params, so a dashboard or test run obeys crossval.max_workers too
    fold_results = run_folds.with_options(task_runner=task_runner(cfg.crossval))(study)
    close_parents(study, fold_results, cfg.zoo.teacher)
    write_results(Path(results), cfg, study, fold_results)
    return fold_results
