"""`crossval` stage: fine-tune or distil every model on every fold, one Prefect task per fold."""

from pathlib import Path

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from distilbench.config import CrossvalConfig, ExperimentConfig, load_params
from distilbench.crossval import FoldJob, FoldResult, run_fold
from distilbench.models.zoo import check_zoo
from distilbench.planning import Plan, close_parents, plan, write_results
from distilbench.runtime import set_threads
from distilbench.settings import ProjectPaths
from flows._cli import run_cli


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
def run_folds(the_plan: Plan) -> list[FoldResult]:
    """Every fold task of the plan, on the task runner that crossval.* configures."""
    futures = {}
    for job in the_plan.jobs:
        teacher = futures[job.teacher.cache_key] if job.teacher else None
        futures[job.cache_key] = fold_task.submit(job, teacher)
    try:
        return [future.result() for future in futures.values()]
    except BaseException:
        close_parents(the_plan, [], teacher="", status="FAILED")
        raise


@flow(name="distilbench-crossval")
def crossval(
    params: str = "params.yaml", prepared: str = "data/prepared", results: str = "results/crossval.json"
) -> list[FoldResult]:
    cfg = ExperimentConfig.from_params(load_params(Path(params)))
    check_zoo(cfg.zoo)
    set_threads(cfg.crossval.max_workers)
    paths = ProjectPaths.current()
    the_plan = plan(cfg, Path(prepared), paths.tracking_uri, paths.artifact_root, paths.cache)
    # the runner is chosen here, from params, so a dashboard or test run obeys crossval.max_workers too
    fold_results = run_folds.with_options(task_runner=task_runner(cfg.crossval))(the_plan)
    close_parents(the_plan, fold_results, cfg.zoo.teacher)
    write_results(Path(results), cfg, the_plan, fold_results)
    return fold_results


def validate(params: str, **_paths: str) -> None:
    ExperimentConfig.from_params(load_params(Path(params)))


if __name__ == "__main__":
    defaults = dict(params="params.yaml", prepared="data/prepared", results="results/crossval.json")
    run_cli(crossval, __doc__, validate=validate, **defaults)
