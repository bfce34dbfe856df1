"""The linear and static models, and head+tail truncation: tiny data, no downloads."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoTokenizer

from distilbench.config.settings import ModelSpec
from distilbench.models.shallow import ShallowModel, as_logits, distilled_static, new_model, static_cache_dir
from distilbench.models.truncation import head_tail_texts, tokenize
from tests.conftest import tiny_rows

ROWS = tiny_rows(8)
TEXTS = [t for t, _ in ROWS]
LABELS = sorted({label for _, label in ROWS})
TARGETS = np.array([LABELS.index(label) for _, label in ROWS])


def spec(**keys) -> ModelSpec:
    return ModelSpec.from_params({"name": "m", **keys}, "m")


@pytest.mark.parametrize("classifier", ["svm", "logreg"])
def test_a_linear_model_learns_saves_and_loads_to_the_same_logits(tmp_path, classifier):
    model = new_model(spec(kind="linear", classifier=classifier, min_df=1), multilabel=False)
    logits = model.fit(TEXTS, TARGETS).predict_logits(TEXTS)
    assert logits.shape == (len(TEXTS), 3) and (logits.argmax(1) == TARGETS).mean() == 1.0
    size_mb = model.save(tmp_path)
    assert size_mb > 0 and model.parameters > 3 * 10
    np.testing.assert_allclose(ShallowModel.load(tmp_path).predict_logits(TEXTS), logits)


def test_a_binary_margin_becomes_two_logits_whose_softmax_is_its_sigmoid():
    logits = as_logits(np.array([2.0, -1.0]))
    softmax = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(softmax[:, 1], 1 / (1 + np.exp(-np.array([2.0, -1.0]))), rtol=1e-6)


def test_a_multilabel_linear_model_fits_one_classifier_per_label():
    multi_hot = np.eye(3, dtype=np.float32)[TARGETS]
    multi_hot[:, 0] = 1.0 - multi_hot[:, 1]  # two labels overlap on some rows
    model = new_model(spec(kind="linear", min_df=1), multilabel=True).fit(TEXTS, multi_hot)
    assert ((model.predict_logits(TEXTS) > 0) == multi_hot.astype(bool)).mean() > 0.95


def test_static_embeddings_are_distilled_once_then_read_from_the_cache(tmp_path, tiny_model_dir, monkeypatch):
    first, seconds = distilled_static(str(tiny_model_dir), None, tmp_path)
    assert (
        seconds > 0 and (static_cache_dir(str(tiny_model_dir), None, tmp_path) / "distilled.json").is_file()
    )
    monkeypatch.setattr("distilbench.models.shallow.distil_into", lambda *_: pytest.fail("distilled again"))
    again, cached_seconds = distilled_static(str(tiny_model_dir), None, tmp_path)
    assert cached_seconds == seconds  # the cost it took, not the cache read
    np.testing.assert_allclose(again.encode(TEXTS[:3]), first.encode(TEXTS[:3]))
    model = new_model(spec(kind="static", id="x", C=10.0), False, again).fit(TEXTS, TARGETS)
    assert (model.predict_logits(TEXTS).argmax(1) == TARGETS).mean() > 0.9
    model.save(tmp_path / "saved")
    reloaded = ShallowModel.load(tmp_path / "saved")
    np.testing.assert_allclose(reloaded.predict_logits(TEXTS), model.predict_logits(TEXTS), rtol=1e-5)
    assert model.parameters >= int(np.prod(again.embedding.shape))


def test_head_tail_keeps_the_start_and_the_end_of_a_long_text(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    words = [str(i % 20) for i in range(60)]
    text = " ".join(words)
    (cut,) = head_tail_texts(tokenizer, [text], max_length=18)  # 16 tokens: 4 from the head, 12 from the tail
    assert cut.split() == words[:4] + words[-12:]
    ids = tokenize(tokenizer, [text, "match goal"], 18, "head_tail")["input_ids"]
    assert len(ids[0]) == 18 and ids[1] == tokenize(tokenizer, ["match goal"], 18, "head")["input_ids"][0]
    head = tokenize(tokenizer, [text], 18, "head")["input_ids"][0]
    assert tokenizer.decode(head, skip_special_tokens=True).split() == words[:16]


@pytest.mark.parametrize(
    "kind_keys", [{"kind": "linear", "classifier": "svm"}, {"kind": "linear", "classifier": "logreg"}]
)
def test_a_balanced_model_weights_its_classes_and_an_unbalanced_one_does_not(kind_keys):
    balanced = new_model(spec(**kind_keys), multilabel=False, balanced=True).classifier[-1]
    plain = new_model(spec(**kind_keys), multilabel=False).classifier[-1]
    assert balanced.class_weight == "balanced" and plain.class_weight is None
    per_label = new_model(spec(**kind_keys), multilabel=True, balanced=True).classifier[-1]
    assert per_label.estimator.class_weight == "balanced"  # each label's own classifier
