"""Compressed variants give the fp32 model's logits: exactly for ONNX fp32, within measured bounds for int8.

Tolerances were measured on this tiny BERT (2 layers, hidden 32, logits' spread ~0.2) over 6 seeds:
torch int8 max |diff| 0.012-0.024, ONNX int8 0.010-0.015, argmax agreement 100%; ONNX fp32 ~1e-7.
The bounds below leave about twice that room.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from distilbench.models.compress import (
    OnnxClassifier,
    build_variants,
    export_onnx,
    file_mb,
    quantize_int8,
    quantize_onnx,
    state_dict_mb,
    torch_logits,
)
from tests.deploy.conftest import padded_batch

INT8_ATOL = 0.05
ARGMAX_AGREEMENT = 0.9


@pytest.fixture(scope="module")
def batch(classifier):
    return padded_batch(classifier.config.vocab_size)


@pytest.fixture(scope="module")
def fp32_logits(classifier, batch):
    return torch_logits(classifier, batch)


@pytest.fixture(scope="module")
def onnx_fp32(classifier, batch, tmp_path_factory):
    example = {k: v[:2, :5] for k, v in batch.items()}  # short and unpadded: the axes must still be dynamic
    return export_onnx(classifier, example, tmp_path_factory.mktemp("onnx") / "model.onnx")


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.argmax(1) == b.argmax(1)).mean())


def test_the_batch_is_padded_and_the_logits_decide(batch, fp32_logits) -> None:
    lengths = batch["attention_mask"].sum(1)
    assert lengths.min() < lengths.max() == batch["input_ids"].shape[1]
    assert fp32_logits.std() > 0.1  # a test of int8 error on near-zero logits would prove nothing


def test_torch_int8_is_close_to_fp32(classifier, batch, fp32_logits) -> None:
    int8 = quantize_int8(classifier)
    logits = torch_logits(int8, batch)
    assert np.abs(logits - fp32_logits).max() < INT8_ATOL
    assert agreement(logits, fp32_logits) >= ARGMAX_AGREEMENT
    assert type(classifier.classifier) is torch.nn.Linear  # the original is left as it was
    assert state_dict_mb(int8) < 0.8 * state_dict_mb(classifier)


def test_onnx_fp32_gives_torch_logits_on_padded_batches_of_another_shape(onnx_fp32, fp32_logits, batch):
    session = OnnxClassifier(onnx_fp32, threads=1)
    assert session.input_names == ("input_ids", "attention_mask", "token_type_ids")
    np.testing.assert_allclose(session.predict_logits(batch), fp32_logits, atol=1e-4)
    numpy_batch = {k: v[:3].numpy().astype(np.int32) for k, v in batch.items()}  # numpy, another dtype
    np.testing.assert_allclose(session.predict_logits(numpy_batch), fp32_logits[:3], atol=1e-4)


def test_onnx_int8_is_close_and_smaller(onnx_fp32, fp32_logits, batch) -> None:
    int8_path = quantize_onnx(onnx_fp32, onnx_fp32.with_name("model-int8.onnx"))
    logits = OnnxClassifier(int8_path).predict_logits(batch)
    assert np.abs(logits - fp32_logits).max() < INT8_ATOL
    assert agreement(logits, fp32_logits) >= ARGMAX_AGREEMENT
    assert file_mb(int8_path) < file_mb(onnx_fp32)


def test_without_token_type_ids_the_model_has_two_inputs(classifier, batch, fp32_logits, tmp_path) -> None:
    two = {k: batch[k] for k in ("input_ids", "attention_mask")}
    session = OnnxClassifier(export_onnx(classifier, two, tmp_path / "m.onnx"))
    assert session.input_names == ("input_ids", "attention_mask")
    np.testing.assert_allclose(session.predict_logits(batch), fp32_logits, atol=1e-4)  # extra keys ignored
    with pytest.raises(ValueError, match="m.onnx needs attention_mask"):
        session.predict_logits({"input_ids": batch["input_ids"]})


def test_export_leaves_the_model_in_its_mode(classifier, batch, tmp_path) -> None:
    classifier.train()
    try:
        export_onnx(classifier, batch, tmp_path / "m.onnx")
        assert classifier.training
    finally:
        classifier.eval()


class MeanPooling(torch.nn.Module):
    """A custom head: mask-weighted mean of the encoder's tokens, then a linear layer; `.logits` out."""

    def __init__(self, encoder: torch.nn.Module, labels: int):
        super().__init__()
        self.encoder = encoder
        self.classifier = torch.nn.Linear(encoder.config.hidden_size, labels)

    def forward(self, **inputs):
        hidden = self.encoder(**inputs).last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return SimpleNamespace(logits=self.classifier((hidden * mask).sum(1) / mask.sum(1)))


def test_a_custom_head_compresses_too(classifier, batch, tmp_path) -> None:
    torch.manual_seed(0)
    model = MeanPooling(classifier.bert, 3).eval()
    expected = torch_logits(model, batch)
    path = export_onnx(model, batch, tmp_path / "mean.onnx")
    np.testing.assert_allclose(OnnxClassifier(path).predict_logits(batch), expected, atol=1e-4)
    assert np.abs(torch_logits(quantize_int8(model), batch) - expected).max() < INT8_ATOL


def test_sizes(onnx_fp32, classifier_dir) -> None:
    assert file_mb(classifier_dir) > file_mb(classifier_dir / "model.safetensors") > 0
    assert file_mb(onnx_fp32) == onnx_fp32.stat().st_size / 1e6


def test_build_variants_gives_four_comparable_predictors(classifier, batch, fp32_logits, tmp_path) -> None:
    variants = build_variants(classifier, {k: v[:2] for k, v in batch.items()}, tmp_path, threads=1)
    assert [v.name for v in variants] == ["torch-fp32", "torch-int8", "onnx-fp32", "onnx-int8"]
    sizes = {v.name: v.size_mb for v in variants}
    assert sizes["torch-int8"] < sizes["torch-fp32"] and sizes["onnx-int8"] < sizes["onnx-fp32"]
    for variant in variants:
        tolerance = INT8_ATOL if variant.name.endswith("int8") else 1e-4
        assert np.abs(variant.predict_logits(batch) - fp32_logits).max() < tolerance, variant.name


def test_a_stop_request_ends_build_variants_before_the_next_export(classifier, batch, tmp_path) -> None:
    from distilbench.core import stop

    stop.request_stop()  # Ctrl-C came while the fold trained: no export starts
    try:
        with pytest.raises(stop.StopRequested, match="torch-int8"):
            build_variants(classifier, {k: v[:2] for k, v in batch.items()}, tmp_path, threads=1)
    finally:
        stop.reset()
    assert not list(tmp_path.glob("*.onnx"))
