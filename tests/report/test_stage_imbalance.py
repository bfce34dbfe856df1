"""An imbalanced dataset's report: ranked by macro-F1 (said so), a constant row flagged and never the
row to deploy, and metrics.json marking both; a multilabel dataset's label-set floors."""

from __future__ import annotations

import json

import pytest

from distilbench.report.choice import Rule
from distilbench.report.stage import inputs_of, markdown_report, metrics_json

TEACHER = {"name": "bert", "kind": "transformer", "source": "hub", "id": "bert-base", "layers": None}
SVM = {"name": "svm", "kind": "linear", "source": "packaged", "id": None, "layers": None}
STATIC = {"name": "static", "kind": "static", "source": "packaged", "id": "m", "layers": None}


def record(model: str, fold: int, accuracy: float, macro_f1: float, answers: int, **extra) -> dict:
    fields = {
        "dataset": "alexa",
        "model": model,
        "fold": fold,
        "repeat": 1,
        "task": "multiclass",
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "train_seconds": 10.0,
        "eval_seconds": 1.0,
        "train_examples": 700,
        "eval_examples": 300,
        "model_mb": 10.0,
        "parameters": 1000,
        "examples_per_second": 300.0,
        "export_seconds": 0.0,
        "threads": 2,
        "latency_p50_ms": {"bert": 10.0, "svm": 2.0, "static": 0.5}[model],
        "latency_p95_ms": 12.0,
        "throughput_per_s": 300.0,
        "distinct_answers": answers,
        "empty_answers": 0.0,
        **extra,
    }
    return fields | {"train_eval_seconds": 11.0}


def imbalanced_results() -> dict:
    folds = [
        record(model, fold, accuracy + fold / 1000, macro + fold / 1000, answers)
        for fold in (1, 2, 3)
        for model, accuracy, macro, answers in (
            ("bert", 0.930, 0.80, 2),
            ("svm", 0.920, 0.79, 2),
            ("static", 0.905, 0.474, 1),  # always "positive": the majority class
        )
    ]
    baselines = [
        {"dataset": "alexa", "repeat": 1, "fold": f, "accuracy": 0.91, "macro_f1": 0.476, "imbalanced": True}
        for f in (1, 2, 3)
    ]
    return {
        "teacher": "bert",
        "models": [TEACHER, SVM, STATIC],
        "datasets": {"alexa": {"task": "multiclass", "examples": 1000, "protocol": "kfold"}},
        "folds": folds,
        "baselines": baselines,
        "tracking_uri": "sqlite:///mlflow.db",
    }


def test_an_imbalanced_dataset_is_ranked_by_macro_f1_and_its_constant_row_is_flagged():
    inputs = inputs_of(imbalanced_results())
    markdown = markdown_report(inputs, Rule(None, 1.0))
    metrics = json.loads(json.dumps(metrics_json(inputs, Rule(None, 1.0))))
    assert "**Ranked by macro-F1**" in markdown and "imbalanced" in markdown
    assert "**⚠ static gives one and the same answer" in markdown
    assert (
        "Row to deploy" in markdown and "**static**" not in markdown.split("Row to deploy")[1].split("\n")[0]
    )
    assert metrics["alexa"]["static"]["degenerate"] == 1.0 and metrics["alexa"]["svm"]["degenerate"] == 0.0
    assert metrics["alexa"]["majority_class"]["imbalanced"] == 1.0
    # held against the floor on macro-F1: static ties the majority class, the others beat it
    assert metrics["alexa"]["static"]["beats_majority_class"] == 0.0
    assert metrics["alexa"]["svm"]["beats_majority_class"] == 1.0


def test_accuracy_ranks_when_select_metric_says_so():
    markdown = markdown_report(inputs_of(imbalanced_results()), Rule(None, 1.0, "accuracy"))
    assert (
        "**Ranked by accuracy** for the row to deploy and the champion (select.metric is accuracy)"
        in markdown
    )


def test_a_multilabel_dataset_shows_its_label_set_floors_and_the_rows_not_above_them():
    res = imbalanced_results()
    res["datasets"]["alexa"]["task"] = "multilabel"
    for r in res["folds"]:
        r |= {"task": "multilabel", "micro_f1": 0.5 if r["model"] != "static" else 0.2, "hamming_loss": 0.1}
        r |= {"thresholds": [0.5], "at_least_one": True}  # a multilabel fold's decision is recorded too
    res["label_baselines"] = [
        {
            "dataset": "alexa",
            "repeat": 1,
            "fold": f,
            "strategy": s,
            "labels": ["a"],
            "accuracy": 0.1,
            "micro_f1": 0.3,
            "macro_f1": 0.1,
            "hamming_loss": 0.2,
        }
        for f in (1, 2, 3)
        for s in ("most_frequent_set", "top_k_labels")
    ]
    inputs = inputs_of(res)
    markdown = markdown_report(inputs, Rule(None, 1.0))
    assert "**Ranked by micro-F1**" in markdown and "**Label-set floors**" in markdown
    assert "**⚠ static (micro-F1 0.2000) is not better than always answering the k most frequent" in markdown
    assert "bert (micro-F1" not in markdown.split("Label-set floors")[1]
    baseline = metrics_json(inputs)["alexa"]["majority_class"]
    assert baseline["top_k_labels.micro_f1_mean"] == 0.3


def test_the_paired_verdicts_test_the_metric_that_ranks_the_rows():
    inputs = inputs_of(imbalanced_results())
    by_macro = {c.model: c for c in inputs.comparisons("alexa", Rule(None, 1.0))}
    by_accuracy = {c.model: c for c in inputs.comparisons("alexa", Rule(None, 1.0, "accuracy"))}
    # the constant row: 2.5 points below the teacher in accuracy, 32.6 in macro-F1
    assert by_macro["static"].metric == "macro_f1"
    assert sum(by_macro["static"].differences) / 3 == pytest.approx(0.474 - 0.80)
    assert sum(by_accuracy["static"].differences) / 3 == pytest.approx(0.905 - 0.930)
    markdown = markdown_report(inputs, Rule(None, 1.0))
    assert "Paired comparisons (macro-F1 of the model minus the one it is compared with" in markdown
