"""The servers a study runs on, stopped under it: the Prefect server (restarted, or gone for good) and a
Dask scheduler. Real servers on loopback, started and stopped here: slow."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.end_to_end.servers import free_port, prefect_server
from tests.faults.conftest import (
    assert_left_resumable,
    assert_no_traceback,
    assert_study_whole,
    error_lines,
    measured,
    rerun,
    start_crossval,
    tree_digest,
)

pytestmark = pytest.mark.slow

FOLD_1_LOGGED = r"tiny \| teacher \| fold 1/3: accuracy"


def test_a_prefect_server_restarting_mid_study_is_ridden_out(study, tmp_path):
    prepared = tree_digest(Path(study.prepared))
    home, port, log = tmp_path / "prefect-home", free_port(), tmp_path / "prefect.log"
    with prefect_server(home, port, log) as api:
        command = start_crossval(study, prefect_api=api)
        command.wait_for(FOLD_1_LOGGED)
    time.sleep(10)  # down for a while: the run's client waits and retries
    with prefect_server(home, port, log):
        back = time.monotonic()
        assert command.finish() == 0, command.output[-3000:]
        measured("the Prefect server restarted: the run finished after it was back", time.monotonic() - back)
    assert_study_whole(study, prepared)


def test_a_prefect_server_gone_for_good_stops_in_one_line_and_the_rerun_resumes(study, tmp_path):
    prepared = tree_digest(Path(study.prepared))
    with prefect_server(tmp_path / "prefect-home", free_port(), tmp_path / "prefect.log") as api:
        command = start_crossval(study, prefect_api=api)
        command.wait_for(FOLD_1_LOGGED)
    stopped_at = time.monotonic()

    assert command.finish(timeout=600) == 2, command.output[-3000:]
    waited = time.monotonic() - stopped_at
    (line,) = error_lines(command)
    assert f"the Prefect server at {api} stopped answering" in line and "rerun" in line
    assert_left_resumable(study, prepared)
    measured("the Prefect server gone: the run's one line, after the server stopped", waited)

    trained = rerun(study, "the Prefect server gone")  # on the test session's server
    assert "tiny | teacher | fold 1/3" not in trained
    assert_study_whole(study, prepared)


@contextlib.contextmanager
def dask_cluster(port: int, log: Path) -> Iterator[list[subprocess.Popen]]:
    """A `dask scheduler` and one `dask worker` process on loopback, as on a cluster; yields both."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    address = f"tcp://127.0.0.1:{port}"
    with log.open("a") as output:
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", str(port), "--no-dashboard"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1"]
            + ["--no-dashboard"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        processes = [scheduler, worker]
        try:
            wait_for_a_worker(address)
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)


def wait_for_a_worker(address: str, timeout: float = 120) -> None:
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(1, timeout=timeout)


def test_a_dask_scheduler_dying_mid_study_stops_in_one_line_and_the_rerun_resumes(study, tmp_path):
    prepared = tree_digest(Path(study.prepared))
    port, log = free_port(), tmp_path / "dask.log"
    study.raw["crossval"] = {"dask_address": f"tcp://127.0.0.1:{port}"}
    study.save()
    with dask_cluster(port, log) as (scheduler, _worker):
        command = start_crossval(study)
        wait_until(lambda: len(study.children()) >= 1)  # the folds run in the worker: watch the store
        os.kill(scheduler.pid, signal.SIGKILL)
        killed_at = time.monotonic()

        assert command.finish() == 2, command.output[-3000:]
        measured(
            "the Dask scheduler killed: the run's one line, after the kill", time.monotonic() - killed_at
        )
    (line,) = error_lines(command)
    assert f"the Dask scheduler at tcp://127.0.0.1:{port} stopped answering" in line
    assert_no_traceback(command)
    # the worker, cut off from its scheduler, went on with its fold (and may have logged it, reopening
    # its parent) until the cluster was stopped: as after a kill, the rerun closes what it left
    assert_left_resumable(study, prepared, unmarked=True)

    with dask_cluster(port, log):
        rerun(study, "the Dask scheduler killed")  # the folds train in the new worker, not here
        assert_study_whole(study, prepared)


def wait_until(condition, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)
