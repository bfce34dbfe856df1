"""The MLflow store away while folds log: locked for a while, a tracking server restarting, a store that
stays away past tracking.outage_wait_seconds."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import distilbench.crossval.stage as stage
from tests.end_to_end.servers import free_port, mlflow_server
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

# MLflow's own sqlite busy wait rides out a short lock; past its 20 s the fold's bounded wait must
LONGER_THAN_MLFLOW_WAITS = 30.0


def hold_exclusive_lock(database: Path, locked: threading.Event, seconds: float) -> None:
    """Another process's write transaction on the store (a second tool, a backup): nobody else writes."""
    connection = sqlite3.connect(database, timeout=30)
    connection.execute("BEGIN EXCLUSIVE")
    locked.set()
    threading.Event().wait(seconds)
    connection.rollback()
    connection.close()


@pytest.mark.parametrize(
    "seconds",
    [pytest.param(s, marks=pytest.mark.slow) for s in (8.0, LONGER_THAN_MLFLOW_WAITS)],
    ids=["8s", "30s"],
)
def test_a_store_locked_while_a_fold_logs_is_ridden_out(study, monkeypatch, caplog, seconds):
    prepared = tree_digest(Path(study.prepared))
    real = stage.log_fold
    locked = threading.Event()

    def log_into_a_locked_store(job, result, savings):
        if "| student | fold 2/" in job.label and not locked.is_set():
            database = Path(study.client.tracking_uri.removeprefix("sqlite:///"))
            threading.Thread(
                target=hold_exclusive_lock, args=(database, locked, seconds), daemon=True
            ).start()
            locked.wait(10)
        return real(job, result, savings)

    monkeypatch.setattr(stage, "log_fold", log_into_a_locked_store)
    with caplog.at_level(logging.WARNING, logger="distilbench"):
        assert sorted(rerun(study, f"(a run with) the store locked {seconds:.0f} s")) == sorted(all_labels())

    assert locked.is_set()
    waited = any(
        "is away" in r.getMessage() and "database is locked" in r.getMessage() for r in caplog.records
    )
    assert waited == (seconds > 20)  # the fold's own wait, said in the log, only past MLflow's
    assert_study_whole(study, prepared)


def all_labels() -> list[str]:
    return [f"tiny | {model} | fold {n}/3" for model in ("teacher", "student") for n in (1, 2, 3)]


def test_a_store_away_past_the_wait_stops_in_one_line_and_the_rerun_logs_without_retraining(study):
    study.raw["tracking"] = {"outage_wait_seconds": 3}
    study.save()
    prepared = tree_digest(Path(study.prepared))
    command = start_crossval(study, fault="store-gone")

    assert command.finish() == 2, command.output[-3000:]
    (line,) = error_lines(command)
    assert "does not answer" in line
    assert "tiny | teacher | fold 3/3 is computed and kept" in line and "without training it again" in line
    assert_no_traceback(command)
    assert any("is away" in line and "retrying" in line for line in command.lines)  # it waited first
    assert len(assert_left_resumable(study, prepared)) == 4  # folds 1 and 2 of both models
    assert sorted(command.trained()) == sorted(set(all_labels()) - {"tiny | student | fold 3/3"})

    # the kept teacher fold is logged, not trained again; its student, which waited for it, is trained
    assert rerun(study, "the store away past its wait") == ["tiny | student | fold 3/3"]
    assert_study_whole(study, prepared)


def tracking_server(tmp_path: Path):
    """A real `mlflow server` on loopback that can be stopped and started again on the same port and store."""
    port, backend = free_port(), f"sqlite:///{tmp_path / 'server.db'}"
    return lambda: mlflow_server(backend, tmp_path / "artifacts", tmp_path / "server.log", port=port)


@pytest.mark.slow
def test_a_tracking_server_restarting_mid_study_is_ridden_out(study, tmp_path):
    """Stopped after fold 1 logged, started again once the run said it waits: the study finishes."""
    server = tracking_server(tmp_path)
    prepared = tree_digest(Path(study.prepared))
    with server() as uri:
        command = start_crossval(study, MLFLOW_TRACKING_URI=uri)
        command.wait_for(r"tiny \| teacher \| fold 1/3: accuracy")  # logged
    command.wait_for(r"is away")
    with server():
        back = time.monotonic()
        assert command.finish() == 0, command.output[-3000:]
        measured("the tracking server restarted: the run finished after it was back", time.monotonic() - back)
        study.client = type(study.client)(uri)
        assert_study_whole(study, prepared)


@pytest.mark.slow
def test_a_tracking_server_gone_past_the_wait_stops_in_one_line_and_the_rerun_logs_the_kept_folds(
    study, tmp_path, monkeypatch
):
    study.raw["tracking"] = {"outage_wait_seconds": 5}
    study.save()
    server = tracking_server(tmp_path)
    prepared = tree_digest(Path(study.prepared))
    with server() as uri:
        command = start_crossval(study, MLFLOW_TRACKING_URI=uri)
        command.wait_for(r"tiny \| teacher \| fold 1/3: accuracy")
    stopped = time.monotonic()
    assert command.finish() == 2, command.output[-3000:]
    measured(
        "the tracking server gone: the run's one line, after the server stopped", time.monotonic() - stopped
    )
    (line,) = error_lines(command)
    assert f"MLflow store {uri} does not answer" in line and "is computed and kept" in line
    assert_no_traceback(command)

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with server():
        study.client = type(study.client)(uri)
        # the parents could not be marked FAILED either (the store was away): the rerun closes them
        assert_left_resumable(study, prepared, unmarked=True)
        kept = [p.name for p in Path(os.environ["DISTILBENCH_CACHE"]).glob("unlogged/*")]
        assert kept, "no computed fold was kept"
        trained = rerun(study, "the tracking server gone")
        # every fold trained once over both runs: the kept ones are logged, not trained again
        assert sorted(command.trained() + trained) == sorted(all_labels())
        assert_study_whole(study, prepared)
