"""Stopping on request: Ctrl-C (SIGINT), a scheduler's SIGTERM or a closed terminal's SIGHUP ends a run at
the next step of its long work (a training step, a timing round, a compressed variant, a static model's
batch).

A signal reaches Python's main thread only; a fold trains in a worker thread, which no exception can
reach. So the main thread, once interrupted, calls :func:`request_stop`, and each fold checks
:func:`check_stop` between steps: it stops within one step, before anything is logged, and a rerun
redoes it. Finished folds are logged and cached already: nothing is lost, nothing is written twice.

A second signal while the run cleans up (a terminal's Ctrl-C pressed twice) is noted and not raised: an
exception inside a `finally` would break the clean-up half-way and print a traceback. A third quits at
once (the clean-up is what it skips; the rerun closes what it leaves open).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

_STOP = threading.Event()
_RECEIVED: list[str] = []  # the signal names that stopped this process, in order

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FORCED_AFTER = 3  # the signal count that quits at once
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
    if len(_RECEIVED) == 1:
        request_stop()
        raise KeyboardInterrupt  # unwinds the main thread; `finally` blocks and cleanups run
    # os.write, not print: the handler may run in the middle of the main thread's own print
    if len(_RECEIVED) < FORCED_AFTER:
        _say("stopping: cleaning up (a signal again quits at once, leaving the rerun to close runs)")
        return
    _say(f"stopped: quit at once on {_RECEIVED[-1]}; finished folds are kept: rerun to resume")
    os._exit(EXIT_CODES[_RECEIVED[0]])


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
        os.write(2, f"{line}\n".encode())


class Commit:
    """The last writes of a stage that must all happen or none (:func:`committing`)."""

    def __init__(self) -> None:
        self.noted: list[str] = []
        self._saved: dict[int, object] = {}

    def begin(self) -> None:
        """From here to the end of the `committing` block a signal is noted, not raised. Only the main
        thread can set handlers: elsewhere (a served deployment's worker thread) nothing is deferred."""
        if threading.current_thread() is not threading.main_thread():
            return
        for number in SIGNALS:  # SIGTERM included: inside a flow Prefect's own handler would raise it
            self._saved[number] = signal.signal(number, self._note)

    def _note(self, signum: int, _frame) -> None:
        self.noted.append(signal.Signals(signum).name)
        _RECEIVED.append(signal.Signals(signum).name)
        request_stop()

    def end(self) -> None:
        for number, handler in self._saved.items():
            signal.signal(number, handler)
        self._saved.clear()


@contextlib.contextmanager
def committing() -> Iterator[Commit]:
    """A block whose end, once `commit.begin()` is called, a signal does not interrupt: the stop it asks
    for is raised (as KeyboardInterrupt) after the block, its writes all done. Work before `begin` stops
    as everywhere else, leaving nothing of the block written."""
    commit = Commit()
    try:
        yield commit
    finally:
        commit.end()
    if commit.noted:
        raise KeyboardInterrupt


def install_handlers() -> None:
    """SIGINT, SIGTERM and SIGHUP all stop the run the same clean way (Python's default SIGTERM or SIGHUP
    ends the process at once: MLflow parents left RUNNING)."""
    for number in SIGNALS:
        signal.signal(number, _on_signal)


def stopping_signal(error: BaseException | None = None) -> str:
    """The signal that stopped the run: the one `error` carries (Prefect's TerminationSignal), else the
    first that came, else SIGINT (a KeyboardInterrupt without a handler: Ctrl-C)."""
    carried = getattr(error, "signal", None)
    if carried in SIGNALS:
        return signal.Signals(carried).name
    return _RECEIVED[0] if _RECEIVED else "SIGINT"


def reset() -> None:
    """For tests and long-lived processes: forget an earlier stop."""
    _STOP.clear()
    _RECEIVED.clear()
