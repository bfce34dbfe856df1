"""`distilbench serve` starts a Prefect server only where none is up, and never adopts another clone's."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from distilbench.config.environment import start_prefect_server
from distilbench.core.errors import ConfigError
from distilbench.core.paths import ProjectPaths


def fake_server(home: Path):
    """Answers /api/admin/settings as a Prefect server whose PREFECT_HOME is `home`."""

    class Settings(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = json.dumps({"home": str(home)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Settings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def clone(tmp_path: Path) -> ProjectPaths:
    return ProjectPaths.under(tmp_path / "clone")


def test_this_clones_running_server_is_used_as_it_is(clone):
    server = fake_server(clone.prefect_home)
    try:
        assert start_prefect_server(clone, f"http://127.0.0.1:{server.server_port}/api") is None
    finally:
        server.shutdown()


def test_another_clones_server_on_the_port_is_an_error_naming_it(clone, tmp_path):
    other = tmp_path / "other" / ".cache" / "prefect"
    server = fake_server(other)
    try:
        with pytest.raises(ConfigError, match=f"another clone \\({other}\\).*--port"):
            start_prefect_server(clone, f"http://127.0.0.1:{server.server_port}/api")
    finally:
        server.shutdown()
