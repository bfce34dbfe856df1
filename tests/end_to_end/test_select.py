"""The select stage on a tiny study: the chosen row refitted on every row, served and registered."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow.tracking import MlflowClient

import distilbench.crossval.fold as fold_module
import distilbench.deploy.refit as refit_module
from distilbench.config.settings import load_config
from distilbench.data.prepared import load_prepared, prepare_all
from distilbench.deploy.champion import CHAMPION_TAG, champion_markdown
from distilbench.deploy.predict import TextClassifier, load_predictor
from distilbench.deploy.refit import refit, refit_job
from distilbench.deploy.registry import ALIAS
from distilbench.report.ratios import paired_latency_ratio
from distilbench.training.distill import Distiller
from tests.end_to_end.conftest import Project, tiny_model

TEXTS = ["match goal team score", "computer software chip", "election vote minister"]


@pytest.fixture
def project(make_project, tiny_csv: Path) -> Project:
    return make_project(
        models=[
            tiny_model("teacher"),
            # compress: the report's distilled+torch-int8, +onnx-fp32 and +onnx-int8 rows
            tiny_model("distilled", layers=[1], distil_from="teacher", compress=True),
            {"name": "cnn", "kind": "cnn", "epochs": 1},
        ],
        folds=2,
        epochs=1,
    )


def prepared(project: Project) -> Path:
    cfg = load_config(Path(project.params))
    prepare_all(cfg.data, cfg.seed, Path(project.prepared))
    return Path(project.prepared) / "tiny"


def spy_on_fits(monkeypatch) -> list[tuple[str, str, int]]:
    """(model, trainer class, rows trained on) for each fit a refit makes, in order."""
    fits = []

    def fit_whole(job, data):
        trainer, best_epoch, examples = real(job, data)
        fits.append((job.model.name, type(trainer).__name__, examples))
        return trainer, best_epoch, examples

    real = refit_module.fit_whole
    monkeypatch.setattr(refit_module, "fit_whole", fit_whole)
    return fits


def test_a_refit_job_is_the_whole_dataset_as_one_fold_seeded_with_the_seed(project, tmp_path):
    cfg = load_config(Path(project.params))
    job = refit_job(cfg, prepared(project), "distilled", "sqlite://", tmp_path / "refit")
    assert (job.fold_index, job.n_folds, job.fold_seed) == (0, 1, cfg.seed)
    assert job.train == cfg.train.for_model(job.model)
    assert job.teacher.model.name == "teacher" and job.teacher.export_train_logits
    assert job.starts_from_fold_teacher and job.teacher.export_model  # copies the refitted teacher's layers
    assert not job.export_train_logits  # nothing is distilled from the champion itself
    assert str(tmp_path / "refit") == job.cache_root  # never the crossval cache: fold 0 would share keys


def test_a_fine_tuned_model_is_refitted_on_every_row_but_its_inner_validation_split(project, monkeypatch):
    fits = spy_on_fits(monkeypatch)
    directory = prepared(project)
    cfg = load_config(Path(project.params))
    result = refit(cfg, directory, "teacher", "sqlite://")
    rows = len(load_prepared(directory).texts)
    inner = round(rows * cfg.train.inner_val_fraction)
    assert fits == [("teacher", "FineTuner", rows - inner)]
    assert result.examples == rows - inner and result.seconds > 0
    assert result.labels == ("politics", "sport", "tech") and result.max_length == cfg.train.max_length


def test_a_distilled_model_is_refitted_after_its_teacher_from_the_teachers_logits(project, monkeypatch):
    fits = spy_on_fits(monkeypatch)
    trainers = []
    real_make_trainer = fold_module.make_trainer

    def make_trainer(*args, **kwargs):
        trainers.append(real_make_trainer(*args, **kwargs))
        return trainers[-1]

    monkeypatch.setattr(fold_module, "make_trainer", make_trainer)  # what fit_on_rows calls
    cfg = load_config(Path(project.params))
    result = refit(cfg, prepared(project), "distilled", "sqlite://")
    assert [(name, kind) for name, kind, _ in fits] == [("teacher", "FineTuner"), ("distilled", "Distiller")]
    distiller = trainers[-1]
    assert isinstance(distiller, Distiller)
    assert len(distiller.teacher_logits) == fits[-1][2]  # the refitted teacher's logits on the rows fitted
    assert result.model is distiller.model.cpu()
    assert result.model.config.num_hidden_layers == 1  # the student: one layer copied from the teacher


def run_select(project: Project, **select) -> dict:
    from flows.select import select as select_flow

    project.raw["select"] = select
    project.save()
    champions = select_flow(
        params=project.params,
        prepared=project.prepared,
        metrics=str(project.reports / "metrics.json"),
        out=str(project.reports / "champion.json"),
        models=str(project.root / "models"),
    )
    lines = "\n".join(champion_markdown(champions))
    assert (
        lines.startswith("## Champion")
        and "distilbench predict --model models:/distilbench-tiny@champion" in lines
    )
    return json.loads((project.reports / "champion.json").read_text())["tiny"]


def test_the_select_flow_registers_the_chosen_variant_and_a_second_run_moves_the_alias(project):
    project.run(with_report=True)
    rows = json.loads((project.reports / "metrics.json").read_text())["tiny"]
    assert {"distilled+torch-int8", "distilled+onnx-fp32", "distilled+onnx-int8"} <= set(rows)

    first = run_select(project, model="distilled+onnx-int8")
    assert (first["row"], first["model"], first["variant"]) == (
        "distilled+onnx-int8",
        "distilled",
        "onnx-int8",
    )
    assert (first["registered_name"], first["version"]) == ("distilbench-tiny", "1")
    champion_md = (project.reports / "champion.md").read_text()
    assert "`distilled+onnx-int8` (onnx-int8) is registered as `distilbench-tiny` version 1" in champion_md
    assert first["model_uri"] == "models:/distilbench-tiny@champion" and first["refit_seconds"] > 0
    folder = project.root / "models" / "tiny"
    assert yaml.safe_load((folder / "serving.json").read_text())["runtime"] == "onnx-int8"
    assert (folder / "model-int8.onnx").is_file() and (folder / "tokenizer_config.json").is_file()

    run = project.client.get_run(first["run_id"])
    assert run.info.run_name == "tiny · champion · distilled+onnx-int8" and run.info.status == "FINISHED"
    assert run.data.tags[CHAMPION_TAG] == "true"
    assert run.data.params["model"] == "distilled+onnx-int8" and run.data.params["variant"] == "onnx-int8"
    assert run.data.params["source_model"] == "distilled" and run.data.params["teacher"] == "teacher"
    assert {"train_seconds", "train_examples", "model_mb"} <= set(run.data.metrics)
    experiment = project.client.get_experiment_by_name(project.raw["experiment"])
    assert run.info.experiment_id == experiment.experiment_id

    # the registered model answers from the ONNX int8 file, as the folder does
    registered = load_predictor(first["model_uri"]).predict(TEXTS)
    local = TextClassifier.from_dir(folder).predict(TEXTS)
    assert [p.label for p in registered] == [p.label for p in local]
    for a, b in zip(registered, local, strict=True):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)

    second = run_select(project, model=None, max_accuracy_drop=100.0)  # every row is within the margin
    metrics = json.loads((project.reports / "metrics.json").read_text())["tiny"]
    # a row report.degenerate flags (one answer to every text: tiny models may give one) is never chosen;
    # the teacher always qualifies
    servable = {
        k: v
        for k, v in metrics.items()
        if k not in ("cnn", "majority_class") and (k == "teacher" or not v.get("degenerate"))
    }
    # the fastest of the rows the report's tests show not worse by the margin, else of all of them
    shown = {k: v for k, v in servable.items() if v.get("vs_teacher_noninferior")}
    pool = shown | {"teacher": servable["teacher"]} if shown else servable
    fastest = min(pool, key=lambda k: pool[k]["latency_p50_ms"])
    # or a row whose batch-1 latency the folds cannot tell from the fastest's (a tie, broken by cost)
    by_fold = {k: v["latency_p50_ms_by_fold"] for k, v in pool.items()}
    ratios = {k: paired_latency_ratio(by_fold[k], by_fold[fastest]) for k in pool}
    ties = {k for k, r in ratios.items() if k == fastest or r.low <= 1.0 <= r.high}
    assert second["row"] in ties
    assert second["version"] == "2"
    alias = MlflowClient().get_model_version_by_alias("distilbench-tiny", ALIAS)
    assert str(alias.version) == "2"
    assert alias.description.startswith(f"`{second['row']}` of the distilbench study on `tiny`")
    assert "Chosen as the fastest row" in alias.description
    runs = [r for r in project.runs() if r.data.tags.get(CHAMPION_TAG) == "true"]
    assert len(runs) == 2


def test_an_unknown_row_fails_before_any_training(project, monkeypatch):
    project.run(with_report=True)
    monkeypatch.setattr(refit_module, "fit_whole", lambda *_: pytest.fail("trained"))
    from distilbench.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"select.model: 'nope' is not a row of the report; choose one of"):
        run_select(project, model="nope")
    assert not (project.reports / "champion.json").exists()
    assert np.all([CHAMPION_TAG not in r.data.tags for r in project.runs()])
