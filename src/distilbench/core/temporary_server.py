"""The stage's temporary Prefect server, started where a terminal's Ctrl-C does not reach it.

Without PREFECT_API_URL, Prefect 3.8 starts a temporary server as a plain child of the stage, in the
terminal's foreground process group: a terminal's Ctrl-C (SIGINT to the whole group) kills it at once,
and the stage, still closing its flow run, then retried the dead API for minutes (322 s measured, an
httpx ConnectError traceback, exit 1, no `stopped:` line). So the entry point starts that server itself,
the way Prefect does (uvicorn on Prefect's app, its UI off), but detached (core.detached): only the
stage stops it, at exit, after Prefect has sent its last events (Prefect drains them at threading
shutdown, before `atexit` runs); a `kill -9` of the stage ends it through the parent-death signal.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from distilbench.core import detached
from distilbench.core.errors import ServiceError

# what Prefect's own temporary server runs with (prefect/server/api/server.py, SubprocessASGIServer)
EPHEMERAL = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
PORT_TAKEN = 3  # uvicorn's exit code when it cannot bind: another process took the port meanwhile
STOP_SECONDS = 3.0
_STARTED: list[TemporaryServer] = []  # this process's, for stop_started


@dataclass
class TemporaryServer:
    process: subprocess.Popen
    api_url: str

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_SECONDS: the stage's exit waits for it, briefly."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int) -> list[str]:
    prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent  # not imported: settings are env
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(prefect_dir.parent),
        "--factory",
        "prefect.server.api.server:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "error",
        "--lifespan",
        "on",
    ]


def answers(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=1.0):
            return True
    except OSError:
        return False


def start_temporary_server(timeout: float) -> TemporaryServer:
    """Start the server, wait until its API answers (its database is made on first start), and arrange
    for it to stop at this process's exit. A Ctrl-C while it starts stops it too."""
    env = {**os.environ, **EPHEMERAL}
    env.pop("PREFECT_API_URL", None)  # the server itself reports to no server
    deadline = time.monotonic() + timeout
    server = None
    try:
        while server is None or server.process.poll() == PORT_TAKEN:
            port = free_port()
            server = TemporaryServer(
                detached.start_detached(server_command(port), env), f"http://127.0.0.1:{port}/api"
            )
            while server.process.poll() is None and not answers(server.api_url):
                if time.monotonic() > deadline:
                    raise ServiceError(
                        f"the temporary Prefect server did not answer within {timeout:.0f} s: raise "
                        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or start one (make ui-prefect)"
                    )
                time.sleep(0.2)
        if server.process.poll() is not None:
            raise ServiceError(
                f"the temporary Prefect server exited with code {server.process.returncode} as it started "
                "(its messages are above); or start one (make ui-prefect) and rerun"
            )
    except BaseException:
        if server is not None:
            server.stop()
        raise
    atexit.register(server.stop)
    _STARTED.append(server)
    return server


def stop_started() -> None:
    """Stop every server this process started (an exit that skips `atexit` calls this first)."""
    for server in _STARTED:
        server.stop()
