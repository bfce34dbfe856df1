"""A multilabel champion's folder keeps its decision (per-label thresholds, at least one label), and
`distilbench predict` answers with it."""

from __future__ import annotations

import io
import json

import numpy as np

from distilbench.config.settings import ModelSpec
from distilbench.config.variants import FP32
from distilbench.deploy.champion import save_served
from distilbench.deploy.predict import SETTINGS_FILE, ServingSettings, load_folder, predict
from distilbench.deploy.refit import Refit
from distilbench.models.shallow import new_model
from distilbench.training.decision import LabelDecision
from tests.conftest import WORDS, tiny_rows

LABELS = tuple(sorted(WORDS))


def multilabel_refit(decision: LabelDecision) -> Refit:
    rows = tiny_rows(6)
    texts = [t for t, _ in rows]
    targets = np.array([[float(label == n) for n in LABELS] for _, label in rows], dtype=np.float32)
    spec = ModelSpec.from_params({"name": "tfidf", "kind": "linear", "min_df": 1}, "m")
    model = new_model(spec, multilabel=True).fit(texts, targets)
    return Refit(
        model, None, LABELS, True, 64, "linear", "head", 1.0, len(texts), 1, tuple(texts[:4]), decision
    )


def test_the_saved_folder_keeps_each_labels_threshold_and_predict_uses_them(tmp_path):
    # a threshold above every score for "politics", below every score for "sport": visible in the answers
    decision = LabelDecision((0.001, 0.999, 0.5), at_least_one=False)
    (tmp_path / "model").mkdir()  # save_served writes into an empty staging folder
    save_served(multilabel_refit(decision), FP32, tmp_path / "model")
    saved = json.loads((tmp_path / "model" / SETTINGS_FILE).read_text())
    assert saved["thresholds"] == [0.001, 0.999, 0.5] and saved["at_least_one"] is False
    out = io.StringIO()
    predict(str(tmp_path / "model"), ["computer software chip", "election vote"], io.StringIO(), out)
    answers = [json.loads(line)["label"] for line in out.getvalue().splitlines()]
    assert all("politics" in a and "sport" not in a for a in answers)  # sorted labels: politics, sport, tech


def test_with_at_least_one_every_answer_has_a_label(tmp_path):
    decision = LabelDecision((0.999, 0.999, 0.999), at_least_one=True)  # no score clears them
    (tmp_path / "model").mkdir()  # save_served writes into an empty staging folder
    save_served(multilabel_refit(decision), FP32, tmp_path / "model")
    classifier = load_folder(tmp_path / "model")
    predictions = classifier.predict(["match goal team", "election vote minister", "unknown words"])
    assert all(len(p.label) == 1 for p in predictions)
    assert predictions[0].label == [max(predictions[0].probabilities, key=predictions[0].probabilities.get)]


def test_a_folder_saved_before_the_decision_existed_decides_as_before(tmp_path):
    settings = ServingSettings(LABELS, 64, multilabel=True, kind="linear")
    settings.write(tmp_path)
    saved = json.loads((tmp_path / SETTINGS_FILE).read_text())
    for key in ("thresholds", "at_least_one"):
        saved.pop(key)
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(saved))
    read = ServingSettings.read(tmp_path)
    assert read.decision() == LabelDecision.fixed(0.5, len(LABELS), at_least_one=False)
