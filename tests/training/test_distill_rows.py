"""Each student row is taught by its own teacher logits, whatever order the rows come in.

The fold teacher writes its logits in its own order of the fold's training rows; the student trains on a
shuffled subset of them (the inner split) and draws batches in a shuffled order. The chain that maps one
to the other (export_train_logits -> read_train_logits -> subset's renumbered `index` -> the Distiller's
lookup) is checked here with teacher logits that name their row, so a row given another row's logits
cannot pass unseen.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from transformers import AutoTokenizer

import distilbench.training.distill as distill_module
from distilbench.config.settings import DistillConfig
from distilbench.core.runtime import resolve_runtime
from distilbench.crossval.fold import export_train_logits, read_train_logits
from distilbench.training.distill import Distiller
from distilbench.training.loop import encode, make_collator, subset
from tests.conftest import tiny_rows
from tests.training.test_loop import LABELS, settings, tiny_model


def row_logits(row: int) -> list[float]:
    """Teacher logits that encode which dataset row they belong to."""
    return [float(row), -float(row), 0.5 * row]


def test_shuffled_student_rows_each_receive_their_own_teacher_logits(tiny_model_dir, tmp_path, monkeypatch):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = tiny_rows(8)
    features = encode(tokenizer, [t for t, _ in rows], np.array([LABELS.index(c) for _, c in rows]), 32)
    row_of = {tuple(f["input_ids"]): r for r, f in enumerate(features)}  # a row is known by its tokens
    assert len(row_of) == len(features)

    rng = np.random.default_rng(7)
    teacher_rows = rng.permutation(len(features))[:20]  # the fold's training rows, in the teacher's order
    logits_file = tmp_path / "teacher_logits.npz"

    class RowTeacher:  # a fine-tuned fold teacher whose logits say which row they are for
        def predict_logits(self, batch_features):
            return np.array([row_logits(row_of[tuple(f["input_ids"])]) for f in batch_features], np.float32)

    export_train_logits(SimpleNamespace(train_logits_path=logits_file), RowTeacher(), features, teacher_rows)
    student_rows = rng.permutation(teacher_rows)[:16]  # the inner split: another order, fewer rows
    assert list(student_rows) != list(teacher_rows[:16])
    job = SimpleNamespace(teacher=SimpleNamespace(train_logits_path=logits_file), label="tiny | student")

    student = Distiller(
        tiny_model(tiny_model_dir),
        make_collator(tokenizer),
        resolve_runtime("fp32", torch.device("cpu")),
        settings(epochs=2, batch_size=4),
        teacher_logits=read_train_logits(job, student_rows),
        distill=DistillConfig(temperature=2.0, alpha=0.5),
        seed=3,
    )
    batches, taught = [], []
    forward = student.forward
    monkeypatch.setattr(student, "forward", lambda batch: batches.append(batch) or forward(batch))
    kd_loss = distill_module.kd_loss

    def spy(logits, teacher_logits, *args, **kwargs):
        taught.append(teacher_logits.detach().cpu())
        return kd_loss(logits, teacher_logits, *args, **kwargs)

    monkeypatch.setattr(distill_module, "kd_loss", spy)
    student.fit(subset(features, student_rows))

    assert len(batches) == len(taught) == 2 * len(student_rows) // 4
    order = []
    for batch, teacher_logits in zip(batches, taught, strict=True):
        for ids, mask, logits in zip(
            batch["input_ids"], batch["attention_mask"], teacher_logits, strict=True
        ):
            row = row_of[tuple(ids[mask.bool()].tolist())]
            order.append(row)
            assert logits.tolist() == row_logits(row), f"row {row} was taught another row's logits"
    epoch = len(student_rows)
    assert sorted(order[:epoch]) == sorted(order[epoch:]) == sorted(student_rows)  # every row, each epoch
    assert order[:epoch] != list(student_rows)  # the batches came shuffled, not in the rows' order
