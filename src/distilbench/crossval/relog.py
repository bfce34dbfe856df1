"""Where a fold is logged is part of what makes it done.

The fold cache's key holds what decides a fold's result, not where it is logged: a study rerun after
changing `experiment` (or `tracking.uri`, or $MLFLOW_TRACKING_URI) gets every fold from the cache, each
carrying the run id of the experiment it was first logged to. Training them again would waste hours to
change nothing computed; so each cached fold whose run is not a finished run of the current experiment
is logged there from its cached result, and the results file gets the run ids that exist.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

from mlflow.tracking import MlflowClient

from distilbench.crossval.fold import FoldResult
from distilbench.crossval.mlflow_runs import FOLD_KEY, log_fold
from distilbench.crossval.plan import FoldJob
from distilbench.tracking.outage import patiently

logger = logging.getLogger(__name__)

PAGE = 1000  # runs per search page
Savings = Callable[[FoldResult, FoldResult], dict[str, float]]


def logged_folds(tracking_uri: str, experiment_id: str) -> dict[str, str]:
    """Fold key -> run id of every FINISHED fold run in the experiment."""
    client = MlflowClient(tracking_uri)
    found: dict[str, str] = {}
    token = None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=PAGE,
            page_token=token,
        )
        found |= {r.data.tags[FOLD_KEY]: r.info.run_id for r in page if FOLD_KEY in r.data.tags}
        token = page.token
        if not token:
            return found


def where(job: FoldJob) -> tuple[str, str, int, int]:
    return job.dataset, job.model.name, job.repeat, job.number


def job_of(jobs: Sequence[FoldJob], result: FoldResult) -> FoldJob:
    """The planned job a result is of (a result knows its dataset, model, repeat and fold)."""
    return next(j for j in jobs if where(j) == (result.dataset, result.model, result.repeat, result.fold))


def log_where_the_study_logs(
    jobs: Sequence[FoldJob], results: Sequence[FoldResult], experiment_id: str, savings: Savings
) -> list[FoldResult]:
    """`results` with every run id a finished fold run of `experiment_id`: a cached fold logged elsewhere
    (another experiment or store, or its run deleted) is logged here from its cached result, with its
    savings against its reference fold's result (`savings(result, reference)`), without training it."""
    if not jobs:
        return list(results)
    tracking_uri, wait = jobs[0].tracking_uri, jobs[0].store_wait_seconds
    logged = patiently(
        lambda: logged_folds(tracking_uri, experiment_id), tracking_uri, wait, "looking up the logged folds"
    )
    by_key = {job_of(jobs, r).cache_key: r for r in results}
    placed: list[FoldResult] = []
    for result in results:
        job = job_of(jobs, result)
        run_id = logged.get(job.cache_key)
        if run_id is None:
            reference = by_key.get(job.reference.cache_key) if job.reference else None
            against = result if job.is_reference else reference
            numbers = savings(result, against) if against else {}
            logger.info("%s: from the fold cache, logged elsewhere; logging it to this experiment", job.label)
            run_id = patiently(lambda: log_fold(job, result, numbers), tracking_uri, wait, job.label)  # noqa: B023
        placed.append(dataclasses.replace(result, run_id=run_id))
    return placed
