"""core.clone_lock: one run per clone; the second is refused naming the first; the lock goes with its
holder, even one killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from distilbench.core import clone_lock
from distilbench.core.clone_lock import HOLDER_FILE, TOKEN_ENV, describe, holder, one_run_per_clone
from distilbench.core.errors import BusyError

REPO = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from pathlib import Path
from distilbench.core.clone_lock import one_run_per_clone
with one_run_per_clone(Path(sys.argv[1]), "distilbench crossval"):
    print("holding", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def held(tmp_path):
    """Another process holding the clone's lock under tmp_path/cache."""
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(cache)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"},
    )
    assert process.stdout.readline().strip() == "holding"
    yield cache, process
    process.kill()
    process.wait()


def test_a_second_run_is_refused_naming_the_first(held, monkeypatch):
    cache, process = held
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(BusyError) as caught, one_run_per_clone(cache, "distilbench report"):
        pass
    line = str(caught.value)
    assert f"`distilbench crossval` (pid {process.pid}, started " in line
    assert f"lock {cache / clone_lock.LOCK_FILE}" in line and "\n" not in line


def test_a_killed_holder_frees_the_lock(held, monkeypatch):
    cache, process = held
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with one_run_per_clone(cache, "distilbench crossval"):  # its holder file is stale: taken over
        assert holder(cache)["pid"] == os.getpid()


def test_the_holders_own_children_run_under_its_lock(tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    cache = tmp_path / "cache"
    with one_run_per_clone(cache, "distilbench study"):
        token = os.environ[TOKEN_ENV]
        assert holder(cache)["token"] == token
        with one_run_per_clone(cache, "distilbench crossval"):  # e.g. dvc repro's stage command
            assert holder(cache)["command"] == "distilbench study"
    assert TOKEN_ENV not in os.environ
    assert not (cache / HOLDER_FILE).exists()
    with one_run_per_clone(cache):  # released
        pass


def test_an_unreadable_holder_file_still_refuses_in_one_line(held, monkeypatch):
    cache, _ = held
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    (cache / HOLDER_FILE).write_text("{not json")
    assert holder(cache) == {}
    refused = pytest.raises(BusyError, match="^another distilbench run is running in this clone")
    with refused, one_run_per_clone(cache):
        pass


def test_describe_names_command_pid_and_start():
    text = describe(json.loads('{"command": "dvc repro", "pid": 7, "started": "T"}'))
    assert text == "`dvc repro` (pid 7, started T)"
