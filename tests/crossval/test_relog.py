"""crossval.relog: a study rerun after changing only where it logs gets every fold from the fold cache and
logs each there, training none."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from tests.end_to_end.conftest import (  # noqa: F401 - fixtures
    Project,
    make_project,
    prefect_for_flows,
    prefect_results,
    tiny_model,
)

MODELS = [tiny_model("teacher"), tiny_model("student", layers=[1], distil_from="teacher")]
FOLDS = 2


def crossval_counting_trained(project: Project) -> list[str]:
    """The study's crossval; the fold labels it trained (cached folds are not)."""
    import distilbench.crossval.stage as stage
    from flows.crossval import crossval

    with mock.patch.object(stage, "compute_fold", wraps=stage.compute_fold) as compute_fold:
        crossval(params=project.params, prepared=project.prepared, results=project.results)
    return [call.args[0].label for call in compute_fold.call_args_list]


@pytest.fixture
def study(make_project) -> Project:  # noqa: F811
    from flows.prepare import prepare

    project = make_project(models=MODELS, folds=FOLDS, epochs=1)
    project.raw["crossval"] = {"max_workers": 1}
    project.save()
    prepare(params=project.params, out=project.prepared)
    return project


def test_a_renamed_experiment_holds_every_fold_from_the_cache_none_retrained(study):
    assert len(crossval_counting_trained(study)) == len(MODELS) * FOLDS
    before = {r.info.run_id for r in study.children()}

    study.raw["experiment"] = "renamed"
    study.save()
    assert crossval_counting_trained(study) == []  # every fold from the fold cache

    children = study.children()  # the renamed experiment's
    assert sorted(c.info.status for c in children) == ["FINISHED"] * len(MODELS) * FOLDS
    assert not before & {c.info.run_id for c in children}, "the new experiment's runs are its own"
    assert sorted(p.info.status for p in study.parents()) == ["FINISHED"] * len(MODELS)
    parents = {p.info.run_id for p in study.parents()}
    assert {c.data.tags[MLFLOW_PARENT_RUN_ID] for c in children} == parents
    # the results point to runs that exist, in the experiment the study logs to now
    results = json.loads(Path(study.results).read_text())
    assert {f["run_id"] for f in results["folds"]} == {c.info.run_id for c in children}
    # logged from the cached result: the same numbers, the student's savings against its teacher included
    student = next(c for c in children if c.data.tags["model"] == "student")
    assert "time_saved_pct" in student.data.metrics

    # back to the first experiment: its folds are there already, nothing is logged twice
    study.raw["experiment"] = "e2e"
    study.save()
    assert crossval_counting_trained(study) == []
    assert {c.info.run_id for c in study.children()} == before
    results = json.loads(Path(study.results).read_text())
    assert {f["run_id"] for f in results["folds"]} == before
