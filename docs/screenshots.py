"""Retake the README's UI screenshots (docs/img/) with headless Chromium after `make run`.

Starts the MLflow UI (with the distilbench app) and the Prefect dashboard on spare ports over this
clone's stores, shoots what a user opens, and stops them again:

    .venv/bin/python docs/screenshots.py [--out docs/img]

Needs `chromium` (Debian: apt-get install chromium). The Prefect pictures need the report flow to have
run against this clone's Prefect home (`make run` does).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from mlflow.tracking import MlflowClient

from distilbench.config.environment import configure_environment, start_prefect_server
from distilbench.config.settings import load_config
from distilbench.core import paths
from distilbench.core.paths import ProjectPaths

WINDOW = "1500,950"
REPORT_ARTIFACT = "distilbench-comparison"  # flows/report.py's markdown artifact
CROSSVAL_FLOW = "distilbench-crossval"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=5)
            return
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {seconds:.0f} s")


@contextlib.contextmanager
def server(command: list[str], health: str, env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(health)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def shoot(url: str, out: Path, height: int = 950) -> None:
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WINDOW.split(',')[0]},{height}",
            "--virtual-time-budget=25000",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"{out}  <-  {url}")


def mlflow_pictures(out: Path, project: ProjectPaths, experiment_name: str) -> None:
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    client = MlflowClient(project.tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    fold = next(r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id)
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=1",
        "--app-name=distilbench",
        f"--backend-store-uri={project.tracking_uri}",
        f"--default-artifact-root={project.artifact_root}",
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    run_page = f"{ui}/#/experiments/{experiment.experiment_id}/runs"
    with server(command, f"{ui}/health", env):
        shoot(ui + "/", out / "mlflow-runs.png")  # a bare start page: the plugin opens the study
        shoot(f"{run_page}/{parent.info.run_id}", out / "mlflow-parent.png", height=1300)
        shoot(
            f"{run_page}/{fold.info.run_id}/artifactPath/confusion_matrix.png",
            out / "mlflow-confusion.png",
        )


def prefect_pictures(out: Path, project: ProjectPaths) -> None:
    api = paths.prefect_api(free_port())  # a spare port: `make ui` may hold 4200
    server = start_prefect_server(project, api)  # this clone's Prefect home, as `make ui-prefect` runs it
    ui = api.removesuffix("/api")
    try:
        artifacts = {"artifacts": {"key": {"any_": [REPORT_ARTIFACT]}}, "sort": "CREATED_DESC"}
        artifact = newest(f"{api}/artifacts/filter", artifacts)
        shoot(f"{ui}/artifacts/artifact/{artifact['id']}", out / "prefect-artifact.png", height=1100)
        flow_runs = {"flows": {"name": {"any_": [CROSSVAL_FLOW]}}, "sort": "START_TIME_DESC"}
        crossval = newest(f"{api}/flow_runs/filter", flow_runs)
        shoot(f"{ui}/runs/flow-run/{crossval['id']}", out / "prefect-crossval.png", height=1100)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def newest(endpoint: str, query: dict) -> dict:
    """The first object a Prefect API filter endpoint returns for `query` (which says the order)."""
    request = urllib.request.Request(
        endpoint,
        data=json.dumps({**query, "limit": 1}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        found = json.load(answer)
    if not found:
        raise SystemExit(f"nothing at {endpoint} matches {query}: run `make run` first")
    return found[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # the stores in force, set as every entry point sets them (`make ui` gets them the same way)
    cfg = load_config(Path(paths.PARAMS_FILE))
    project = configure_environment(Path.cwd(), cfg)
    mlflow_pictures(args.out, project, cfg.experiment)
    prefect_pictures(args.out, project)


if __name__ == "__main__":
    main()
