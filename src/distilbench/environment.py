"""Where the project keeps its state, and the environment every entry point runs in.

Called by entry points (flows, tests' conftest) before prefect, mlflow or transformers are imported:
several of these variables are read at import time.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFECT_SERVER = "http://127.0.0.1:4200/api"


@dataclass(frozen=True)
class ProjectPaths:
    tracking_uri: str
    artifact_root: Path  # MLflow artifacts
    cache: Path  # fold results, teacher logits, extracted assets, Prefect's home

    @classmethod
    def under(cls, root: Path) -> ProjectPaths:
        root = root.resolve()
        # absolute: MLflow's default sqlite store is relative to the working directory
        return cls(f"sqlite:///{root / 'mlflow.db'}", root / "mlruns", root / ".cache")

    @classmethod
    def current(cls) -> ProjectPaths:
        """The paths in force: set by configure_environment, or by the user / a test beforehand."""
        return cls(
            os.environ["MLFLOW_TRACKING_URI"],
            Path(os.environ["DISTILBENCH_ARTIFACTS"]),
            Path(os.environ["DISTILBENCH_CACHE"]),
        )


def uses_hub(params: Mapping[str, Any]) -> bool:
    """Does the selected zoo or any dataset read from the Hugging Face hub?"""
    models = params.get("models") or {}
    zoo = (models.get("zoos") or {}).get(models.get("zoo")) or {}
    sources = [m.get("source") for m in zoo.get("models") or [] if isinstance(m, Mapping)]
    sources += [
        d.get("source") for d in (params.get("data") or {}).get("datasets") or [] if isinstance(d, Mapping)
    ]
    return "hub" in sources


def prefect_server_running(url: str = PREFECT_SERVER) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=0.5) as response:
            return response.status == 200
    except OSError:
        return False


def configure_environment(root: Path, params: Mapping[str, Any] | None = None) -> ProjectPaths:
    """Set defaults only: anything the user exported wins."""
    paths = ProjectPaths.under(root)
    defaults = {
        "MLFLOW_TRACKING_URI": paths.tracking_uri,
        "DISTILBENCH_ARTIFACTS": str(paths.artifact_root),
        "DISTILBENCH_CACHE": str(paths.cache),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "PREFECT_HOME": os.environ.get("DISTILBENCH_CACHE", str(paths.cache)) + "/prefect",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # without a standing server each process starts a temporary one; 9-15 s were measured here
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
        "TOKENIZERS_PARALLELISM": "false",
        "PREFECT_LOGGING_EXTRA_LOGGERS": "distilbench",  # library progress shows in the dashboard's logs
    }
    if params is not None and not uses_hub(params):
        defaults["HF_HUB_OFFLINE"] = "1"  # else a hub lookup retries for ~23 s before failing offline
    if "PREFECT_API_URL" not in os.environ and prefect_server_running():
        defaults["PREFECT_API_URL"] = PREFECT_SERVER  # `make ui` is up: show these runs in its dashboard
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # Prefect creates its home without parents and then fails to open its database in it
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return ProjectPaths.current()


def read_params_leniently(path: Path) -> Mapping[str, Any] | None:
    """params.yaml as a raw mapping, or None when absent or unreadable: validation happens later, loudly."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, Mapping) else None
