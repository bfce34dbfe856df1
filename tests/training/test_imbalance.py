"""Imbalanced data: the rule that turns class weights on (9:1 yes, balanced no) and the weighted losses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from distilbench.config.settings import TrainConfig
from distilbench.core.runtime import resolve_runtime
from distilbench.training.distill_loss import kd_loss
from distilbench.training.imbalance import (
    MAX_POS_WEIGHT,
    imbalance_ratio,
    loss_weights,
    resolve_balance,
    train_balance,
)
from distilbench.training.loop import FineTuner

NINE_TO_ONE = np.array([0] * 45 + [1] * 5)  # Alexa-like: 90% one class
BALANCED = np.array([0, 1, 2] * 16)  # BBC- and Rotten-Tomatoes-like


def test_auto_turns_class_weights_on_for_9_to_1_and_leaves_a_balanced_dataset_off():
    train = TrainConfig()  # the defaults params.yaml states: auto, ratio 3
    on = train_balance(train, NINE_TO_ONE, 2, multilabel=False)
    off = train_balance(train, BALANCED, 3, multilabel=False)
    assert (on.ratio, on.weighted) == (9.0, True)
    assert (off.ratio, off.weighted) == (1.0, False)


@pytest.mark.parametrize(("setting", "expected"), [("on", True), ("off", False)])
def test_an_explicit_setting_wins_over_the_rule(setting, expected):
    assert resolve_balance(setting, BALANCED, 3, False, 3.0).weighted is expected
    assert resolve_balance(setting, NINE_TO_ONE, 2, False, 3.0).weighted is expected


def test_the_bar_is_inclusive_and_absent_classes_are_left_out():
    assert resolve_balance("auto", np.array([0, 0, 0, 1]), 3, False, 3.0).weighted  # class 2 absent: 3 / 1
    assert not resolve_balance("auto", np.array([0, 0, 1]), 2, False, 3.0).weighted


def test_balanced_weights_are_scikit_learns_and_equalise_each_class_total():
    weights = loss_weights(NINE_TO_ONE, 2, multilabel=False)
    np.testing.assert_allclose(weights, [50 / (2 * 45), 50 / (2 * 5)], rtol=1e-6)
    counts = np.bincount(NINE_TO_ONE)
    assert weights[0] * counts[0] == pytest.approx(weights[1] * counts[1])


def test_multilabel_pos_weight_is_negatives_over_positives_capped():
    targets = np.zeros((100, 3), dtype=np.float32)
    targets[:50, 0] = 1  # half: weight 1
    targets[:20, 1] = 1  # 80 / 20 = 4
    targets[:2, 2] = 1  # 98 / 2 = 49, capped
    np.testing.assert_allclose(loss_weights(targets, 3, multilabel=True), [1.0, 4.0, MAX_POS_WEIGHT])
    assert imbalance_ratio(targets, 3, multilabel=True) == pytest.approx(49.0)


class Identity(torch.nn.Module):
    """Stands in for a classifier: the loss is what is tested here."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Linear(1, 1)


def trainer(weights, multilabel=False) -> FineTuner:
    train = dataclasses.replace(TrainConfig(), precision="fp32")
    return FineTuner(
        Identity(),
        None,
        resolve_runtime("fp32", torch.device("cpu")),
        train,
        multilabel=multilabel,
        class_weights=weights,
    )


def test_the_fine_tuning_loss_is_class_weighted_only_when_weights_are_given():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.2], [-1.0, 1.0]])
    batch = {"labels": torch.tensor([0, 1, 1])}
    weights = loss_weights(NINE_TO_ONE, 2, multilabel=False)
    weighted = trainer(weights).compute_loss(batch, logits)
    plain = trainer(None).compute_loss(batch, logits)
    assert weighted == pytest.approx(F.cross_entropy(logits, batch["labels"], weight=torch.tensor(weights)))
    assert plain == pytest.approx(F.cross_entropy(logits, batch["labels"]))
    assert weighted != pytest.approx(plain)


def test_the_multilabel_loss_takes_pos_weight():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.2]])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    pos_weight = np.array([1.0, 4.0], dtype=np.float32)
    loss = trainer(pos_weight, multilabel=True).compute_loss({"labels": labels}, logits)
    expected = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=torch.tensor(pos_weight))
    assert loss == pytest.approx(expected)


def test_the_distillation_hard_term_is_class_weighted_too():
    student, teacher = torch.tensor([[1.0, -1.0], [0.2, 0.1]]), torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    targets, weights = torch.tensor([0, 1]), torch.tensor([0.5, 5.0])
    weighted = kd_loss(student, teacher, targets, alpha=1.0, temperature=2.0, class_weights=weights)
    assert weighted == pytest.approx(F.cross_entropy(student, targets, weight=weights))
