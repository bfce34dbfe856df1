"""Multilabel decisions: per-label thresholds chosen on the inner split, and at least one label."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from scipy.special import logit
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from distilbench.config.settings import TrainConfig
from distilbench.core.runtime import resolve_runtime
from distilbench.training.decision import LabelDecision, choose_thresholds, every_text_labelled
from distilbench.training.evaluation import fold_metrics
from distilbench.training.loop import FineTuner, encode, make_collator
from tests.conftest import WORDS, tiny_rows


def test_each_label_gets_the_threshold_where_its_inner_split_f1_is_best():
    # label 0 is learnt with low scores (sparse): positives at 0.3, negatives at 0.1; label 1 at 0.8 / 0.6
    probabilities = np.array([[0.3, 0.8], [0.1, 0.6], [0.3, 0.6], [0.1, 0.8]])
    truth = np.array([[1, 1], [0, 0], [1, 0], [0, 1]])
    thresholds = choose_thresholds(logit(probabilities), truth, default=0.5)
    assert 0.1 < thresholds[0] <= 0.3 and 0.6 < thresholds[1] <= 0.8
    decided = LabelDecision(thresholds).apply(probabilities)
    np.testing.assert_array_equal(decided, truth)
    assert fold_metrics(logit(probabilities), truth, True, 0.5)["micro_f1"] < 1.0  # one 0.5 for all misses


def test_a_label_without_positives_keeps_the_default_threshold():
    assert choose_thresholds(np.zeros((3, 1)), np.zeros((3, 1)), default=0.5) == (0.5,)


def test_at_least_one_label_gives_an_empty_answer_its_top_label_only_when_asked():
    probabilities = np.array([[0.2, 0.4, 0.1], [0.9, 0.1, 0.7]])
    fixed = LabelDecision.fixed(0.5, 3)
    np.testing.assert_array_equal(fixed.apply(probabilities), [[0, 0, 0], [1, 0, 1]])
    np.testing.assert_array_equal(
        dataclasses.replace(fixed, at_least_one=True).apply(probabilities), [[0, 1, 0], [1, 0, 1]]
    )


def test_the_rule_holds_only_when_every_training_text_has_a_label():
    assert every_text_labelled(np.array([[1, 0], [0, 1]]))
    assert not every_text_labelled(np.array([[1, 0], [0, 0]]))


def test_a_multilabel_fit_chooses_thresholds_on_its_inner_split(tiny_model_dir):
    names = sorted(WORDS)
    rows = tiny_rows(6)
    targets = np.array([[float(label == n) for n in names] for _, label in rows], dtype=np.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    features = encode(tokenizer, [t for t, _ in rows], targets, max_length=16)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=3, problem_type="multi_label_classification"
    )
    train = dataclasses.replace(
        TrainConfig(), epochs=1, batch_size=8, min_steps=None, patience=None, precision="fp32"
    )
    trainer = FineTuner(
        model, make_collator(tokenizer), resolve_runtime("fp32", torch.device("cpu")), train, multilabel=True
    )
    inner = features[::3]
    trainer.fit([f for i, f in enumerate(features) if i % 3], inner)
    decision = trainer.decision
    assert isinstance(decision, LabelDecision) and decision.at_least_one
    inner_targets = np.stack([f["labels"] for f in inner])
    expected = choose_thresholds(trainer.predict_logits(inner), inner_targets, train.threshold)
    assert decision.thresholds == expected and len(expected) == 3
    assert decision.apply_logits(trainer.predict_logits(features)).sum(axis=1).min() >= 1
