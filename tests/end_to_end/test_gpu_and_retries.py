"""Fold tasks retry transient failures only, and on CUDA each holds a slot of the GPU limit and its own card.

There is no GPU here: the GPU paths run with the device count mocked, which is exactly what decides them.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from mlflow.exceptions import MlflowException
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.exceptions import ObjectNotFound

import flows.crossval as crossval_module
import flows.gpus as gpus_module
from distilbench.core.errors import ConfigError, DataError, is_transient
from distilbench.core.runtime import claim_gpu
from distilbench.crossval.fold import FoldResult
from flows.crossval import fold_task
from flows.gpus import GPU_LIMIT, fold_device


def fake_job(tmp_path: Path) -> SimpleNamespace:
    """What fold_task reads of a job; run_fold itself is replaced in these tests."""
    return SimpleNamespace(
        dataset="tiny",
        model=SimpleNamespace(name="teacher"),
        number=1,
        cache_key=uuid.uuid4().hex,  # never a cache hit from another test
        cache_root=str(tmp_path),
        label="tiny | teacher | fold 1/1",
        task_name="tiny-teacher-fold1",
    )


def a_result(device: str) -> FoldResult:
    return FoldResult(
        "tiny", "teacher", 1, "multiclass", {"accuracy": 1.0}, 1.0, 0.1, 8, 4, 1.0, 10, 1, device, "None"
    )


def wrapped_mlflow_error() -> MlflowException:
    """What MLflow's REST client raises when the tracking server is down: an MlflowException raised
    while handling the requests error."""
    try:
        try:
            raise requests.ConnectionError("Max retries exceeded")
        except requests.ConnectionError:
            raise MlflowException("API request to http://mlflow:5000 failed") from None
    except MlflowException as error:
        return error


def test_transient_errors_are_connection_failures_never_user_errors():
    assert is_transient(ConnectionRefusedError())
    assert is_transient(TimeoutError())
    assert is_transient(wrapped_mlflow_error())  # found through the exception's context
    assert not is_transient(ValueError("a bug"))
    assert not is_transient(FileNotFoundError("no such file"))
    assert not is_transient(DataError("data/mine.csv, line 5: bad"))
    try:  # a user's mistake stays one even when a network error happened before it
        try:
            raise ConnectionError()
        except ConnectionError:
            raise ConfigError("train.epochs: 0 must be >= 1") from None
    except ConfigError as error:
        assert not is_transient(error)


def calls_failing_with(monkeypatch, errors: list[BaseException]) -> list[str | None]:
    """run_fold raises each of `errors` in turn, then succeeds; returns the devices it was called with."""
    devices = []

    def run_fold(job, device, reference=None):
        devices.append(device)
        if len(devices) <= len(errors):
            raise errors[len(devices) - 1]
        return a_result(device or "cpu")

    monkeypatch.setattr(crossval_module, "run_fold", run_fold)
    return devices


def test_a_fold_task_retries_a_transient_failure_and_succeeds(monkeypatch, tmp_path):
    calls = calls_failing_with(monkeypatch, [ConnectionResetError("reset"), wrapped_mlflow_error()])
    result = fold_task.with_options(retry_delay_seconds=0)(fake_job(tmp_path))
    assert result.metrics == {"accuracy": 1.0}
    assert len(calls) == 3


def test_a_fold_task_never_retries_bad_input(monkeypatch, tmp_path):
    calls = calls_failing_with(monkeypatch, [DataError("data/mine.csv, line 5: 3 fields"), ConnectionError()])
    state = fold_task.with_options(retry_delay_seconds=0)(fake_job(tmp_path), return_state=True)
    assert state.is_failed() and "line 5" in state.message
    assert len(calls) == 1


def test_a_cpu_fold_needs_no_gpu_slot(monkeypatch, tmp_path):
    monkeypatch.setattr(gpus_module, "visible_gpus", lambda: 0)
    calls = calls_failing_with(monkeypatch, [])
    fold_task(fake_job(tmp_path))
    assert calls == [None]  # compute_fold then picks the CPU


def read_limit():
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(GPU_LIMIT)


def delete_limit():
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):  # not there yet
        client.delete_global_concurrency_limit_by_name(GPU_LIMIT)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(gpus_module, "visible_gpus", lambda: 2)
    delete_limit()
    yield
    delete_limit()


def test_cuda_folds_hold_a_slot_of_a_strict_limit_sized_to_the_gpus_and_each_its_own_card(two_gpus, tmp_path):
    entered, release = threading.Barrier(3), threading.Event()
    devices, inside = [], []

    def fold():
        with fold_device(tmp_path) as device:
            devices.append(device)
            entered.wait(timeout=60)
            release.wait(timeout=60)

    workers = [threading.Thread(target=fold) for _ in range(2)]
    for worker in workers:
        worker.start()
    entered.wait(timeout=60)
    limit = read_limit()
    inside.append(limit.active_slots)
    release.set()
    for worker in workers:
        worker.join(timeout=60)

    assert sorted(devices) == ["cuda:0", "cuda:1"]  # two folds never share a card
    assert (limit.limit, inside) == (2, [2])
    assert read_limit().active_slots == 0  # released when the folds end


def test_the_gpu_limit_is_created_once_and_a_hand_resized_one_is_kept(two_gpus, tmp_path, monkeypatch):
    calls = calls_failing_with(monkeypatch, [])
    fold_task(fake_job(tmp_path))
    assert calls == ["cuda:0"]  # the claimed card is the device the fold runs on
    with get_client(sync_client=True) as client:  # a user fans out over 8 GPUs on a cluster
        client.update_global_concurrency_limit(GPU_LIMIT, GlobalConcurrencyLimitUpdate(limit=8))
    with fold_device(tmp_path) as device:
        assert device == "cuda:0"
    assert read_limit().limit == 8


def test_a_third_fold_waits_for_one_of_two_cards(tmp_path):
    order = []
    with claim_gpu(tmp_path, 2) as first, claim_gpu(tmp_path, 2) as second:
        assert (first, second) == (0, 1)

        def third():
            with claim_gpu(tmp_path, 2, poll_seconds=0.05) as index:
                order.append(("third got", index))

        waiting = threading.Thread(target=third)
        waiting.start()
        waiting.join(timeout=0.5)
        order.append("released")
    waiting.join(timeout=10)
    assert order[0] == "released" and order[1][0] == "third got"
