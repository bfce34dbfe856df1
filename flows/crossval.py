"""`crossval` stage: fine-tune or distil every model on every fold, one Prefect task per fold."""

import functools
import logging
from concurrent.futures import CancelledError
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from distilbench.config.environment import lost_dask_scheduler
from distilbench.config.settings import CrossvalConfig, load_config
from distilbench.core.errors import is_transient
from distilbench.core.paths import PARAMS_FILE, PREPARED_DIR, RESULTS_FILE, ProjectPaths
from distilbench.core.runtime import set_threads
from distilbench.core.stop import request_stop
from distilbench.crossval.fold import FoldResult
from distilbench.crossval.notes import fold_line, speed_line
from distilbench.crossval.plan import FoldJob
from distilbench.crossval.stage import CrossvalPlan, run_crossval, run_fold, time_and_log
from distilbench.crossval.timing import fold_groups, timing_key, timing_task_name
from distilbench.tracking.views import study_view_url
from flows.gpus import fold_device

POLL_SECONDS = 0.5


def retry_if_transient(_task, _task_run, state) -> bool:
    """Retry a fold only for a transient failure (a server briefly away); a user's mistake or a bug
    fails at once, since every attempt would fail the same way."""
    return is_transient(state.result(raise_on_failure=False))


# The cache key is the job's content hash (data, fold, model, settings): a rerun after a crash, or after
# an edit elsewhere in params.yaml, skips every fold that already finished with the same inputs.
@task(
    task_run_name="{job.task_name}",  # <dataset>-<model>-fold3, or ...-repeat2-fold3
    cache_key_fn=lambda _context, parameters: parameters["job"].cache_key,
    persist_result=True,
    # a retry redoes the fold; log_fold first deletes the half-written run an interrupted attempt left
    retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),  # 10 s, 20 s, 40 s
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
def fold_task(
    job: FoldJob, teacher_result: FoldResult | None = None, reference: FoldResult | None = None
) -> FoldResult:
    # teacher_result only orders the tasks: a distilled student waits for its fold teacher's logits;
    # reference is the teacher's result on the same fold, which the fold's run states its savings against
    with fold_device(Path(job.cache_root) / "locks") as device:
        result = run_fold(job, device, reference)
    get_run_logger().info(fold_line(job.label, result))
    return result


@task(
    task_run_name="{name}",  # <dataset>-fold3-timing
    cache_key_fn=lambda _context, parameters: timing_key(parameters["jobs"]),
    persist_result=True,
)
def time_fold_task(name: str, jobs: list[FoldJob], results: list[FoldResult]) -> list[FoldResult]:
    """Every row of one fold timed together, in this one process, once the fold's last row is trained."""
    timed = time_and_log(jobs, results)
    for job, result in zip(jobs, timed, strict=True):
        get_run_logger().info(speed_line(job.label, result))
    return timed


def task_runner(cfg: CrossvalConfig) -> TaskRunner:
    if cfg.dask_address:
        from prefect_dask import DaskTaskRunner  # optional extra: pip install 'distilbench[dask]'

        # a lost scheduler is said in one line by with_runner; the client's own log of it is a traceback
        logging.getLogger("distributed.client").setLevel(logging.CRITICAL)

        return DaskTaskRunner(address=cfg.dask_address)
    return ThreadPoolTaskRunner(max_workers=cfg.max_workers)


def submit_folds(runner: TaskRunner, plan: CrossvalPlan) -> list[FoldResult]:
    """Every fold task of the plan, submitted through `runner` so each is listed on this flow run's page;
    a fold's task waits for its fold teacher's and its reference's. Returns once all are done; on Ctrl-C
    or SIGTERM, once the running folds have stopped (core.stop), so nothing logs behind the user's back."""
    get_run_logger().info(
        "%d fold tasks; MLflow study view: %s", len(plan.jobs), study_view_url(plan.experiment_id)
    )
    futures: dict[str, PrefectFuture] = {}
    timings: list[PrefectFuture] = []
    for jobs in fold_groups(plan.jobs).values():
        for job in jobs:
            teacher = futures[job.teacher.cache_key] if job.teacher else None
            reference = futures[job.reference.cache_key] if job.reference else None
            futures[job.cache_key] = runner.submit(
                fold_task, {"job": job, "teacher_result": teacher, "reference": reference}
            )
        # submitted after the fold's rows, so it runs as soon as they are done, before the next fold
        fold_results = [futures[job.cache_key] for job in jobs]
        parameters = {"name": timing_task_name(jobs[0]), "jobs": jobs, "results": fold_results}
        timings.append(runner.submit(time_fold_task, parameters))
    try:
        wait_interruptibly([*futures.values(), *timings])
    except BaseException:
        request_stop()  # Ctrl-C or SIGTERM: the running folds stop at their next step
        raise
    for future in futures.values():
        future.result()  # a failed fold raises its own error here, not its fold timing's "not ready"
    return [result for timing in timings for result in timing.result()]


def wait_interruptibly(futures: list[PrefectFuture]) -> None:
    """Wait for every future in short slices: Python runs a signal's handler only between the main
    thread's bytecodes, so one long wait would hold Ctrl-C until the running fold ended."""
    for future in futures:
        while not future.wrapped_future.done():
            future.wait(POLL_SECONDS)


def with_runner(cfg: CrossvalConfig, plan: CrossvalPlan) -> list[FoldResult]:
    """The plan's folds on the configured runner, which is shut down (its threads joined) before the
    stage closes or fails the MLflow parents: no fold logs after that."""
    try:
        with task_runner(cfg) as runner:
            return submit_folds(runner, plan)
    except CancelledError as error:
        if not cfg.dask_address:
            raise
        # Dask cancels every pending future when its scheduler goes: one line, not the client's traceback
        raise lost_dask_scheduler(cfg.dask_address, error) from error


@flow(name="distilbench-crossval")
def crossval(
    params: str = PARAMS_FILE, prepared: str = PREPARED_DIR, results: str = RESULTS_FILE
) -> list[FoldResult]:
    cfg = load_config(Path(params))
    set_threads(cfg.crossval.max_workers)
    # the runner is chosen here, from params, so a dashboard or test run obeys crossval.max_workers too
    submit = functools.partial(with_runner, cfg.crossval)
    return run_crossval(cfg, Path(prepared), Path(results), ProjectPaths.current(), submit)
