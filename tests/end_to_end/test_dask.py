"""Fold tasks on Dask: crossval.dask_address pointed at a LocalCluster of 2 worker *processes*.

The workers are separate processes, as on a real cluster: they reach the Prefect API, the MLflow store and
the prepared data only through what every worker must be given (the environment and the paths in the job).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from distributed import Client, LocalCluster

import flows.crossval as crossval_module
from tests.end_to_end.conftest import Project, tiny_model

FOLDS = 2  # two folds of two models per runner: enough to show the metrics match (CI time)
MODELS = [
    tiny_model("teacher"),
    tiny_model("distilled", layers=[1], distil_from="teacher"),
]


@pytest.fixture
def cluster(monkeypatch):
    # one torch thread per worker process: two workers share this machine's cores (see runtime.set_threads)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture
def project(make_project, tiny_csv) -> Project:
    return make_project(models=MODELS, folds=FOLDS)


def on_dask(project: Project, cluster: LocalCluster, experiment: str) -> None:
    """The same params, with folds sent to the cluster's scheduler and logged under another experiment."""
    project.raw["crossval"] = {"dask_address": cluster.scheduler_address}
    project.raw["experiment"] = experiment
    project.save()


def one_finished_child_per_fold(project: Project) -> list[tuple[str, str]]:
    kids = project.children()
    assert all(k.info.status == "FINISHED" for k in kids), [k.info.status for k in kids]
    return sorted((k.data.tags["model"], k.data.tags["fold"]) for k in kids)


EVERY_FOLD = sorted((m["name"], str(f)) for m in MODELS for f in range(1, FOLDS + 1))


def test_folds_on_two_dask_worker_processes_match_the_thread_runner(project, cluster, monkeypatch):
    on_threads = {(r.model, r.fold): r.metrics for r in project.run()}

    on_dask(project, cluster, "e2e-dask")
    # the same fold cache keys: recompute instead of reading the thread run's results back
    monkeypatch.setattr(
        crossval_module, "fold_task", crossval_module.fold_task.with_options(refresh_cache=True)
    )
    results = project.run()

    assert {(r.model, r.fold): r.metrics for r in results} == on_threads
    with Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
    assert os.getpid() not in worker_pids  # the folds really ran in other processes
    assert one_finished_child_per_fold(project) == EVERY_FOLD


def kill_a_worker_mid_fold(cluster: LocalCluster, stop: threading.Event, killed: list[int]) -> None:
    """SIGKILL the first worker process seen running a fold task (what an OOM killer or a lost node does)."""
    with Client(cluster) as client:
        while not stop.is_set():
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                time.sleep(0.5)  # into the fold, not at its first line
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)


@pytest.mark.slow
def test_a_worker_killed_mid_fold_leaves_one_finished_child_per_fold_after_a_rerun(project, cluster):
    on_dask(project, cluster, "e2e-dask-kill")
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=kill_a_worker_mid_fold, args=(cluster, stop, killed))
    killer.start()
    try:
        project.run()  # Dask may move the lost fold to the other worker and finish; or the run fails
    except Exception:  # noqa: BLE001 - either outcome is allowed: the rerun below must repair it
        pass
    finally:
        stop.set()
        killer.join(timeout=60)
    assert killed, "no worker was seen running a fold"

    results = project.run()
    assert sorted((r.model, str(r.fold)) for r in results) == EVERY_FOLD
    assert one_finished_child_per_fold(project) == EVERY_FOLD
    assert len(project.parents()) == len(MODELS) and all(
        p.info.status == "FINISHED" for p in project.parents()
    )
