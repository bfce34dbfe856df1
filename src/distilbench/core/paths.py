"""Where the project keeps everything: the one home of its paths, file names and environment variables.

Stage defaults (flows, the CLI) and dvc.yaml's commands use these names; a test checks that dvc.yaml
agrees, so a path is changed here and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PARAMS_FILE = "params.yaml"
PREPARED_DIR = "data/prepared"  # prepare's output, one folder per dataset
RESULTS_FILE = "results/crossval.json"  # crossval's output: every fold's numbers
REPORTS_DIR = "reports"  # report's output: tables, plots, metrics.json
METRICS_FILE = f"{REPORTS_DIR}/metrics.json"  # ... whose rows select chooses from
CHAMPION_FILE = f"{REPORTS_DIR}/champion.json"  # select's output: each dataset's registered champion
MODELS_DIR = "models"  # ... and its refitted model folders, one per dataset (what the registry serves)

EXAMPLES_FILE = "examples.parquet"  # in each prepared dataset folder
META_FILE = "meta.json"  # ... beside it

MLFLOW_DB = "mlflow.db"
ARTIFACTS_DIR = "mlruns"
CACHE_DIR = ".cache"  # fold results, teacher logits, extracted assets, Prefect's home

PREFECT_PORT = 4200  # where `make ui` / `make serve` put the Prefect server


def prefect_api(port: int = PREFECT_PORT) -> str:
    return f"http://127.0.0.1:{port}/api"


PREFECT_SERVER = prefect_api()
MLFLOW_UI = "http://127.0.0.1:5000"  # where `make ui` puts the MLflow UI

# the environment variables through which the paths in force reach every process (Dask workers too)
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
ARTIFACTS_ENV = "DISTILBENCH_ARTIFACTS"
CACHE_ENV = "DISTILBENCH_CACHE"
EXPERIMENT_ENV = "DISTILBENCH_EXPERIMENT"  # for the MLflow UI's start page (mlflow_app)


@dataclass(frozen=True)
class ProjectPaths:
    tracking_uri: str
    artifact_root: Path  # MLflow artifacts
    cache: Path

    @classmethod
    def under(cls, root: Path) -> ProjectPaths:
        root = root.resolve()
        # absolute: MLflow's default sqlite store is relative to the working directory
        return cls(f"sqlite:///{root / MLFLOW_DB}", root / ARTIFACTS_DIR, root / CACHE_DIR)

    @classmethod
    def current(cls) -> ProjectPaths:
        """The paths in force: those the user exported win, else this checkout's (the working directory)."""
        default = cls.under(Path.cwd())
        return cls(
            os.environ.get(TRACKING_URI_ENV, default.tracking_uri),
            Path(os.environ.get(ARTIFACTS_ENV, default.artifact_root)),
            Path(os.environ.get(CACHE_ENV, default.cache)),
        )

    def as_environment(self) -> dict[str, str]:
        return {
            TRACKING_URI_ENV: self.tracking_uri,
            ARTIFACTS_ENV: str(self.artifact_root),
            CACHE_ENV: str(self.cache),
        }

    @property
    def prefect_home(self) -> Path:
        return self.cache / "prefect"

    @property
    def assets(self) -> Path:
        return self.cache / "assets"  # checkpoints rebuilt from their packages on first use
