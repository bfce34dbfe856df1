"""Prefect flows, one per DVC stage: thin wrappers over `distilbench` functions.

This is the entry-point package: importing it sets this checkout's environment defaults (tracking URI,
Prefect home, telemetry off, hub offline when params.yaml needs no hub) before prefect, mlflow and
transformers are imported, because they read several of these variables at import time.
"""

from pathlib import Path

from distilbench.settings import configure_environment, read_params_leniently

configure_environment(Path.cwd(), read_params_leniently(Path.cwd() / "params.yaml"))
