"""Multilabel tasks, the hold-out protocol and teacher-logit caching, through the real flows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import distilbench.crossval.fold as fold_module
from tests.conftest import tiny_rows
from tests.end_to_end.conftest import tiny_model

TEACHER = tiny_model("teacher")


def distilled(name: str, layers: list[int]) -> dict:
    return tiny_model(name, layers=layers, distil_from="teacher")


def distilled_project(make_project, tiny_csv):
    """The teacher and a 1-layer student distilled from it, on 2 folds of one epoch."""
    return make_project(models=[TEACHER, distilled("student", [1])], folds=2, epochs=1)


def test_multilabel_task_trains_with_sigmoid_outputs_and_reports_multilabel_metrics(make_project, tmp_path):
    rows = tiny_rows()
    # every text has its class; every third also carries "long", so some texts have two labels
    labels = [label + ("|long" if i % 3 == 0 else "") for i, (_, label) in enumerate(rows)]
    path = tmp_path / "multi.csv"
    pd.DataFrame({"body": [t for t, _ in rows], "tags": labels}).to_csv(path, index=False)
    project = make_project(
        datasets=[
            {
                "name": "multi",
                "source": "file",
                "path": str(path),
                "text_columns": ["body"],
                "label_columns": ["tags"],
                "label_delimiter": "|",
            }
        ],
        models=[TEACHER, distilled("student", [1])],
        folds=2,
        threshold=0.4,
    )
    results = project.run(with_report=True)

    assert {r.task for r in results} == {"multilabel"}
    assert set(results[0].metrics) == {"accuracy", "micro_f1", "macro_f1", "hamming_loss"}
    table = (project.reports / "comparison.md").read_text()
    assert "multilabel" in table and "Hamming loss" in table and "Micro-F1" in table
    metrics = json.loads((project.reports / "metrics.json").read_text())
    assert 0.0 <= metrics["multi"]["student"]["hamming_loss_mean"] <= 1.0


def test_holdout_protocol_evaluates_once_on_the_datasets_own_validation_split(make_project, tmp_path):
    from datasets import Dataset, DatasetDict

    rows = tiny_rows()
    frame = pd.DataFrame(rows, columns=["sentence", "label"])
    local_hub_copy = tmp_path / "hub-copy"
    DatasetDict(
        {
            "train": Dataset.from_pandas(frame.iloc[::2].reset_index(drop=True)),
            "validation": Dataset.from_pandas(frame.iloc[1::2].reset_index(drop=True)),
        }
    ).save_to_disk(str(local_hub_copy))
    project = make_project(
        datasets=[
            {
                "name": "sst2-like",
                "source": "hub",
                "id": str(local_hub_copy),
                "protocol": "holdout",
                "text_columns": ["sentence"],
            }
        ],
        models=[TEACHER],
    )
    results = project.run(with_report=True)
    assert [(r.fold, r.eval_examples) for r in results] == [(1, len(rows) // 2)]
    assert "hold-out validation split" in (project.reports / "comparison.md").read_text()


def test_the_fold_teachers_logits_are_computed_once_per_fold_for_all_its_students(
    make_project, tiny_csv, monkeypatch
):
    exports = []
    real_export = fold_module.export_train_logits
    monkeypatch.setattr(
        fold_module,
        "export_train_logits",
        lambda job, *args: (exports.append(job.fold_index), real_export(job, *args))[1],
    )
    project = make_project(
        models=[TEACHER, distilled("student-a", [0]), distilled("student-b", [1])],
        folds=2,
        epochs=3,  # several epochs: the logits must still be computed once, not per epoch
    )
    project.run()
    assert sorted(exports) == [0, 1]
    cached = list((Path(project.root) / "cache" / "teacher_logits").glob("*.npz"))
    assert len(cached) == 2


def test_hidden_weight_trains_the_student_against_the_fine_tuned_fold_teachers_mapped_layers(
    make_project, tiny_csv, monkeypatch
):
    import distilbench.training.distill_loss as loss_module

    calls = []
    real_cosine = loss_module.hidden_cosine_loss
    monkeypatch.setitem(
        loss_module.HIDDEN_LOSSES, "cosine", lambda *args: (calls.append(1), real_cosine(*args))[1]
    )
    project = distilled_project(make_project, tiny_csv)
    project.raw["distill"]["hidden_weight"] = 0.5
    project.save()
    project.run()
    assert len(calls) > 0  # every training step of both folds
    assert len(list((Path(project.root) / "cache" / "fold_teachers").iterdir())) == 2


def test_two_offline_datasets_get_their_own_folds_and_rows_in_one_report(make_project):
    project = make_project(
        datasets=[
            {"name": "bbc", "source": "packaged", "id": "bbc", "max_examples": 40},
            {"name": "rotten_tomatoes", "source": "packaged", "id": "rotten_tomatoes", "max_examples": 40},
        ],
        models=[TEACHER],
        folds=2,
        epochs=1,
    )
    results = project.run(with_report=True)
    assert {r.dataset for r in results} == {"bbc", "rotten_tomatoes"}
    table = (project.reports / "comparison.md").read_text()
    assert (
        "## bbc (multiclass, 40 examples" in table and "## rotten_tomatoes (multiclass, 40 examples" in table
    )
    assert "SST-2 proxy" in table


def test_a_distilled_student_starts_from_its_fine_tuned_fold_teacher(make_project, tiny_csv, monkeypatch):
    import torch

    from distilbench.models.pooling import load_classifier

    starts = {}
    real_make_trainer = fold_module.make_trainer

    def spy(job, model, *args):
        if job.teacher is not None:  # the student's weights before its first step
            starts[job.fold_index] = (job, {k: v.clone() for k, v in model.state_dict().items()})
        return real_make_trainer(job, model, *args)

    monkeypatch.setattr(fold_module, "make_trainer", spy)
    project = make_project(
        models=[TEACHER, distilled("student", [1])],
        folds=2,
    )
    results = project.run()
    assert sorted(starts) == [0, 1]
    for job, student in starts.values():
        teacher = load_classifier(job.teacher.model_dir).state_dict()  # the fine-tuned fold teacher
        layer = "attention.self.query.weight"
        assert torch.equal(student[f"bert.encoder.layer.0.{layer}"], teacher[f"bert.encoder.layer.1.{layer}"])
        assert torch.equal(student["classifier.weight"], teacher["classifier.weight"])  # its trained head
    student_folds = [r for r in results if r.model == "student"]
    assert all(0 <= r.distill_stats["teacher_top_prob"] <= 1 for r in student_folds)
    teacher_folds = [r for r in results if r.model == "teacher"]
    assert all(r.export_seconds > 0 for r in teacher_folds)
    speeds = [r.speed for r in results]
    assert all(s.latency_p50_ms <= s.latency_p95_ms and s.throughput_per_s > 0 for s in speeds)


def test_the_ablation_starts_where_the_distilled_student_starts_and_trains_on_labels_only(
    make_project, tiny_csv, monkeypatch
):
    import torch

    from distilbench.models.pooling import load_classifier
    from distilbench.training.distill import Distiller

    starts, trainers = {}, {}
    real_make_trainer = fold_module.make_trainer

    def spy(job, model, *args):
        if job.teacher is not None:
            weights = {k: v.clone() for k, v in model.state_dict().items()}
            starts[job.model.name, job.fold_index] = (job, weights)
        trainer = real_make_trainer(job, model, *args)
        trainers[job.model.name] = trainer
        return trainer

    monkeypatch.setattr(fold_module, "make_trainer", spy)
    ablation = tiny_model("same-start", layers=[1], start_from="teacher")
    models = [TEACHER, distilled("student", [1]), ablation]
    project = make_project(models=models, folds=2, epochs=1, head_learning_rate=1.0e-1)
    project.run(with_report=True)

    assert sorted(starts) == [("same-start", 0), ("same-start", 1), ("student", 0), ("student", 1)]
    for fold in (0, 1):
        job, ablation_start = starts["same-start", fold]
        _, distilled_start = starts["student", fold]
        teacher = load_classifier(job.teacher.model_dir).state_dict()  # the fine-tuned fold teacher
        layer = "attention.self.query.weight"
        copied = teacher[f"bert.encoder.layer.1.{layer}"]
        assert torch.equal(ablation_start[f"bert.encoder.layer.0.{layer}"], copied)
        assert torch.equal(ablation_start["classifier.weight"], teacher["classifier.weight"])
        assert ablation_start.keys() == distilled_start.keys()
        assert all(torch.equal(ablation_start[k], distilled_start[k]) for k in ablation_start)
    assert isinstance(trainers["student"], Distiller) and not isinstance(trainers["same-start"], Distiller)
    # a trained head takes the body's step; the teacher's random head its own larger one
    assert trainers["same-start"].train.head_learning_rate is None
    assert trainers["student"].train.head_learning_rate is None
    assert trainers["teacher"].train.head_learning_rate == 1.0e-1
    table = (project.reports / "comparison.md").read_text()
    assert "| student | same-start (same start, labels only)" in table.replace("  ", " ").replace("  ", " ")
    assert "**student** against **same-start**, what the distillation loss adds" in table
    metrics = json.loads((project.reports / "metrics.json").read_text())
    assert "vs_labels_only_p_holm" in next(iter(metrics.values()))["student"]


def test_every_row_of_a_fold_is_timed_together_once_the_fold_is_trained(make_project, tiny_csv, monkeypatch):
    import math

    import distilbench.crossval.timing as timing

    timed_together = []
    real_measure = timing.measure_interleaved

    def spy(rows, **kwargs):
        timed_together.append(sorted(row.name for row in rows))
        return real_measure(rows, **kwargs)

    monkeypatch.setattr(timing, "measure_interleaved", spy)
    models = [
        TEACHER,
        distilled("student", [1]) | {"compress": ["onnx-int8"]},
        {"name": "svm", "kind": "linear"},
    ]
    project = make_project(models=models, folds=2, epochs=1)
    results = project.run()

    every_row = sorted(["teacher", "student", "student+onnx-int8", "svm"])
    assert timed_together == [every_row, every_row]  # one call per fold, every row in it
    speeds = [r.speed for r in results] + [v.speed for r in results for v in r.variants]
    assert all(0 < s.latency_p50_ms <= s.latency_p95_ms and s.throughput_per_s > 0 for s in speeds)
    for child in project.children():  # logged after the fold's timing, into the finished fold run
        assert child.info.status == "FINISHED"
        assert not math.isnan(child.data.metrics["latency_p50_ms"])
        if child.data.tags["model"] == "student":
            assert child.data.metrics["onnx-int8/latency_p50_ms"] > 0
    project.run()  # nothing changed: the cached timing is kept, not measured again
    assert len(timed_together) == 2


def test_repeated_kfold_runs_r_times_k_folds_named_by_repeat_with_baselines(make_project, tiny_csv):
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

    project = distilled_project(make_project, tiny_csv)
    project.raw["data"]["repeats"] = 2
    project.save()
    results = project.run(with_report=True)
    assert sorted((r.model, r.repeat, r.fold) for r in results) == [
        (m, r, f) for m in ("student", "teacher") for r in (1, 2) for f in (1, 2)
    ]
    assert all(r.threads >= 1 for r in results)
    names = sorted(
        k.data.tags[MLFLOW_RUN_NAME] for k in project.children() if k.data.tags["model"] == "teacher"
    )
    assert names == ["repeat-1-fold-1", "repeat-1-fold-2", "repeat-2-fold-1", "repeat-2-fold-2"]
    saved = json.loads(Path(project.results).read_text())
    assert sorted((f["repeat"], f["fold"]) for f in saved["folds"] if f["model"] == "student") == [
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
    ]
    assert [(b["repeat"], b["fold"]) for b in saved["baselines"]] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert all(b["strategy"] == "most_frequent" for b in saved["baselines"])


def test_a_row_limited_to_one_dataset_is_trained_logged_and_reported_there_only(
    make_project, tiny_csv, tmp_path
):
    from tests.end_to_end.conftest import file_dataset

    second = tmp_path / "second.csv"  # other rows: the same file twice would be the same folds
    pd.read_csv(tiny_csv).iloc[1:].to_csv(second, index=False)
    extra = tiny_model("extra", layers=[1], datasets=["second"])
    project = make_project(
        models=[TEACHER, extra],
        datasets=[file_dataset(tiny_csv, "first"), file_dataset(second, "second")],
        folds=2,
        epochs=1,
    )
    results = project.run(with_report=True)
    assert sorted({(r.dataset, r.model) for r in results}) == [
        ("first", "teacher"),
        ("second", "extra"),
        ("second", "teacher"),
    ]
    assert sorted((p.data.tags["dataset"], p.data.tags["model"]) for p in project.parents()) == [
        ("first", "teacher"),
        ("second", "extra"),
        ("second", "teacher"),
    ]
    metrics = json.loads((project.reports / "metrics.json").read_text())
    assert "extra" in metrics["second"] and "extra" not in metrics["first"]
