"""tracking.outage: which MLflow answers are an outage to wait out, which a failure to say at once, and
that a stop request ends the wait. The errors are MLflow's own, from its REST client talking to a stub
HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mlflow.tracking import MlflowClient

from distilbench.core import stop
from distilbench.core.errors import StorageError
from distilbench.tracking import outage
from distilbench.tracking.outage import is_away, patiently

# what an MLflow server says when its artifact folder is not writable
SERVER_SAYS = {"error_code": "INTERNAL_ERROR", "message": "PermissionError: /srv/mlruns is not writable"}


@pytest.fixture(autouse=True)
def quick_mlflow_retries(monkeypatch):
    """MLflow's REST client retries 408/429/500/502/503/504 itself, with back-off: 1 retry, no pause."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    monkeypatch.setattr(outage, "FIRST_WAIT", 0.05)  # the outage's own pauses, short
    yield
    stop.reset()


@pytest.fixture
def answering() -> Iterator[callable]:
    """`answering(status)`: the URI of a stub server answering every request with `status` and a JSON body
    as MLflow's server does; it counts the requests it got."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int) -> tuple[str, list]:
        requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                requests.append(self.path)
                body = json.dumps(SERVER_SAYS).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args) -> None:  # no access log on the test's stderr
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def mlflow_error(uri: str) -> Exception:
    with pytest.raises(Exception) as caught:
        MlflowClient(uri).get_experiment_by_name("study")
    return caught.value


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_a_server_away_or_rate_limiting_is_an_outage(answering, status):
    uri, _ = answering(status)
    assert is_away(mlflow_error(uri))


def test_a_refused_connection_is_an_outage():
    assert is_away(mlflow_error(f"http://127.0.0.1:{closed_port()}"))


def test_a_server_failing_on_its_own_side_is_no_outage(answering):
    uri, _ = answering(500)
    assert not is_away(mlflow_error(uri))


def test_a_persistent_500_is_one_line_naming_the_servers_answer_at_once(answering, caplog):
    uri, requests = answering(500)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        patiently(lambda: MlflowClient(uri).get_experiment_by_name("study"), uri, 600, "fold 1")
    seconds = time.monotonic() - started

    line = str(caught.value)
    assert "\n" not in line
    assert f"MLflow server {uri} answered HTTP 500 Internal Server Error" in line
    assert "/api/2.0/mlflow/experiments/get-by-name" in line and "not an outage" in line
    assert "does not answer" not in line  # not the outage's hint
    assert "retrying" not in caplog.text  # no wait: MLflow's own 2 attempts, then the line
    assert len(requests) == 2
    assert seconds < 5, seconds
    print(f"\nMEASURED a persistent HTTP 500 to its one line: {seconds:.2f} s")


def test_an_answer_503_is_waited_out_then_said_as_the_store_not_answering(answering, caplog):
    uri, requests = answering(503)
    with pytest.raises(StorageError) as caught:
        patiently(lambda: MlflowClient(uri).get_experiment_by_name("study"), uri, 0.3, "fold 1")
    assert "does not answer" in str(caught.value)
    assert "is away" in caplog.text and "retrying" in caplog.text
    assert len(requests) >= 4  # more than MLflow's own two attempts: the outage wait retried


def test_a_store_that_comes_back_during_the_wait_takes_the_call(caplog):
    answers = iter([ConnectionRefusedError("refused"), ConnectionRefusedError("refused")])

    def call() -> str:
        error = next(answers, None)
        if error:
            raise error
        return "logged"

    assert patiently(call, "http://store", 60, "fold 1") == "logged"
    assert caplog.text.count("retrying in") == 2


def test_a_refusal_is_not_retried():
    calls = []

    def refused() -> None:
        calls.append(1)
        raise ValueError("RESOURCE_ALREADY_EXISTS: experiment 'study' exists")

    with pytest.raises(ValueError):
        patiently(refused, "http://store", 60, "fold 1")
    assert calls == [1]


def test_a_stop_request_ends_the_wait_for_the_store_within_a_second():
    def away() -> None:
        raise ConnectionRefusedError("refused")

    stopper = threading.Timer(0.5, stop.request_stop)  # Ctrl-C, as the main thread passes it on
    stopper.start()
    started = time.monotonic()
    with pytest.raises(stop.StopRequested):
        patiently(away, "http://store", 600, "fold 1")
    waited = time.monotonic() - started
    assert 0.5 <= waited < 1.5, waited
    print(f"\nMEASURED the store wait ended after a stop request at 0.5 s: {waited:.2f} s")
