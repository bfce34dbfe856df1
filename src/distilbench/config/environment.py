"""The environment every entry point runs in, derived from the loaded config.

Called by entry points (the CLI, tests' conftest) before prefect, mlflow or transformers are imported:
several of these variables are read at import time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from distilbench.config.settings import Config
from distilbench.core.errors import ConfigError, PrefectServerLost, ServiceError, is_transient
from distilbench.core.paths import PREFECT_SERVER, TRACKING_URI_ENV, ProjectPaths

QUIET_AND_OFFLINE = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # without a standing server each process starts a temporary one; 9-15 s were measured here
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    "TOKENIZERS_PARALLELISM": "false",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "distilbench",  # library progress shows in the dashboard's logs
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",  # library logs outside a flow stay local
    # a tracking server that does not answer fails a call in ~7 s instead of MLflow's silent ~4 min: the
    # fold's own bounded wait (tracking.outage_wait_seconds, tracking.outage) retries it and says so
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}


def uses_hub(cfg: Config | None) -> bool:
    """Does the selected zoo or any dataset read from the Hugging Face hub?"""
    if cfg is None:
        return False
    sources = [m.source for m in cfg.models.models] if cfg.models else []
    sources += [d.source for d in cfg.data.datasets] if cfg.data else []
    return "hub" in sources


def prefect_server_home(url: str = PREFECT_SERVER) -> str | None:
    """The PREFECT_HOME of the server answering at `url` (its settings say), or None if none answers."""
    try:
        with urllib.request.urlopen(f"{url}/admin/settings", timeout=1.0) as response:
            return json.load(response).get("home")
    except (OSError, ValueError):
        return None


def check_prefect_server() -> None:
    """An exported PREFECT_API_URL must answer: else Prefect fails the flow with a connection traceback
    (a `make ui` since stopped, with its URL still exported, is the usual cause)."""
    url = os.environ.get("PREFECT_API_URL")
    if url is None:
        return
    problem = prefect_server_problem(url)
    if problem:
        raise ConfigError(
            f"PREFECT_API_URL={url}: no Prefect server answers there ({problem}); "
            "start it (make ui-prefect) or unset PREFECT_API_URL to use a temporary one"
        )


def lost_prefect_server(error: BaseException) -> PrefectServerLost | None:
    """A flow that failed because the Prefect server it reports to stopped answering (its client retries
    for about a minute per call) as one line; None if that is not what happened."""
    url = os.environ.get("PREFECT_API_URL")
    if url is None or not is_transient(error) or prefect_server_problem(url) is None:
        return None
    return PrefectServerLost(
        f"the Prefect server at {url} stopped answering ({error}); the run stopped and its finished folds "
        "are kept: start the server again (make ui-prefect) and rerun, or unset PREFECT_API_URL"
    )


def lost_dask_scheduler(address: str, error: BaseException) -> ServiceError:
    """The fold futures Dask cancelled when the scheduler at `address` went away, as one line."""
    return ServiceError(
        f"the Dask scheduler at {address} stopped answering ({str(error).splitlines()[0]}); the run "
        "stopped and its finished folds are kept: start the scheduler and its workers again and rerun to "
        "redo only the unfinished folds"
    )


def prefect_server_problem(url: str) -> str | None:
    """Why the Prefect server at `url` does not answer its health check; None when it does."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=5.0):
            return None
    except (OSError, ValueError) as error:
        return str(getattr(error, "reason", error))


def is_project_server(home: str | None, paths: ProjectPaths) -> bool:
    """Only this clone's own server (`make ui`/`make serve` run it on this clone's .cache/prefect) is
    adopted: a server another clone left on the same port would mix its dashboard with these runs."""
    return home is not None and Path(home).resolve() == paths.prefect_home.resolve()


def configure_environment(root: Path, cfg: Config | None = None) -> ProjectPaths:
    """Set defaults only: anything the user exported wins. Returns the paths in force."""
    for key, value in ProjectPaths.under(root).as_environment().items():
        os.environ.setdefault(key, value)
    if cfg is not None and cfg.tracking.uri:  # params.yaml names the MLflow store: it wins over the default
        os.environ[TRACKING_URI_ENV] = cfg.tracking.uri
    paths = ProjectPaths.current()
    defaults = {**QUIET_AND_OFFLINE, "PREFECT_HOME": str(paths.prefect_home)}
    if not uses_hub(cfg):
        defaults["HF_HUB_OFFLINE"] = "1"  # else a hub lookup retries for ~23 s before failing offline
    if "PREFECT_API_URL" not in os.environ and is_project_server(prefect_server_home(), paths):
        defaults["PREFECT_API_URL"] = PREFECT_SERVER  # `make ui` is up: show these runs in its dashboard
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # progress lines (epochs, folds) reach the terminal and, as an extra Prefect logger, the dashboard's
    # run logs, whatever the entry point: CLI, test, or a deployment's worker
    logging.getLogger("distilbench").setLevel(logging.INFO)
    # Prefect creates its home without parents and then fails to open its database in it
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return paths


def start_prefect_server(paths: ProjectPaths, url: str, timeout: float = 90.0) -> subprocess.Popen | None:
    """This clone's Prefect server at `url`: None if it is already up, else a server started now (the
    caller stops it). A server of another clone on that port is never adopted: that is an error."""
    home = prefect_server_home(url)
    if is_project_server(home, paths):
        return None
    if home is not None:
        raise ConfigError(
            f"{url}: a Prefect server of another clone ({home}) answers there; "
            "stop it, or serve on another port (distilbench serve --port N)"
        )
    address = urlparse(url)
    # the dashboard calls the API at PREFECT_UI_API_URL, which defaults to port 4200 whatever --port says
    env = {
        **os.environ,
        **QUIET_AND_OFFLINE,
        "PREFECT_HOME": str(paths.prefect_home),
        "PREFECT_UI_API_URL": url,
    }
    env.pop("PREFECT_API_URL", None)  # the server itself must not try to report to a server
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", address.hostname]
    server = subprocess.Popen([*command, "--port", str(address.port)], env=env)
    deadline = time.monotonic() + timeout
    while prefect_server_home(url) is None:  # answers once its API and database are up
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the Prefect server did not start on {url} within {timeout:.0f} s")
        time.sleep(0.5)
    return server
