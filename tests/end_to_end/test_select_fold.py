"""select.refit fold on a tiny study: the champion is fold 1's model as cross-validation kept it, registered
and served through the same path as a refit, and nothing is trained."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import distilbench.crossval.fold as fold_module
import distilbench.deploy.champion as champion_module
import distilbench.deploy.refit as refit_module
from distilbench.config.settings import load_config
from distilbench.core.errors import DataError
from distilbench.core.paths import ProjectPaths
from distilbench.deploy.fold_model import fold_job
from distilbench.models.pooling import load_classifier
from tests.end_to_end.conftest import Project, tiny_model

ROW = "distilled+onnx-int8"  # a distilled student's compressed variant: the quickstart champion's shape


@pytest.fixture
def project(make_project) -> Project:
    return make_project(
        models=[
            tiny_model("teacher"),
            tiny_model("distilled", layers=[1], distil_from="teacher", compress=["onnx-int8"]),
        ],
        folds=2,
        epochs=1,
    )


def run_select(project: Project, **select) -> dict:
    from flows.select import select as select_flow

    project.raw["select"] = select
    project.save()
    select_flow(
        params=project.params,
        prepared=project.prepared,
        metrics=str(project.reports / "metrics.json"),
        out=str(project.reports / "champion.json"),
        models=str(project.root / "models"),
        results=project.results,
    )
    return json.loads((project.reports / "champion.json").read_text())["tiny"]


def no_training(monkeypatch) -> None:
    """Every way select could train fails the test: a refit, a whole-data fit, a fold fit."""
    for module, name in (
        (champion_module, "refit"),
        (refit_module, "fit_whole"),
        (refit_module, "fit_on_rows"),
    ):
        monkeypatch.setattr(module, name, lambda *_a, **_k: pytest.fail("select trained a model"))
    monkeypatch.setattr(fold_module, "fit_on_rows", lambda *_a, **_k: pytest.fail("select trained a model"))


def fold_one(project: Project, row: str) -> dict:
    results = json.loads(Path(project.results).read_text())
    return next(f for f in results["folds"] if (f["model"], f["repeat"], f["fold"]) == (row, 1, 1))


def test_fold_mode_registers_fold_ones_kept_model_and_trains_nothing(project, monkeypatch):
    project.run(with_report=True)
    no_training(monkeypatch)
    champion = run_select(project, model=ROW, refit="fold")

    record = fold_one(project, ROW)
    assert (champion["row"], champion["refit"], champion["version"]) == (ROW, "fold", "1")
    assert champion["refit_examples"] == record["train_examples"]
    assert champion["fold_score"] == record[champion["metric"]]
    cfg = load_config(Path(project.params))
    paths = ProjectPaths.current()  # the test's own fold cache, as crossval used it
    job = fold_job(cfg, Path(project.prepared) / "tiny", "distilled", paths.tracking_uri, paths.cache)
    served = load_classifier(project.root / "models" / "tiny").state_dict()
    kept = load_classifier(job.kept_model).state_dict()
    assert served.keys() == kept.keys()
    assert all(torch.equal(served[k], kept[k]) for k in kept)
    assert (project.root / "models" / "tiny" / "model-int8.onnx").is_file()  # the variant, built as a refit's

    markdown = (project.reports / "champion.md").read_text()
    assert (
        f"fold 1's model as cross-validation trained it ({record['train_examples']} training rows), "
        "not refitted (select.refit: fold)"
    ) in markdown
    assert (
        f"was {champion['fold_score']:.4f}, the cross-validated mean {champion['cv_accuracy']:.4f}"
        in markdown
    )
    run = project.client.get_run(champion["run_id"])
    assert run.data.params["refit"] == "fold"
    assert "load_seconds" in run.data.metrics and "train_seconds" not in run.data.metrics

    shutil.rmtree(job.kept_model)  # a cleaned cache: one line, and the champion stays as it was
    with pytest.raises(
        DataError, match=r"its kept model .* is missing; rerun crossval, or set select.refit: whole$"
    ):
        run_select(project, model=ROW, refit="fold")
    assert json.loads((project.reports / "champion.json").read_text())["tiny"]["version"] == "1"
