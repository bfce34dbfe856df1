"""A computed fold as the outputs see it: its record, its per-example predictions in the results file (one
compact line per fold) and in its MLflow run."""

from __future__ import annotations

import json

import numpy as np

from distilbench.crossval.mlflow_runs import predictions_csv
from distilbench.crossval.records import fold_record, prediction_records, results_text
from distilbench.crossval.variants import VariantResult
from distilbench.training.evaluation import held_out_predictions
from tests.results import fold_result

LOGITS = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0], [1.0, 1.5, 0.0]])
ROWS = np.array([7, 2, 11])
TRUTH = np.array([0, 1, 1])


def computed():
    fp32 = held_out_predictions(ROWS, LOGITS, TRUTH, multilabel=False)
    int8 = held_out_predictions(ROWS, LOGITS[:, ::-1], TRUTH, multilabel=False)
    variant = VariantResult(
        "torch-int8", {"accuracy": 0.3, "macro_f1": 0.2}, 0.5, 0.2, 1.0, 0.3, 0.1, predictions=int8
    )
    return fold_result(labels=("a", "b", "c"), predictions=fp32, variants=(variant,))


def test_a_fold_keeps_each_held_out_rows_id_truth_prediction_and_scores():
    fp32, int8 = prediction_records(computed())
    assert (fp32["model"], int8["model"]) == ("teacher", "teacher+torch-int8")
    assert fp32["rows"] == [7, 2, 11] and fp32["truth"] == [0, 1, 1]
    assert fp32["predicted"] == [0, 2, 1] and int8["predicted"] == [2, 0, 1]
    assert all(abs(sum(s) - 1) < 1e-3 for s in fp32["scores"])  # softmax, 4 decimals
    assert fp32["scores"][0] == [0.7870, 0.1065, 0.1065]
    assert "predictions" not in fold_record(computed())  # the fold records stay numbers only


def test_the_results_file_is_valid_json_with_one_line_per_folds_predictions():
    payload = {"version": 2, "folds": [{"a": 1}], "predictions": prediction_records(computed())}
    text = results_text(payload)
    assert json.loads(text) == json.loads(json.dumps(payload))
    indented = json.dumps({"version": 2, "folds": [{"a": 1}]}, indent=2)
    # the indented part, then `"predictions": [`, one line per fold (fp32 and its variant), `]`
    assert len(text.splitlines()) == len(indented.splitlines()) + 2 + 2
    assert json.loads(results_text({"version": 2}))["predictions"] == []


def test_the_fold_runs_predictions_artifact_names_the_labels():
    lines = predictions_csv(computed()).splitlines()
    assert lines[0] == "row,true,predicted,score_a,score_b,score_c"
    assert lines[1] == "7,a,a,0.7870,0.1065,0.1065"


def test_multilabel_scores_are_each_labels_sigmoid():
    p = held_out_predictions(ROWS[:1], np.array([[-1.0, 2.0]]), np.array([[0, 1]]), multilabel=True)
    assert p.predicted.tolist() == [[0, 1]] and np.allclose(p.scores, [[0.2689, 0.8808]], atol=1e-4)


def test_a_multilabel_folds_thresholds_are_recorded_and_a_single_label_one_has_none():
    """select.refit fold serves fold 1's model with the decision it was scored with (deploy.fold_model)."""
    multilabel = fold_result(task="multilabel", thresholds=(0.25, 0.5, 0.75), at_least_one=True)
    assert fold_record(multilabel)["thresholds"] == [0.25, 0.5, 0.75]
    assert fold_record(multilabel)["at_least_one"] is True
    assert "thresholds" not in fold_record(fold_result())
    assert json.loads(json.dumps(fold_record(multilabel)))["thresholds"] == [0.25, 0.5, 0.75]
