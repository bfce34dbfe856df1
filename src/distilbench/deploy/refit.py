"""Refit a zoo model on the whole prepared dataset with its cross-validation recipe, for serving.

The whole dataset is planned as one fold of one (`eval_folds=(0,)`):
:func:`distilbench.crossval.plan.plan_jobs` then builds the same :class:`~distilbench.crossval.plan.FoldJob`
a fold gets (effective training settings, the teacher job of a distilled student, what a teacher exports
for it), with fold 0 so the seed is `cfg.seed` itself. Training reuses the fold's own steps
(:mod:`distilbench.crossval.fold`): the inner validation split carved from the rows trained on picks the
best epoch and stops early, and a distilled student first gets its teacher refitted on the same rows, then
that teacher's logits and copied layers.

Nothing is held out, so there is no score here: the cross-validated one is the estimate.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from distilbench.config.settings import REFIT_WHOLE, SHALLOW_KINDS, Config
from distilbench.core.errors import ConfigError
from distilbench.core.runtime import resolve_runtime
from distilbench.crossval.fold import (
    export_for_students,
    fit_on_rows,
    shallow_decision,
)
from distilbench.crossval.plan import FoldJob, ParentSpec, PreparedRef, plan_jobs, training_order
from distilbench.crossval.shallow import fit_shallow
from distilbench.data.prepared import PreparedDataset, load_prepared
from distilbench.models.shallow import ShallowModel
from distilbench.models.zoo import load_tokenizer
from distilbench.training.decision import LabelDecision
from distilbench.training.evaluation import Decision
from distilbench.training.loop import FineTuner

logger = logging.getLogger(__name__)

WHOLE = 0  # the one "fold" of a refit: every row trains, fold_seed is cfg.seed


@dataclass(frozen=True)
class Refit:
    """A model trained on every row, and what it took; or (select.refit fold) fold 1's model as loaded."""

    model: torch.nn.Module | ShallowModel
    tokenizer: object | None  # the model's tokenizer, saved beside it (a linear or static model has none)
    labels: tuple[str, ...]
    multilabel: bool
    max_length: int
    kind: str  # the zoo model's kind: how it is saved and served
    truncation: str  # which tokens of a longer text the transformer reads
    seconds: float  # training, including a distilled student's teacher refit and its exports
    examples: int  # rows trained on (the rest of the dataset is the inner validation split)
    best_epoch: int
    example_texts: tuple[str, ...]  # a few of the dataset's texts, e.g. to export ONNX from
    # multilabel: the decision served with it (per-label thresholds from the refit's inner split)
    decision: LabelDecision | None = None
    # select.refit: "whole" (trained here on every row) or "fold" (fold 1's model, loaded from the fold
    # cache: deploy.fold_model; `seconds` is then the load, `examples` the fold's training rows)
    refit: str = REFIT_WHOLE


def model_jobs(
    cfg: Config, data: PreparedRef, model: str, tracking_uri: str, cache_root: Path
) -> list[FoldJob]:
    """`model`'s jobs on `data` as :func:`~distilbench.crossval.plan.plan_jobs` plans them (fold teachers
    included), under MLflow parents that are never opened: a job's cache key does not depend on them."""
    if model not in {m.name for m in cfg.zoo.models}:
        raise ConfigError(f"refit: model {model!r} is not in the zoo {cfg.zoo.name}")
    parents = {
        (data.name, spec.name): ParentSpec(f"refit-{spec.name}", data.name, spec.name, "", ())
        for spec in training_order(cfg.zoo.models)
    }
    jobs = [j for j in plan_jobs(cfg, [data], parents, tracking_uri, cache_root) if j.model.name == model]
    if not jobs:
        raise ConfigError(f"refit: model {model!r} does not run on {data.name} (its `datasets`)")
    return jobs


def refit_job(cfg: Config, dataset_dir: Path, model: str, tracking_uri: str, cache_root: Path) -> FoldJob:
    """The FoldJob that trains `model` on the whole dataset; its fold teacher (if any) is planned too.

    Teacher logits and the fine-tuned teacher go under `cache_root` (a refit's own folder: fold 0 of the
    whole dataset would otherwise share a cache key with cross-validation's fold 1).
    """
    data = dataclasses.replace(PreparedRef.read(dataset_dir), eval_folds=(WHOLE,), repeats=1)
    (job,) = model_jobs(cfg, data, model, tracking_uri, cache_root)
    # the model served exports nothing: no student of it is refitted here
    return dataclasses.replace(job, export_train_logits=False, export_model=False)


def refit(cfg: Config, dataset_dir: Path, model: str, tracking_uri: str) -> Refit:
    """Train `model` (and first its teacher, when it is distilled) on every row of the dataset."""
    with tempfile.TemporaryDirectory(prefix="distilbench-refit-") as cache_root:
        job = refit_job(cfg, dataset_dir, model, tracking_uri, Path(cache_root))
        data = load_prepared(Path(job.dataset_dir))
        rows = np.arange(len(data.texts))
        if job.model.kind in SHALLOW_KINDS:
            fitted = fit_shallow(job, data, rows)
            decision = shallow_decision(job, data, rows)
            return refitted(job, data, fitted.model, None, fitted.seconds, len(rows), 1, decision)
        start = time.perf_counter()
        if job.teacher is not None:
            fit_whole(job.teacher, data)  # writes the logits (and model) its student reads
        trainer, best_epoch, examples = fit_whole(job, data)
        seconds = time.perf_counter() - start
    tokenizer = load_tokenizer(job.tokenizer_from)
    model = trainer.model.cpu().eval()
    return refitted(job, data, model, tokenizer, seconds, examples, best_epoch, trainer.decision)


def refitted(
    job: FoldJob,
    data: PreparedDataset,
    model,
    tokenizer,
    seconds: float,
    examples: int,
    best_epoch: int,
    decision: Decision = 0.5,
    refit: str = REFIT_WHOLE,
) -> Refit:
    return Refit(
        refit=refit,
        decision=decision if isinstance(decision, LabelDecision) else None,
        model=model,
        tokenizer=tokenizer,
        labels=tuple(data.labels),
        multilabel=data.task == "multilabel",
        max_length=job.train.max_length,
        kind=job.model.kind,
        truncation=job.train.truncation,
        seconds=seconds,
        examples=examples,
        best_epoch=best_epoch,
        example_texts=tuple(data.texts[:8]),
    )


def fit_whole(job: FoldJob, data: PreparedDataset) -> tuple[FineTuner, int, int]:
    """One fold's training steps (fold.compute_fold's) with every row as the training part; then what a
    teacher exports for its student. Returns the trainer, the best epoch and the rows trained on."""
    logger.info("%s: refitting on all %d rows", job.label, len(data.texts))
    rows = np.arange(len(data.texts))
    runtime = resolve_runtime(job.train.precision)
    trainer, fitted, features, fit_rows = fit_on_rows(job, data, runtime, rows)
    export_for_students(job, trainer, features, rows)
    return trainer, fitted.best_epoch, len(fit_rows)
