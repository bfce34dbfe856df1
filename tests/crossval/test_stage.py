"""crossval.stage: the shipped zoo runs on any dataset list; a failure while the MLflow parents are closed
leaves none RUNNING, and the rerun closes what a killed attempt with other settings left RUNNING."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest

from distilbench.config.settings import Config, read_yaml
from distilbench.crossval.mlflow_runs import CLONE
from distilbench.crossval.stage import check_model_datasets
from tests.end_to_end.conftest import (  # noqa: F401 - fixtures
    Project,
    make_project,
    prefect_for_flows,
    prefect_results,
    tiny_model,
)

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def test_a_row_limited_to_datasets_not_prepared_is_skipped_with_one_line(caplog) -> None:
    raw = read_yaml(PARAMS)  # the quickstart, with the ablation row its params.yaml comment describes
    zoo = raw["models"]["zoos"]["quickstart"]["models"]
    ablation = {"name": "minilm-l3-labels-only", "id": "all-MiniLM-L6-v2", "layers": [0, 2, 5]}
    zoo.append(ablation | {"start_from": "minilm-l6", "datasets": ["rotten_tomatoes"]})
    cfg = Config.from_params(raw, str(PARAMS))
    prepared = [SimpleNamespace(name="amazon_alexa"), SimpleNamespace(name="brexit")]
    with caplog.at_level(logging.WARNING, logger="distilbench.crossval.stage"):
        lines = check_model_datasets(cfg, prepared)
    (line,) = lines
    row = f"models.zoos.quickstart.models[{len(zoo) - 1}] ('minilm-l3-labels-only')"
    assert line.startswith(f"{row}: skipped on ")
    assert "['rotten_tomatoes'], not among the prepared datasets ['amazon_alexa', 'brexit']" in line
    assert line.endswith("it runs on none") and caplog.messages == [line]
    both = [SimpleNamespace(name="bbc"), SimpleNamespace(name="rotten_tomatoes")]
    assert check_model_datasets(cfg, both) == []


CRASH = "cannot handle a non-unique multi-index"  # the crash seen while closing parents


def crossval(project: Project) -> None:
    from flows.crossval import crossval as flow

    flow(params=project.params, prepared=project.prepared, results=project.results)


def test_a_crash_while_closing_parents_leaves_none_running_and_the_rerun_closes_a_killed_attempts(
    make_project,  # noqa: F811
    tmp_path,
):
    import os

    import distilbench.crossval.stage as stage
    from flows.prepare import prepare

    project = make_project(models=[tiny_model("teacher")], folds=2, epochs=1)
    prepare(params=project.params, out=project.prepared)
    with (
        mock.patch.object(stage, "close_parent_run", side_effect=ValueError(CRASH)),
        pytest.raises(ValueError, match=CRASH),
    ):
        crossval(project)
    assert [r.info.status for r in project.parents()] == ["FAILED"]
    assert [r.info.status for r in project.runs() if r.info.status == "RUNNING"] == []

    # a parent left RUNNING by a killed attempt with other settings (a smaller batch, say): never found
    # again by its key, it is still this clone's and this study's
    experiment = project.client.get_experiment_by_name(project.raw["experiment"]).experiment_id
    cache = os.environ["DISTILBENCH_CACHE"]
    killed = project.client.create_run(experiment, tags={CLONE: os.path.realpath(cache)}).info.run_id

    crossval(project)
    assert project.client.get_run(killed).info.status == "FAILED"
    assert [r.info.status for r in project.runs() if r.info.status == "RUNNING"] == []
    assert sorted(r.info.status for r in project.parents()) == ["FAILED", "FINISHED"]  # killed, ours
