"""Real servers for tests: an `mlflow server` process on 127.0.0.1, a free port, state under tmp."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {process.returncode} before {url} answered"
                ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.5)


@contextlib.contextmanager
def serving(
    command: list[str], env: dict[str, str], health: str, log: Path, timeout: float
) -> Iterator[None]:
    """`command` as a server process, output appended to `log`, until the block ends; its `health` URL
    answers before the block starts."""
    with log.open("a") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until_up(health, server, timeout)
            yield
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


@contextlib.contextmanager
def mlflow_server(
    backend_store_uri: str, artifacts: Path, log: Path, timeout: float = 120, port: int | None = None
) -> Iterator[str]:
    """`mlflow server` as the README runs it for several machines (one worker, no job runner, artifacts
    proxied to `artifacts`), on `port` (default: a free one); yields its tracking URI and stops it
    afterwards."""
    port = port or free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--backend-store-uri", backend_store_uri]
    command += ["--artifacts-destination", str(artifacts)]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with serving(command, env, f"http://127.0.0.1:{port}/health", log, timeout):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def prefect_server(home: Path, port: int, log: Path, timeout: float = 120) -> Iterator[str]:
    """`prefect server start` as `make ui-prefect` runs it, its state under `home`, on `port`; yields its
    API URL and stops it afterwards (started again on the same port and home, it has the same runs)."""
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    with serving(command, env, f"http://127.0.0.1:{port}/api/health", log, timeout):
        yield f"http://127.0.0.1:{port}/api"
