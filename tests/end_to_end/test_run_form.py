"""The dashboard's run form explains itself: every parameter of a served deployment has a description
(from its flow's docstring), and `zoo` is a choice among the zoos params.yaml defines."""

from __future__ import annotations

from pathlib import Path

import pytest

from distilbench.config.settings import read_yaml
from flows.serve import deployments

REPO = Path(__file__).resolve().parents[2]


def form(name: str) -> dict:
    """The parameter schema the dashboard builds a deployment's run form from."""
    (deployment,) = [d for d in deployments() if d.name == name]
    return deployment._parameter_openapi_schema.model_dump()["properties"]  # what apply() sends


def choices(parameter: dict) -> list | None:
    for option in parameter.get("anyOf", [parameter]):  # Optional[...] is anyOf [the choice, null]
        if "enum" in option:
            return option["enum"]
    return None


@pytest.mark.parametrize("name", [d.name for d in deployments()])
def test_every_parameter_of_every_served_deployment_has_a_description(name: str):
    parameters = form(name)
    assert parameters  # both deployments take parameters
    assert [p for p, spec in parameters.items() if not spec.get("description")] == []


def test_the_study_forms_zoo_is_a_choice_among_the_zoos_of_params_yaml():
    zoos = list(read_yaml(REPO / "params.yaml")["models"]["zoos"])
    assert {"quickstart", "offline-base", "paper"} <= set(zoos)
    assert choices(form("study")["zoo"]) == zoos


def test_the_repro_forms_stage_is_a_choice_among_dvc_yamls_stages():
    assert choices(form("repro")["stage"]) == list(read_yaml(REPO / "dvc.yaml")["stages"])
