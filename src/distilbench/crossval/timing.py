"""A fold's rows timed together: in one process, interleaved in rounds.

Timing each model right after its own training put minutes, and whatever else the shared machine did in
them, between the rows a speed-up compares: the teacher's batch-1 p50 was 13.7 ms in one fresh-clone run
and 10.7 ms in the next, and two copies of the same ONNX graph differed by 15-17% within one run. So a fold
task only keeps what its model serves with (FoldJob.kept_dir: the fp32 module, its compressed variants'
ONNX files, a shallow model's folder). Once every row of a fold is trained, :func:`time_fold` loads them
all into one process and times them round by round (training.inference_speed.measure_interleaved), on the
same held-out examples, each in its own input form.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from distilbench.config.settings import SHALLOW_KINDS
from distilbench.config.variants import ONNX_FILES, TORCH_INT8, variant_row_name
from distilbench.core.runtime import Runtime, resolve_runtime
from distilbench.crossval.code_digest import timing_code_digest
from distilbench.crossval.fold import FoldResult
from distilbench.crossval.plan import FoldJob, stable_hash
from distilbench.crossval.variants import predict_features
from distilbench.data.prepared import PreparedDataset, load_prepared
from distilbench.models.compress import OnnxClassifier, quantize_int8, torch_logits
from distilbench.models.pooling import load_classifier
from distilbench.models.shallow import ShallowModel
from distilbench.models.zoo import load_tokenizer
from distilbench.training.inference_speed import THROUGHPUT_EXAMPLES, TimedRow, measure_interleaved
from distilbench.training.loop import Features, encode, make_collator, model_inputs

logger = logging.getLogger(__name__)


def fold_groups(jobs: Sequence[FoldJob]) -> dict[tuple[str, int, int], list[FoldJob]]:
    """The plan's jobs by fold (dataset, repeat, fold), in the plan's order: each group is timed together."""
    groups: dict[tuple[str, int, int], list[FoldJob]] = {}
    for job in jobs:
        groups.setdefault((job.dataset, job.repeat, job.fold_index), []).append(job)
    return groups


def timing_key(jobs: Sequence[FoldJob]) -> str:
    """What a fold's timing depends on: its rows' folds and the timing code. A rerun with neither changed
    keeps the speeds it measured, so a resumed study does not time (or log) a fold twice."""
    return stable_hash({"folds": [job.cache_key for job in jobs], "code": timing_code_digest()})


def timing_task_name(job: FoldJob) -> str:
    """The Prefect task run that times a fold's rows: `<dataset>-fold3-timing` (`...-repeat2-fold3-...`)."""
    fold = f"repeat{job.repeat}-fold{job.number}" if job.repeated else f"fold{job.number}"
    return f"{job.dataset}-{fold}-timing"


def time_fold(jobs: Sequence[FoldJob], results: Sequence[FoldResult]) -> list[FoldResult]:
    """Every row of one fold (its models and their compressed variants) timed together; the results with
    their speeds. A row whose kept files are gone (a cleaned cache) keeps the speed it had."""
    data = load_prepared(Path(jobs[0].dataset_dir))  # one fold, one dataset: read once for all its rows
    rows = [row for job, result in zip(jobs, results, strict=True) for row in timed_rows(job, result, data)]
    speeds = measure_interleaved(rows) if rows else {}
    return [with_speeds(result, speeds) for result in results]


def with_speeds(result: FoldResult, speeds: dict) -> FoldResult:
    variants = tuple(
        dataclasses.replace(v, speed=speeds.get(variant_row_name(result.model, v.variant), v.speed))
        for v in result.variants
    )
    return dataclasses.replace(result, speed=speeds.get(result.model, result.speed), variants=variants)


def timed_rows(job: FoldJob, result: FoldResult, data: PreparedDataset) -> list[TimedRow]:
    """The fold's model, and each of its compressed variants, ready to time on its held-out examples."""
    if job.model.kind in SHALLOW_KINDS:
        if not job.kept_shallow.is_dir():
            return _missing(job, job.kept_shallow)
        model = ShallowModel.load(job.kept_shallow)
        return [TimedRow(result.model, model.predict_logits, held_out_texts(job, data))]
    if not job.kept_model.is_dir():
        return _missing(job, job.kept_model)
    runtime = resolve_runtime(job.train.precision, torch.device(result.device))
    model = load_classifier(job.kept_model).to(runtime.device).eval()
    tokenizer = load_tokenizer(job.tokenizer_from)
    collate = make_collator(tokenizer)
    features = held_out_features(job, data, tokenizer)
    rows = [TimedRow(result.model, fp32_predictor(model, collate, runtime), features, _synchronizer(runtime))]
    for variant in result.variants:
        predict = variant_predictor(job, model, variant.variant)
        name = variant_row_name(result.model, variant.variant)
        rows.append(TimedRow(name, functools.partial(predict_features, predict, collate), features))
    return rows


def fp32_predictor(
    model: torch.nn.Module, collate: Callable, runtime: Runtime
) -> Callable[[Features], object]:
    """What a fold's trainer times (FineTuner.predict_batch): collate, move, forward under its autocast."""

    def predict(features: Features) -> torch.Tensor:
        batch = {k: v.to(runtime.device) for k, v in collate(features).items()}
        with runtime.autocast():
            return model(**model_inputs(batch)).logits

    return predict


def variant_predictor(job: FoldJob, model: torch.nn.Module, variant: str) -> Callable[[dict], np.ndarray]:
    """A compressed variant, on the CPU as it was scored (crossval.variants): torch int8 is quantized again
    from the fp32 weights (deterministic), an ONNX variant is read from the file its fold task kept."""
    if variant == TORCH_INT8:
        int8 = quantize_int8(model)  # a CPU copy: the fp32 row stays on its device
        return lambda batch: torch_logits(int8, batch)
    return OnnxClassifier(job.kept_variants / ONNX_FILES[variant], torch.get_num_threads()).predict_logits


def held_out_rows(job: FoldJob, data: PreparedDataset) -> np.ndarray:
    _, eval_rows = data.split(job.fold_index, job.repeat)
    return eval_rows[:THROUGHPUT_EXAMPLES]  # the examples the protocol times


def held_out_features(job: FoldJob, data: PreparedDataset, tokenizer) -> Features:
    """The first held-out examples, tokenized as the fold's model read them."""
    rows = held_out_rows(job, data)
    texts = [data.texts[i] for i in rows]
    return encode(tokenizer, texts, data.targets[rows], job.train.max_length, job.train.truncation)


def held_out_texts(job: FoldJob, data: PreparedDataset) -> list[str]:
    return [data.texts[i] for i in held_out_rows(job, data)]


def _synchronizer(runtime: Runtime) -> Callable[[], None]:
    if runtime.device.type == "cuda":  # CUDA runs asynchronously: wait before a clock is read
        return lambda: torch.cuda.synchronize(runtime.device)
    return lambda: None


def _missing(job: FoldJob, path: Path) -> list[TimedRow]:
    logger.warning("%s: %s is gone (a cleaned cache?); its fold's timing leaves it out", job.label, path)
    return []
