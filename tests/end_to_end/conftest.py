"""A throwaway project per test: params.yaml, its own MLflow store, fold cache and Prefect result
storage, under tmp_path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from tests.data.conftest import csv_text


@pytest.fixture(scope="session", autouse=True)
def prefect_for_flows(prefect_server):
    """Every test here runs flows: the session's Prefect server (tests/conftest.py) is started for them."""
    yield


RESULTS_ENV = "PREFECT_RESULTS_LOCAL_STORAGE_PATH"


@pytest.fixture(autouse=True)
def prefect_results(tmp_path_factory, monkeypatch) -> Path:
    """Each test its own Prefect result storage, where the fold tasks persist their cached results: one
    test's cached fold can never satisfy another test's fold task with the same cache key (same data,
    model and settings), whatever order the tests run in. The session keeps one Prefect server."""
    from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings

    path = tmp_path_factory.mktemp("prefect-results")  # beside tmp_path: a test's project stays as made
    monkeypatch.setenv(RESULTS_ENV, str(path))  # for the flows a test runs in a subprocess
    with temporary_settings({PREFECT_RESULTS_LOCAL_STORAGE_PATH: path}):  # for those run in this one
        yield path


@dataclass
class Project:
    root: Path
    raw: dict
    client: MlflowClient
    params: str = field(init=False)
    prepared: str = field(init=False)
    results: str = field(init=False)
    reports: Path = field(init=False)

    def __post_init__(self):
        self.params = str(self.root / "params.yaml")
        self.prepared = str(self.root / "prepared")
        self.results = str(self.root / "results" / "crossval.json")
        self.reports = self.root / "reports"
        self.save()

    def save(self) -> None:
        Path(self.params).write_text(yaml.safe_dump(self.raw))

    def run(self, with_report: bool = False) -> list:
        from flows.crossval import crossval
        from flows.prepare import prepare
        from flows.report import report

        prepare(params=self.params, out=self.prepared)
        results = crossval(params=self.params, prepared=self.prepared, results=self.results)
        if with_report:
            report(params=self.params, results=self.results, out=str(self.reports))
        return results

    def runs(self) -> list:
        experiment = self.client.get_experiment_by_name(self.raw["experiment"])
        return self.client.search_runs([experiment.experiment_id], max_results=1000) if experiment else []

    def children(self) -> list:
        return [r for r in self.runs() if MLFLOW_PARENT_RUN_ID in r.data.tags]

    def parents(self) -> list:
        return [r for r in self.runs() if MLFLOW_PARENT_RUN_ID not in r.data.tags]


TINY = "TINY"  # a zoo entry's id that make_project swaps for the tiny local model's folder


def tiny_model(name: str, **spec) -> dict:
    """A zoo entry for the tiny local BERT, with spec keys (layers, distil_from, compress, ...)."""
    return {"name": name, "source": "local", "id": TINY, **spec}


def file_dataset(path: Path, name: str = "tiny") -> dict:
    """A data.datasets entry read from a file."""
    return {"name": name, "source": "file", "path": str(path)}


@pytest.fixture
def make_project(tmp_path: Path, monkeypatch, tiny_model_dir: Path, tiny_csv: Path):
    """Build a Project from datasets and models; tiny fast training settings unless overridden."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("DISTILBENCH_ARTIFACTS", str(tmp_path / "mlruns"))
    monkeypatch.setenv("DISTILBENCH_CACHE", str(tmp_path / "cache"))

    def build(models: list[dict], datasets: list[dict] | None = None, folds: int = 3, **train) -> Project:
        datasets = datasets or [file_dataset(tiny_csv)]  # the tiny 3-class CSV unless a test brings its own
        models = [m | {"id": str(tiny_model_dir)} if m.get("id") == TINY else m for m in models]
        raw = {
            # the same seed in every test: the fold cache is the test's own (prefect_results)
            "seed": 42,
            "experiment": "e2e",
            "data": {"folds": folds, "datasets": datasets},
            "models": {"zoo": "tiny", "zoos": {"tiny": {"teacher": models[0]["name"], "models": models}}},
            "train": {
                "epochs": 2,
                "batch_size": 8,
                "max_length": 32,
                "learning_rate": 1e-2,
                "inner_val_fraction": 0.2,
                # tiny and quick: no step floor, no early stop, one learning rate (the shipped ones are
                # for real datasets)
                "min_steps": None,
                "patience": None,
                "head_learning_rate": None,
                **train,
            },
            "distill": {"temperature": 2.0, "alpha": 0.5},
            "select": {"model": None, "max_accuracy_drop": 1.0},  # dvc.yaml's select stage reads it
        }
        return Project(tmp_path, raw, MlflowClient(uri))

    return build


@pytest.fixture
def project(tmp_path: Path, tiny_model_dir: Path) -> Path:
    """For the CLI tests: a folder with a good dataset and a params.yaml; each test breaks one thing."""
    (tmp_path / "data.csv").write_text(csv_text())
    params = {
        "data": {"folds": 2, "datasets": [{"name": "tiny", "source": "file", "path": "data.csv"}]},
        "models": {
            "zoo": "z",
            "zoos": {
                "z": {"teacher": "t", "models": [{"name": "t", "source": "local", "id": str(tiny_model_dir)}]}
            },
        },
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path
