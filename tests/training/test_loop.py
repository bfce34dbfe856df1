"""The one training loop: dynamic padding, learning, best-epoch selection, precision, distillation hook."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from distilbench.config.settings import DistillConfig, TrainConfig
from distilbench.core.runtime import resolve_runtime
from distilbench.training.distill import Distiller
from distilbench.training.loop import FineTuner, encode, make_collator
from tests.conftest import WORDS, tiny_rows

LABELS = sorted(WORDS)


@pytest.fixture
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture
def features(tokenizer):
    rows = tiny_rows(8)
    targets = np.array([LABELS.index(label) for _, label in rows])
    return encode(tokenizer, [text for text, _ in rows], targets, max_length=32)


def settings(**changes) -> TrainConfig:
    base = TrainConfig(
        epochs=3,
        batch_size=8,
        eval_batch_size=16,
        learning_rate=1e-3,
        weight_decay=0.0,
        warmup_ratio=0.0,
        min_steps=None,
        patience=None,
        head_learning_rate=None,
    )
    return dataclasses.replace(base, **changes)


def tiny_model(tiny_model_dir, num_labels: int = 3):
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=num_labels)


def test_batches_are_padded_to_their_own_longest_example_not_max_length(tokenizer, features):
    batch = make_collator(tokenizer)(features[:4])
    longest = max(len(f["input_ids"]) for f in features[:4])
    assert batch["input_ids"].shape == (4, longest) and longest < 32
    assert batch["attention_mask"].sum(dim=1).tolist() == [len(f["input_ids"]) for f in features[:4]]


def test_fine_tuning_lowers_the_loss_and_learns_the_toy_task(tiny_model_dir, tokenizer, features):
    trainer = FineTuner(
        tiny_model(tiny_model_dir),
        make_collator(tokenizer),
        resolve_runtime("fp32"),
        settings(epochs=10, learning_rate=1e-2),
    )
    result = trainer.fit(features)
    losses = [r.train_loss for r in result.history]
    assert losses[-1] < losses[0]
    assert trainer.score(features) > 0.6  # chance is 1/3
    assert result.seconds > 0


def test_the_best_inner_validation_epoch_is_kept_and_reported(tiny_model_dir, tokenizer, features):
    scores = iter([0.5, 0.9, 0.4])  # epoch 2 is best
    trainer = FineTuner(
        tiny_model(tiny_model_dir), make_collator(tokenizer), resolve_runtime("fp32"), settings()
    )
    snapshots = []
    trainer.score = lambda data: (
        snapshots.append({k: v.clone() for k, v in trainer.model.state_dict().items()}),
        next(scores),
    )[1]
    result = trainer.fit(features, inner_val=features[:6])
    assert result.best_epoch == 2
    assert [r.inner_val_score for r in result.history] == [0.5, 0.9, 0.4]
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(tensor, snapshots[1][name]), name


def test_max_steps_shrinks_every_epoch(tiny_model_dir, tokenizer, features):
    trainer = FineTuner(
        tiny_model(tiny_model_dir),
        make_collator(tokenizer),
        resolve_runtime("fp32"),
        settings(epochs=1, max_steps=1),
    )
    calls = []
    original = trainer.compute_loss
    trainer.compute_loss = lambda batch, logits: (calls.append(1), original(batch, logits))[1]
    trainer.fit(features)
    assert len(calls) == 1


def test_min_steps_adds_epochs_until_the_fit_has_made_that_many_steps(tiny_model_dir, tokenizer, features):
    # 24 examples at batch 8: 3 steps per epoch, so 10 steps need 4 epochs; a larger epochs value wins
    trainer = FineTuner(
        tiny_model(tiny_model_dir), make_collator(tokenizer), resolve_runtime("fp32"), settings(min_steps=10)
    )
    assert len(trainer.fit(features).history) == 4
    trainer.train = settings(epochs=5, min_steps=10)
    assert trainer.epochs_for(3) == 5
    trainer.train = settings(epochs=1)
    assert trainer.epochs_for(3) == 1


def test_mixed_precision_path_runs_on_cpu_with_bf16_autocast(tiny_model_dir, tokenizer, features):
    """The GPU code path (autocast + grad scaler) exercised on CPU, where CI runs."""
    runtime = resolve_runtime("bf16", torch.device("cpu"))
    assert runtime.autocast_dtype == torch.bfloat16 and not runtime.grad_scaler().is_enabled()
    trainer = FineTuner(tiny_model(tiny_model_dir), make_collator(tokenizer), runtime, settings(epochs=1))
    trainer.fit(features)
    assert trainer.predict_logits(features).dtype == np.float32


def test_auto_precision_is_fp32_on_cpu_and_fp16_needs_a_scaler():
    assert resolve_runtime("auto", torch.device("cpu")).autocast_dtype is None
    fp16 = resolve_runtime("fp16", torch.device("cpu"))
    assert fp16.autocast_dtype == torch.float16 and fp16.grad_scaler().is_enabled()


def test_multilabel_uses_binary_cross_entropy(tiny_model_dir, tokenizer):
    rows = tiny_rows(4)
    targets = np.array(
        [[1.0, 0.0, 1.0] if i % 2 else [0.0, 1.0, 0.0] for i in range(len(rows))], dtype=np.float32
    )
    data = encode(tokenizer, [t for t, _ in rows], targets, 32)
    trainer = FineTuner(
        tiny_model(tiny_model_dir),
        make_collator(tokenizer),
        resolve_runtime("fp32"),
        settings(epochs=1),
        multilabel=True,
    )
    batch = make_collator(tokenizer)(data[:4])
    logits = torch.zeros(4, 3)
    assert trainer.compute_loss(batch, logits).item() == pytest.approx(np.log(2), rel=1e-5)


def test_distiller_changes_only_the_loss_and_reads_cached_teacher_logits(tiny_model_dir, tokenizer, features):
    teacher_logits = np.random.default_rng(0).normal(size=(len(features), 3)).astype(np.float32)
    distill = DistillConfig(temperature=2.0, alpha=0.0)
    student = Distiller(
        tiny_model(tiny_model_dir),
        make_collator(tokenizer),
        resolve_runtime("fp32"),
        settings(epochs=1),
        teacher_logits=teacher_logits,
        distill=distill,
    )
    assert Distiller.fit is FineTuner.fit  # one loop: the override is the loss, not the training
    # on the trainer's device (CUDA where there is one: the cached logits stay on the CPU)
    batch = {k: v.to(student.runtime.device) for k, v in make_collator(tokenizer)(features[:4]).items()}
    student.model.train()
    logits = student.forward(batch)
    soft = student.compute_loss(batch, logits)
    # with alpha = 0 the loss is pure soft-target KL against exactly these rows of the cached logits
    t = torch.as_tensor(teacher_logits[batch["index"].cpu().numpy()])
    expected = 4.0 * torch.nn.functional.kl_div(
        torch.log_softmax(logits.cpu() / 2, -1), torch.softmax(t / 2, -1), reduction="batchmean"
    )
    assert soft.item() == pytest.approx(expected.item(), rel=1e-4)
    student.fit(features)


@pytest.mark.gpu
def test_fine_tuning_on_cuda_with_automatic_mixed_precision(tiny_model_dir, tokenizer, features):
    """The real GPU path: auto precision picks bf16 (or fp16 with a scaler) and logits come back fp32."""
    runtime = resolve_runtime("auto", torch.device("cuda"))
    assert runtime.autocast_dtype in (torch.bfloat16, torch.float16)
    trainer = FineTuner(tiny_model(tiny_model_dir), make_collator(tokenizer), runtime, settings(epochs=1))
    result = trainer.fit(features)
    assert result.seconds > 0 and trainer.predict_logits(features).dtype == np.float32


def test_patience_stops_the_fit_when_the_inner_score_stops_improving(tiny_model_dir, tokenizer, features):
    scores = iter([0.5, 0.9, 0.4, 0.3, 0.95, 0.99])  # after epoch 2, two epochs without a better score
    trainer = FineTuner(
        tiny_model(tiny_model_dir),
        make_collator(tokenizer),
        resolve_runtime("fp32"),
        settings(epochs=6, patience=2, inner_val_fraction=0.2),
    )
    trainer.score = lambda data: next(scores)
    result = trainer.fit(features, inner_val=features[:6])
    assert len(result.history) == 4 and result.best_epoch == 2


def test_the_new_head_gets_its_own_learning_rate(tiny_model_dir, tokenizer):
    trainer = FineTuner(
        tiny_model(tiny_model_dir),
        make_collator(tokenizer),
        resolve_runtime("fp32"),
        settings(learning_rate=1e-4, head_learning_rate=1e-2),
    )
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    for group in trainer._optimizer().param_groups:
        heads = {names[id(p)].startswith("classifier.") for p in group["params"]}
        assert heads == {group["lr"] == 1e-2}  # every group is all head (fast) or all body
    assert sum(p.numel() for g in trainer._optimizer().param_groups for p in g["params"]) == sum(
        p.numel() for p in trainer.model.parameters()
    )


def test_inference_speed_is_measured_warm_on_the_same_examples_for_every_model(
    tiny_model_dir, tokenizer, features, monkeypatch
):
    import distilbench.training.inference_speed as speed

    trainer = FineTuner(
        tiny_model(tiny_model_dir), make_collator(tokenizer), resolve_runtime("fp32"), settings()
    )
    calls = []
    real = trainer.predict_batch
    trainer.predict_batch = lambda batch: (calls.append(len(batch)), real(batch))[1]
    result = trainer.measure_speed(features)
    # the first LATENCY_EXAMPLES timed at batch 1, then the first THROUGHPUT_EXAMPLES as one batch, each pass
    singles, batch = min(len(features), speed.LATENCY_EXAMPLES), min(len(features), speed.THROUGHPUT_EXAMPLES)
    assert calls == [1] * speed.WARMUP_CALLS + [batch] + ([1] * singles + [batch]) * speed.PASSES
    assert 0 < result.latency_p50_ms <= result.latency_p95_ms
    assert result.throughput_per_s > 0 and result.threads == torch.get_num_threads()


def batch_rows(trainer: FineTuner, features) -> list[list[int]]:
    return [batch["index"].tolist() for batch in trainer._train_loader(features)]


def test_the_default_shuffle_order_is_the_seeded_permutation_it_always_was(
    tiny_model_dir, tokenizer, features
):
    # fold results depend on this order (bench/baselines.py's length grouping overrides it in a subclass)
    trainer = FineTuner(
        tiny_model(tiny_model_dir), make_collator(tokenizer), resolve_runtime("fp32"), settings(), seed=7
    )
    # the loader the loop always built: shuffle=True from a generator seeded with the fold seed
    plain = torch.utils.data.DataLoader(
        range(len(features)), shuffle=True, generator=torch.Generator().manual_seed(7)
    )
    expected = [int(i) for i in plain]
    assert [i for rows in batch_rows(trainer, features) for i in rows] == expected


def test_the_optimizer_is_fused_adamw_on_cpu_as_the_trainers(tiny_model_dir, tokenizer):
    """The Trainer's default optimizer is fused AdamW; the loop's must not be the slower per-tensor one."""
    cpu = resolve_runtime("fp32", torch.device("cpu"))
    trainer = FineTuner(tiny_model(tiny_model_dir), make_collator(tokenizer), cpu, settings())
    optimizer = trainer._optimizer()
    assert isinstance(optimizer, torch.optim.AdamW) and optimizer.defaults["fused"] is True
