"""A study run's overrides: validated like params.yaml, and written in the grammar `dvc exp run -S` parses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dvc.utils.hydra import apply_overrides

from distilbench.config.settings import read_yaml
from distilbench.core.errors import ConfigError
from distilbench.pipeline.experiments import StudyRequest, checked_config, dvc_command

REPO = Path(__file__).resolve().parents[2]
RT = {"name": "rt", "source": "packaged", "id": "rotten_tomatoes", "max_examples": 2000, "encoding": "it's"}


def set_params(command: list[str]) -> list[str]:
    return [value for flag, value in zip(command, command[1:], strict=False) if flag == "-S"]


def test_dvc_applies_the_overrides_as_given_including_keys_params_yaml_lacks(tmp_path):
    request = StudyRequest(
        zoo="offline-base", datasets=(RT,), folds=3, repeats=2, train={"max_steps": 3, "learning_rate": 2e-5}
    )
    params = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", params)
    apply_overrides(params, set_params(dvc_command(request.overrides())))  # what `dvc exp run -S` does
    ran_with = read_yaml(params)  # as every stage reads it
    assert ran_with["models"]["zoo"] == "offline-base"
    assert ran_with["data"]["datasets"] == [RT]  # a list of mappings, a quote inside a string
    assert (ran_with["data"]["folds"], ran_with["data"]["repeats"]) == (3, 2)
    assert (ran_with["train"]["max_steps"], ran_with["train"]["learning_rate"]) == (3, 2e-5)
    assert (
        ran_with["train"]["batch_size"]
        == yaml.safe_load((REPO / "params.yaml").read_text())["train"]["batch_size"]
    )


def test_an_empty_form_changes_nothing():
    assert StudyRequest().overrides() == {}


def test_a_bad_value_fails_before_dvc_starts_naming_the_key(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    with pytest.raises(ConfigError, match=r"train.epochs: 0 must be >= 1"):
        checked_config(tmp_path, StudyRequest(train={"epochs": 0}).overrides())
    with pytest.raises(ConfigError, match=r"models.zoo: 'nope'"):
        checked_config(tmp_path, StudyRequest(zoo="nope").overrides())
    with pytest.raises(ConfigError, match=r"train: \['warmup_ratio'\] cannot be set per run"):
        StudyRequest(train={"warmup_ratio": 0.2}).overrides()
