"""train.group_by_length: batches of similar length in random order, and inference in length order with the
logits handed back in the caller's order."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from distilbench.config.settings import TrainConfig
from distilbench.core.runtime import resolve_runtime
from distilbench.training.batching import POOL_BATCHES, LengthGroupedBatches
from distilbench.training.loop import FineTuner, encode, make_collator

RNG = np.random.default_rng(0)
LENGTHS = RNG.integers(3, 60, size=500).tolist()


def batches(seed: int, lengths=LENGTHS, batch_size: int = 16) -> list[list[int]]:
    return list(LengthGroupedBatches(lengths, batch_size, torch.Generator().manual_seed(seed)))


def padded_tokens(groups: list[list[int]], lengths=LENGTHS) -> int:
    return sum(max(lengths[i] for i in g) * len(g) for g in groups)


def test_every_text_is_in_one_batch_and_the_order_is_the_seeds():
    groups = batches(3)
    assert sorted(i for g in groups for i in g) == list(range(len(LENGTHS)))
    assert len(groups) == len(LengthGroupedBatches(LENGTHS, 16, torch.Generator())) == -(-500 // 16)
    assert batches(3) == groups and batches(4) != groups


def test_grouped_batches_pad_far_less_than_a_plain_shuffle():
    shuffled = torch.randperm(len(LENGTHS), generator=torch.Generator().manual_seed(3)).tolist()
    plain = [shuffled[i : i + 16] for i in range(0, len(shuffled), 16)]
    assert padded_tokens(batches(3)) < 0.8 * padded_tokens(plain)


def test_the_batches_come_in_random_order_not_longest_first():
    """A one-epoch fit must not see its long texts first: the batches' longest lengths are not sorted."""
    longest = [max(LENGTHS[i] for i in g) for g in batches(3)[:POOL_BATCHES]]
    assert longest != sorted(longest, reverse=True)


def settings(**changes) -> TrainConfig:
    fast = dict(min_steps=None, patience=None, head_learning_rate=None)
    return dataclasses.replace(TrainConfig(batch_size=4, eval_batch_size=3, **fast), **changes)


def test_the_loop_groups_by_length_only_when_told(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = [" ".join(["word"] * n) for n in LENGTHS[:40]]
    features = encode(tokenizer, texts, np.zeros(40, dtype=np.int64), max_length=64)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2)
    runtime = resolve_runtime("fp32")

    def loader_batches(**changes):
        trainer = FineTuner(model, make_collator(tokenizer), runtime, settings(**changes), seed=5)
        return [b["index"].tolist() for b in trainer._train_loader(features)]

    lengths = [len(f["input_ids"]) for f in features]
    grouped, plain = loader_batches(group_by_length=True), loader_batches()
    assert grouped == list(LengthGroupedBatches(lengths, 4, torch.Generator().manual_seed(5)))
    assert padded_tokens(grouped, lengths) < padded_tokens(plain, lengths)


def test_logits_come_back_in_the_callers_order_whatever_the_lengths(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = [" ".join(["word", "other"][: 1 + n % 2] * n) for n in (2, 9, 1, 14, 5, 7, 3)]
    features = encode(tokenizer, texts, np.zeros(len(texts), dtype=np.int64), max_length=64)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2)
    trainer = FineTuner(model, make_collator(tokenizer), resolve_runtime("fp32"), settings())
    together = trainer.predict_logits(features)
    one_by_one = np.concatenate([trainer.predict_logits([f]) for f in features])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
