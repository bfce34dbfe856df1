"""The stage's temporary Prefect server: up before the flow, in a session of its own (out of reach of a
terminal's Ctrl-C), stopped at the stage's exit, and never outliving a kill -9 of the stage. A stand-in
server (Python's http.server, serving an `api/health` file) takes uvicorn's place: the real one is started
by the terminal Ctrl-C test in tests/faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from distilbench.core import detached
from tests.core.test_detached import SRC, gone

pytestmark = pytest.mark.skipif(not detached.supported(), reason="the parent-death signal is Linux's")

STAGE = """
import sys, time
import distilbench.core.temporary_server as temporary

temporary.server_command = lambda port: [
    sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", sys.argv[1], str(port)
]
server = temporary.start_temporary_server(timeout=30)
print("SERVER", server.process.pid, server.api_url, flush=True)
sys.stdin.readline() if sys.argv[2] == "exit" else time.sleep(60)  # "exit": when the test says
"""


def stage(tmp_path: Path, then: str) -> tuple[subprocess.Popen, int, str]:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "health").write_text("true")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        [sys.executable, "-c", STAGE, str(tmp_path), then],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = next(line for line in process.stdout if line.startswith("SERVER "))  # after http.server's own
    _, pid, url = line.split()
    return process, int(pid), url


def test_the_server_answers_apart_from_the_stage_group_and_stops_at_its_exit(tmp_path):
    process, server, url = stage(tmp_path, "exit")
    try:
        assert os.getpgid(server) != os.getpgid(process.pid)
        process.stdin.close()  # the stage ends normally: its exit stops the server
        assert process.wait(timeout=30) == 0
        assert gone(server, timeout=10), "the server outlived the stage's exit"
    finally:
        if not gone(server, 0):
            os.kill(server, signal.SIGKILL)


def test_the_server_does_not_outlive_a_kill_9_of_its_stage(tmp_path):
    process, server, url = stage(tmp_path, "wait")
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            assert response.status == 200
        process.kill()
        process.wait()
        assert gone(server, timeout=5), "the server outlived its stage's kill -9"
    finally:
        process.kill()
        if not gone(server, 0):
            os.kill(server, signal.SIGKILL)
