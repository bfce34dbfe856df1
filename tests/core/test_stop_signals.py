"""The stop flag and its signal handlers: SIGHUP like SIGTERM, a second signal noted while cleaning up,
and a commit block a signal does not cut in half."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from distilbench.core import stop
from tests.core.test_detached import SRC


@pytest.fixture
def handlers():
    """The project's handlers installed for the test, the previous ones (pytest's) restored after."""
    saved = {number: signal.getsignal(number) for number in stop.SIGNALS}
    stop.reset()
    stop.install_handlers()
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)
    stop.reset()


def test_sighup_stops_the_run_as_sigterm_does(handlers):
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGHUP)
    assert stop.stop_requested() and stop.stopping_signal() == "SIGHUP"
    assert stop.EXIT_CODES["SIGHUP"] == 129


def test_a_second_signal_during_the_clean_up_is_noted_not_raised(handlers, capfd):
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C inside a `finally`: raises nothing
    assert stop.stopping_signal() == "SIGINT"
    assert "stopping: cleaning up" in capfd.readouterr().err


def test_a_third_signal_quits_at_once_with_the_first_signals_code():
    script = (
        "import os, signal, time\n"
        "from distilbench.core import stop\n"
        "stop.install_handlers()\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "except KeyboardInterrupt:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(30)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 143, done.stderr
    assert "stopped: quit at once on SIGINT" in done.stderr.decode()


def test_a_signal_inside_a_commit_lets_it_finish_then_stops(handlers):
    written = []
    with pytest.raises(KeyboardInterrupt), stop.committing() as commit:
        commit.begin()
        os.kill(os.getpid(), signal.SIGINT)
        written.append("after the signal")  # not cut off: the signal is noted
    assert written == ["after the signal"] and stop.stop_requested()
    assert signal.getsignal(signal.SIGINT) is stop._on_signal  # the usual handler is back


def test_a_signal_before_the_commit_begins_stops_the_block_at_once(handlers):
    written = []
    with pytest.raises(KeyboardInterrupt), stop.committing():
        os.kill(os.getpid(), signal.SIGINT)
        written.append("after the signal")
    assert written == []
