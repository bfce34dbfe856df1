"""A fold's compressed variants: the fine-tuned model as torch dynamic int8, ONNX fp32 and ONNX int8,
scored on the same held-out examples and timed the same way as every other row. Inference only: the
variants are made from the fold's trained weights, nothing is retrained.

The variants run on the CPU (dynamic quantization and the ONNX Runtime session here are CPU-only), with
ONNX Runtime given as many threads as torch has, so their latencies compare with the fp32 row's on a
CPU run. A fold trained on CUDA still scores its variants on the CPU: their latencies then compare with
each other, not with the GPU row.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from distilbench.core.stop import check_stop
from distilbench.models.compress import Variant, build_variants
from distilbench.training.evaluation import (
    Decision,
    HeldOutPredictions,
    fold_metrics,
    held_out_predictions,
    predict,
)
from distilbench.training.inference_speed import NOT_TIMED, SpeedResult
from distilbench.training.loop import Features, length_order

EXAMPLE_ROWS = 4  # the batch the ONNX graph is traced with (its axes stay dynamic)


@dataclass(frozen=True)
class VariantResult:
    """One compressed variant on one held-out fold."""

    variant: str  # one of COMPRESSED
    metrics: dict[str, float]  # as the fp32 row's: accuracy, macro_f1 (...)
    build_seconds: float  # quantizing or exporting it (its share of the build when they share a step)
    eval_seconds: float  # one pass over the held-out fold at the eval batch size
    model_mb: float  # on disk: the ONNX file, or torch.save of the int8 state dict
    agreement: float  # share of held-out predictions equal to the fp32 model's
    max_abs_logit_diff: float  # largest difference from the fp32 model's logits on the fold
    # McNemar's discordant pairs: examples only the variant gets right, and only the fp32 model
    only_variant_right: int = 0
    only_fp32_right: int = 0
    speed: SpeedResult = NOT_TIMED  # set when the fold's rows are timed together (crossval.timing)
    predictions: HeldOutPredictions | None = None  # its answer to each held-out row


@dataclass(frozen=True)
class HeldOutFold:
    """What a variant is scored on: the fold's held-out examples and its fp32 model's answers to them."""

    features: Features
    truth: np.ndarray
    fp32_logits: np.ndarray
    collate: Callable[[Features], dict]
    multilabel: bool
    threshold: Decision  # multilabel: the fp32 model's own decision (per-label thresholds)
    eval_batch_size: int
    rows: np.ndarray | None = None  # the held-out rows' positions in the prepared examples

    def metrics(self, logits: np.ndarray) -> dict[str, float]:
        return fold_metrics(logits, self.truth, self.multilabel, self.threshold)

    def agreement(self, logits: np.ndarray) -> float:
        """Share of examples predicted as the fp32 model predicts them (all labels, for multilabel)."""
        same = predict(logits, self.multilabel, self.threshold) == predict(
            self.fp32_logits, self.multilabel, self.threshold
        )
        return float(np.mean(same.all(axis=-1) if self.multilabel else same))

    def discordant(self, logits: np.ndarray) -> tuple[int, int]:
        """(examples right only as the variant predicts them, right only as the fp32 model does): the
        paired counts McNemar's test weighs; multilabel: every label right."""
        variant, fp32 = self.right(logits), self.right(self.fp32_logits)
        return int(np.sum(variant & ~fp32)), int(np.sum(~variant & fp32))

    def right(self, logits: np.ndarray) -> np.ndarray:
        same = predict(logits, self.multilabel, self.threshold) == self.truth
        return same.all(axis=-1) if self.multilabel else same


def score_variants(
    model: torch.nn.Module, fold: HeldOutFold, variants: tuple[str, ...], directory: Path
) -> tuple[VariantResult, ...]:
    """Build these compressed variants of `model` (their ONNX files in `directory`, kept for the fold's
    timing) and score each on the held-out fold against its fp32 logits."""
    cpu = torch.device("cpu")
    device = next(model.parameters()).device
    model.to(cpu).eval()
    try:
        start = time.perf_counter()
        example = fold.collate(fold.features[:EXAMPLE_ROWS])
        threads = torch.get_num_threads()
        built = build_variants(model, example, Path(directory), threads=threads, wanted=variants)
        build_seconds = (time.perf_counter() - start) / len(variants)
        return tuple(score_variant(v, fold, build_seconds) for v in built if v.name in variants)
    finally:
        model.to(device)


def score_variant(variant: Variant, fold: HeldOutFold, build_seconds: float) -> VariantResult:
    """One variant's scores on the fold (its speed is measured with its fold's other rows)."""
    predict_batch = functools.partial(predict_features, variant.predict_logits, fold.collate)
    order, size = length_order(fold.features), fold.eval_batch_size  # as FineTuner.predict_logits batches
    by_length = [fold.features[i] for i in order]
    name = variant.name
    start = time.perf_counter()
    batches = [scored(predict_batch, name, by_length[i : i + size]) for i in range(0, len(order), size)]
    eval_seconds = time.perf_counter() - start
    logits = np.concatenate(batches)
    logits[order] = logits.copy()  # back in the held-out rows' order
    only_variant_right, only_fp32_right = fold.discordant(logits)
    return VariantResult(
        variant=variant.name,
        metrics=fold.metrics(logits),
        build_seconds=build_seconds,
        eval_seconds=eval_seconds,
        model_mb=variant.size_mb,
        agreement=fold.agreement(logits),
        max_abs_logit_diff=float(np.max(np.abs(logits - fold.fp32_logits))),
        only_variant_right=only_variant_right,
        only_fp32_right=only_fp32_right,
        predictions=None
        if fold.rows is None
        else held_out_predictions(fold.rows, logits, fold.truth, fold.multilabel, fold.threshold),
    )


def scored(predict_batch: Callable, name: str, features: Features) -> np.ndarray:
    """One batch of a variant's scoring, after a stop check (a variant's held-out pass can take minutes)."""
    check_stop(f"scoring {name}")
    return predict_batch(features)


def predict_features(predict_logits: Callable, collate: Callable, features: Features) -> np.ndarray:
    """A variant's logits for features collated as training collates them: how it is scored and timed."""
    return predict_logits(collate(features))
