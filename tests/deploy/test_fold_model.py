"""select.refit fold without a study: fold 1's job is the one crossval plans, its records are read from
results/crossval.json, and anything missing is one line saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from distilbench.config.settings import Config
from distilbench.core.errors import DataError
from distilbench.core.paths import ProjectPaths
from distilbench.crossval.stage import plan_crossval
from distilbench.data.prepared import prepare_all
from distilbench.deploy.fold_model import CrossvalFolds, fold_job, kept_fold, recorded_decision, recorded_fold
from distilbench.report.choice import Choice
from distilbench.training.decision import LabelDecision

RERUN = "rerun crossval, or set select.refit: whole"


@pytest.fixture
def study(tmp_path: Path, tiny_csv: Path, tiny_model_dir: Path) -> tuple[Config, Path, ProjectPaths]:
    """A prepared tiny dataset (2 folds, 2 repeats) and a zoo of a teacher and its distilled student."""
    tiny = {"source": "local", "id": str(tiny_model_dir)}
    cfg = Config.from_params(
        {
            "data": {
                "folds": 2,
                "repeats": 2,
                "datasets": [{"name": "tiny", "source": "file", "path": str(tiny_csv)}],
            },
            "models": {
                "zoo": "z",
                "zoos": {
                    "z": {
                        "teacher": "teacher",
                        "models": [
                            {"name": "teacher", **tiny},
                            {"name": "student", **tiny, "layers": [1], "distil_from": "teacher"},
                        ],
                    }
                },
            },
            "select": {"refit": "fold"},
        }
    )
    prepare_all(cfg.data, cfg.seed, tmp_path / "prepared")
    return cfg, tmp_path / "prepared", ProjectPaths.under(tmp_path)


def record(**fields) -> dict:
    base = {"dataset": "tiny", "model": "student", "repeat": 1, "fold": 1, "task": "multiclass"}
    return base | {"train_examples": 30, "best_epoch": 2, "accuracy": 0.75, "at_least_one": False} | fields


def choice(row: str = "student") -> Choice:
    return Choice("tiny", row, row.split("+")[0], "fp32", "transformer", "why", 0.7, 1.0, 0.8)


@pytest.mark.parametrize("model", ["teacher", "student"])
def test_fold_ones_job_has_the_cache_key_crossval_trained_it_under(study, model):
    cfg, prepared, project = study
    planned = plan_crossval(cfg, prepared, project).jobs
    crossval = next(j for j in planned if (j.model.name, j.repeat, j.fold_index) == (model, 1, 0))
    job = fold_job(cfg, prepared / "tiny", model, project.tracking_uri, project.cache)
    assert job.cache_key == crossval.cache_key and job.kept_model == crossval.kept_model
    assert (job.repeat, job.number) == (1, 1)


def test_a_multilabel_folds_decision_is_rebuilt_from_its_record():
    multilabel = record(task="multilabel", thresholds=[0.3, 0.6], at_least_one=True)
    assert recorded_decision(multilabel, Path("r.json")) == LabelDecision((0.3, 0.6), at_least_one=True)
    assert recorded_decision(record(), Path("r.json")) is None  # single-label: the argmax, no thresholds


def test_a_multilabel_record_without_thresholds_is_one_line():
    with pytest.raises(
        DataError, match=rf"^r\.json: fold 1 of 'student' on 'tiny' has no thresholds; {RERUN}$"
    ):
        recorded_decision(record(task="multilabel"), Path("r.json"))


def test_the_rows_fold_one_of_repeat_one_is_the_record_read():
    results = {"folds": [record(repeat=2, accuracy=0.1), record(fold=2, accuracy=0.2), record()]}
    assert recorded_fold(results, Path("r.json"), "tiny", "student")["accuracy"] == 0.75
    with pytest.raises(DataError, match=rf"^r\.json: no fold 1 of 'student\+onnx-int8' on 'tiny'; {RERUN}$"):
        recorded_fold(results, Path("r.json"), "tiny", "student+onnx-int8")


def test_a_missing_kept_model_is_one_line_naming_its_folder(study):
    cfg, prepared, project = study
    folds = CrossvalFolds({"folds": [record()]}, Path("r.json"), project.cache, project.tracking_uri)
    job = fold_job(cfg, prepared / "tiny", "student", project.tracking_uri, project.cache)
    with pytest.raises(DataError) as error:
        kept_fold(cfg, folds, prepared / "tiny", choice())
    message = str(error.value)
    assert "\n" not in message and message.endswith(f"its kept model {job.kept_model} is missing; {RERUN}")


def test_a_kept_fold_carries_its_records_numbers(study):
    cfg, prepared, project = study
    folds = CrossvalFolds({"folds": [record()]}, Path("r.json"), project.cache, project.tracking_uri)
    job = fold_job(cfg, prepared / "tiny", "student", project.tracking_uri, project.cache)
    job.kept_model.mkdir(parents=True)  # as the fold task left it
    kept = kept_fold(cfg, folds, prepared / "tiny", choice())
    assert (kept.train_examples, kept.best_epoch, kept.score, kept.decision) == (30, 2, 0.75, None)
    assert kept.folder == job.kept_model
