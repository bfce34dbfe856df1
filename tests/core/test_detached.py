"""A detached helper (the temporary Prefect server) leaves the terminal's process group, and dies with the
process that started it, even when that one is killed with kill -9."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from distilbench.core import detached

pytestmark = pytest.mark.skipif(not detached.supported(), reason="the parent-death signal is Linux's")

SRC = Path(__file__).resolve().parents[2] / "src"
STARTER = """
import os, sys, time
from distilbench.core.detached import start_detached
helper = start_detached(["sleep", "60"], os.environ)
print(helper.pid, flush=True)
time.sleep(60)
"""


def gone(pid: int, timeout: float) -> bool:
    """Has `pid` ended (within `timeout` seconds; 0: now)? A zombie has: it waits only to be reaped."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_a_detached_helper_has_its_own_session_and_dies_with_a_killed_parent():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True, env=env)
    helper = int(parent.stdout.readline())
    try:
        # in a session of its own: a terminal's Ctrl-C, sent to the parent's group, misses it
        assert os.getsid(helper) == helper != os.getsid(parent.pid)
        parent.kill()  # kill -9: no handler, no atexit of the parent runs
        parent.wait()
        assert gone(helper, timeout=5), "the helper outlived its killed parent"
    finally:
        parent.kill()
        if not gone(helper, 0):
            os.kill(helper, 9)


def test_a_helper_whose_parent_died_before_it_started_exits_without_running_its_command():
    # pid 1 is not this helper's parent: as if the parent had died before the parent-death signal was set
    guard = [sys.executable, "-m", "distilbench.core.detached", "1", "sleep", "60"]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    assert subprocess.run(guard, env=env, timeout=30).returncode == 0
