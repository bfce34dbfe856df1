"""Stopping on request: Ctrl-C (SIGINT) or a scheduler's SIGTERM ends a run at the next training step.

A signal reaches Python's main thread only; a fold trains in a worker thread, which no exception can
reach. So the main thread, once interrupted, calls :func:`request_stop`, and each fold checks
:func:`check_stop` between steps: it stops within one step, before anything is logged, and a rerun
redoes it. Finished folds are logged and cached already: nothing is lost, nothing is written twice.
"""

from __future__ import annotations

import signal
import threading

_STOP = threading.Event()
_RECEIVED: list[str] = []  # the signal names that stopped this process, in order

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# the exit codes shells use for a process ended by a signal: 128 + its number
EXIT_CODES = {s.name: 128 + s for s in SIGNALS}


class StopRequested(Exception):
    """Raised in a fold when the run was asked to stop: not a failure, and never retried."""


def request_stop() -> None:
    _STOP.set()


def stop_requested() -> bool:
    return _STOP.is_set()


def check_stop(where: str) -> None:
    """Raise StopRequested if the run was asked to stop (call between steps of long work)."""
    if _STOP.is_set():
        raise StopRequested(f"{where}: stopped on request")


def _on_signal(signum: int, _frame) -> None:
    _RECEIVED.append(signal.Signals(signum).name)
    request_stop()
    raise KeyboardInterrupt  # unwinds the main thread; `finally` blocks and cleanups run


def install_handlers() -> None:
    """SIGINT and SIGTERM both stop the run the same clean way (Python's default SIGTERM ends the process
    at once: MLflow parents left RUNNING, a temporary Prefect server orphaned)."""
    for number in SIGNALS:
        signal.signal(number, _on_signal)


def stopping_signal(error: BaseException | None = None) -> str:
    """The signal that stopped the run: the one `error` carries (Prefect's TerminationSignal), else
    SIGTERM if one came (a scheduler's), else SIGINT (Ctrl-C)."""
    carried = getattr(error, "signal", None)
    if carried in SIGNALS:
        return signal.Signals(carried).name
    return "SIGTERM" if "SIGTERM" in _RECEIVED else "SIGINT"


def reset() -> None:
    """For tests and long-lived processes: forget an earlier stop."""
    _STOP.clear()
    _RECEIVED.clear()
