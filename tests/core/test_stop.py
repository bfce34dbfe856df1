"""core.stop: the stop request a signal sets, the folds' check of it, and which signal stopped the run."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from distilbench.core import stop


@pytest.fixture(autouse=True)
def fresh_stop():
    """Each test starts with no stop requested and Python's own handlers put back after it."""
    saved = {number: signal.getsignal(number) for number in stop.SIGNALS}
    stop.reset()
    yield
    stop.reset()
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_a_stop_request_is_seen_by_every_thread_and_forgotten_on_reset():
    assert not stop.stop_requested()
    stop.check_stop("fold 1")  # nothing requested: no error
    stop.request_stop()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(stop.stop_requested()))
    worker.start()
    worker.join()
    assert seen == [True]
    with pytest.raises(stop.StopRequested, match="fold 1: stopped on request"):
        stop.check_stop("fold 1")
    stop.reset()
    assert not stop.stop_requested()


@pytest.mark.parametrize(
    ("number", "name", "code"), [(signal.SIGINT, "SIGINT", 130), (signal.SIGTERM, "SIGTERM", 143)]
)
def test_a_signal_unwinds_the_main_thread_requests_the_stop_and_is_named(number, name, code):
    stop.install_handlers()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), number)
        signal.sigtimedwait([], 0)  # a bytecode boundary: the handler runs here at the latest
    assert stop.stop_requested()
    assert stop.stopping_signal() == name
    assert stop.EXIT_CODES[name] == code


def test_the_first_signal_names_the_stop_and_a_second_is_noted_not_raised():
    stop.install_handlers()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.sigtimedwait([], 0)
    os.kill(os.getpid(), signal.SIGINT)  # a Ctrl-C while the scheduler's stop is cleaned up: no raise
    signal.sigtimedwait([], 0)
    assert stop.stopping_signal() == "SIGTERM" and stop.stop_requested()


def test_the_signal_an_error_carries_wins():
    class TerminationSignal(Exception):  # as Prefect's carries the signal number
        signal = signal.SIGTERM

    assert stop.stopping_signal(TerminationSignal()) == "SIGTERM"
    assert stop.stopping_signal(ValueError()) == "SIGINT"  # none received, none carried: Ctrl-C
