"""The study deployment as a dashboard user drives it: apply it, add a schedule, start a custom run, and let
a Runner execute it offline on a tiny model. The run goes through DVC: a `dvc exp run --temp` experiment in a
throwaway git + DVC clone of the project's pipeline."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments import run_deployment
from prefect.runner import Runner

from distilbench.pipeline.experiments import DVC
from flows.serve import deployments
from tests.end_to_end.conftest import Project, tiny_model

REPO = Path(__file__).resolve().parents[2]
# what the user types in the Custom run form: max_steps is not in params.yaml, the others replace its values
CUSTOM = {"epochs": 1, "folds": 2, "max_length": 16, "max_steps": 3}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(make_project, tiny_csv: Path, monkeypatch) -> Project:
    """The project's dvc.yaml and .dvc/config in a new git repo, with a tiny params.yaml; the code
    dependencies (flows/, src/distilbench/) are stand-in folders, the code itself is the installed one."""
    project = make_project(
        models=[tiny_model("teacher"), {"name": "cnn", "kind": "cnn"}],
    )
    root = project.root
    git(root, "init", "-q")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "user.name", "test")
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    for folder in ("flows", "src/distilbench"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "README").write_text("stand-in for the project's code\n")
    (root / ".gitignore").write_text("/cache\n/mlruns\nmlflow.db\n*.log\n")
    subprocess.run([*DVC, "init", "-q"], cwd=root, check=True)
    shutil.copy(REPO / ".dvc" / "config", root / ".dvc" / "config")  # analytics off
    git(root, "add", "-A")
    git(root, "commit", "-qm", "tiny project")
    monkeypatch.chdir(root)
    return project


async def apply_schedule_and_start_a_custom_run(study_deployment):
    """What `make serve` does at start (twice: a restart), what the user clicks, and what a worker runs."""
    deployment_id = await study_deployment.apply()
    async with get_client() as client:
        await client.create_deployment_schedules(deployment_id, [(CronSchedule(cron="0 3 * * 1"), True)])
        await study_deployment.apply()  # `make serve` restarted: the dashboard's schedule must survive
        schedules = await client.read_deployment_schedules(deployment_id)
        flow_run = await run_deployment("distilbench-study/study", parameters=CUSTOM, timeout=0)
        await Runner().execute_flow_run(flow_run.id)
        flow_run = await client.read_flow_run(flow_run.id)
        artifacts = await client.read_artifacts()
    return schedules, flow_run, {a.key: a for a in artifacts}


def test_a_custom_run_of_the_study_deployment_is_a_dvc_experiment_with_its_report(clone: Project):
    schedules, flow_run, artifacts = asyncio.run(apply_schedule_and_start_a_custom_run(deployments()[0]))

    assert [s.schedule.cron for s in schedules] == ["0 3 * * 1"]
    assert flow_run.state.is_completed(), flow_run.state.message
    assert {k: flow_run.parameters[k] for k in CUSTOM} == CUSTOM

    root = clone.root
    (ref,) = git(root, "for-each-ref", "--format=%(refname)", "refs/exps").split()  # one DVC experiment
    experiment = ref.rsplit("/", 1)[-1]
    shown = subprocess.run(
        [*DVC, "exp", "show", "--csv"], cwd=root, check=True, capture_output=True, text=True
    )
    assert experiment in shown.stdout  # listed by `dvc exp show`
    assert f"DVC experiment `{experiment}`" in artifacts["distilbench-study"].data
    ran_with = yaml.safe_load(git(root, "show", f"{ref}:params.yaml"))
    train = ran_with["train"]
    assert (train["epochs"], ran_with["data"]["folds"], train["max_length"], train["max_steps"]) == (
        1,
        2,
        16,
        3,
    )
    assert train["batch_size"] == clone.raw["train"]["batch_size"]  # the rest as params.yaml says
    assert "| teacher (teacher)" in git(root, "show", f"{ref}:reports/comparison.md")
    assert "| teacher (teacher)" in artifacts["distilbench-study"].data  # on the run's page too
    champion = json.loads(git(root, "show", f"{ref}:reports/champion.json"))  # select ran, and registered
    assert champion["tiny"]["registered_name"] == "distilbench-tiny"
    assert git(root, "status", "--porcelain") == ""  # the workspace (params.yaml, no dvc.lock) untouched

    folds = sorted((k.data.tags["model"], k.data.tags["fold"], k.info.status) for k in clone.children())
    assert folds == [(m, str(f), "FINISHED") for m in ("cnn", "teacher") for f in (1, 2)]
