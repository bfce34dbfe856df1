"""The select stage writes all datasets' champions or none: a stop or an error while refitting any of them
leaves every `models/<dataset>` folder, every `champion` alias and champion.json as they were."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

import distilbench.deploy.champion as champion_module
from distilbench.deploy.champion import CHAMPION_TAG, Champion, move_aliases, select_champions
from distilbench.deploy.registry import ALIAS

DATASETS = ("alpha", "beta")
OLD_CHAMPIONS = '{"the previous champions": true}'


def champion(dataset: str, version: str = "2", run_id: str = "run") -> Champion:
    return Champion(
        dataset, "row", "model", "fp32", "reason", f"distilbench-{dataset}", version,
        f"models:/distilbench-{dataset}@{ALIAS}", run_id, 1.0, 10, 1.0, 0.9, 0.9,
    )  # fmt: skip


@pytest.fixture
def stage(tmp_path: Path, monkeypatch) -> SimpleNamespace:
    """select_champions over two datasets with the previous select's outputs in place; the refit (one
    per dataset, in order) and the alias moves are stand-ins that record what they did."""
    models, out = tmp_path / "models", tmp_path / "reports" / "champion.json"
    for dataset in DATASETS:
        (models / dataset).mkdir(parents=True)
        (models / dataset / "weights").write_text("old")
    out.parent.mkdir()
    out.write_text(OLD_CHAMPIONS)
    state = SimpleNamespace(models=models, out=out, fail_at=None, moved=[])
    choices = [SimpleNamespace(dataset=d) for d in DATASETS]
    monkeypatch.setattr(champion_module, "read_metrics", lambda _path: {})
    monkeypatch.setattr(champion_module, "choose_all", lambda _cfg, _metrics: choices)
    monkeypatch.setattr(champion_module, "mlflow_experiment", lambda _cfg, _project: ("sqlite://", "0"))

    def refit_and_register(_cfg, choice, _prepared, folder, _uri, _experiment, _kept=None):
        if choice.dataset == state.fail_at:
            raise state.error
        (folder / "weights").write_text("new")
        return champion(choice.dataset)

    monkeypatch.setattr(champion_module, "refit_and_register", refit_and_register)
    monkeypatch.setattr(
        champion_module, "move_aliases", lambda _uri, champions: state.moved.extend(champions)
    )
    cfg = SimpleNamespace(select=SimpleNamespace(refit="whole"))  # what select_champions reads itself
    project = SimpleNamespace(cache=tmp_path / "cache")
    state.run = lambda: select_champions(cfg, tmp_path, tmp_path / "metrics.json", out, models, project)
    return state


def outputs(stage) -> dict[str, str]:
    return {d: (stage.models / d / "weights").read_text() for d in DATASETS} | {"json": stage.out.read_text()}


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("a bug in the refit")])
def test_a_stop_or_an_error_refitting_the_second_dataset_leaves_every_output_old(stage, error):
    stage.fail_at, stage.error = "beta", error
    with pytest.raises(type(error)):
        stage.run()
    assert outputs(stage) == {"alpha": "old", "beta": "old", "json": OLD_CHAMPIONS}
    assert stage.moved == []  # no alias moved
    assert not [p.name for p in stage.models.iterdir() if p.name not in DATASETS]  # no staging left


def test_every_dataset_refitted_replaces_all_outputs_at_once(stage):
    stage.run()
    written = json.loads(stage.out.read_text())
    assert {d: outputs(stage)[d] for d in DATASETS} == {"alpha": "new", "beta": "new"}
    assert sorted(written) == sorted(DATASETS) and [c.dataset for c in stage.moved] == list(DATASETS)


def test_aliases_that_cannot_all_move_are_moved_back_and_models_stay_old(stage, monkeypatch):
    def fail(_uri, _champions):
        raise MlflowException("the store refused the second alias")

    monkeypatch.setattr(champion_module, "move_aliases", fail)
    with pytest.raises(MlflowException):
        stage.run()
    assert outputs(stage) == {"alpha": "old", "beta": "old", "json": OLD_CHAMPIONS}


def test_move_aliases_moves_each_alias_or_none(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    experiment = client.create_experiment("select", artifact_location=str(tmp_path / "artifacts"))
    champions = []
    for dataset in DATASETS:
        name = f"distilbench-{dataset}"
        client.create_registered_model(name)
        run = client.create_run(experiment).info.run_id
        for _ in range(2):
            client.create_model_version(name, source=str(tmp_path), run_id=run)
        client.set_registered_model_alias(name, ALIAS, "1")
        champions.append(champion(dataset, "2", run))

    broken = [champions[0], replace(champions[1], version="99")]  # no such version: the second move fails
    with pytest.raises(MlflowException):
        move_aliases(uri, broken)
    assert [str(client.get_model_version_by_alias(c.registered_name, ALIAS).version) for c in champions] == [
        "1",
        "1",
    ]
    assert CHAMPION_TAG not in client.get_run(champions[0].run_id).data.tags

    move_aliases(uri, champions)
    assert [str(client.get_model_version_by_alias(c.registered_name, ALIAS).version) for c in champions] == [
        "2",
        "2",
    ]
    assert client.get_run(champions[0].run_id).data.tags[CHAMPION_TAG] == "true"
