"""Cross-validation: plan the fold jobs, run one fold, and aggregate folds into parent runs.

A :class:`FoldJob` is everything that decides one fold's result; its `cache_key` hashes exactly that
(data, fold, model spec, training and distillation settings, seed), so an interrupted run redoes only the
folds that did not finish, and an edited training parameter redoes all of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from transformers import AutoModelForSequenceClassification

from distilbench.config import DistillConfig, ModelSpec, TrainConfig
from distilbench.data.prepared import PreparedDataset, load_prepared
from distilbench.evaluation import confusion, fold_metrics
from distilbench.models.zoo import build_model, count_parameters, load_tokenizer, save_model
from distilbench.runtime import resolve_runtime, seed_everything
from distilbench.tracking import fold_run
from distilbench.training.distill import Distiller
from distilbench.training.loop import EpochRecord, FineTuner, FitSettings, encode, make_collator, subset

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when a code change alters what a fold computes, to invalidate cached folds


def stable_hash(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FoldJob:
    dataset: str
    dataset_dir: str
    data_hash: str
    fold: int
    n_folds: int
    model: ModelSpec
    tokenizer_from: ModelSpec  # the model itself, or for a CNN the zoo teacher whose vocabulary it uses
    train: TrainConfig
    seed: int
    tracking_uri: str
    parent_run_id: str
    teacher: FoldJob | None = None  # the fine-tuned fold teacher this model distils from
    distill: DistillConfig | None = None
    export_train_logits: bool = False  # a distilled student needs this model's logits on the training split
    export_model: bool = False  # ... and its fine-tuned weights, for DistilBERT's hidden-state cosine loss
    cache_root: str = ".cache"

    @property
    def cache_key(self) -> str:
        """Hash of what decides the result; where it runs and where it is logged are left out."""
        return stable_hash(
            {
                "version": CACHE_VERSION,
                "data": self.data_hash,
                "fold": self.fold,
                "model": asdict(self.model),
                "tokenizer": asdict(self.tokenizer_from),
                "train": asdict(self.train),
                "seed": self.seed,
                "export_logits": self.export_train_logits,
                "teacher": self.teacher.cache_key if self.teacher else None,
                "distill": asdict(self.distill) if self.distill else None,
                # only when set, so turning the cosine loss on does not invalidate unrelated cached folds
                **({"export_model": True} if self.export_model else {}),
            }
        )

    @property
    def label(self) -> str:
        return f"{self.dataset} | {self.model.name} | fold {self.fold + 1}/{self.n_folds}"

    @property
    def train_logits_path(self) -> Path:
        return Path(self.cache_root) / "teacher_logits" / f"{self.cache_key}.npz"

    @property
    def model_dir(self) -> Path:
        return Path(self.cache_root) / "fold_teachers" / self.cache_key


@dataclass(frozen=True)
class FoldResult:
    dataset: str
    model: str
    fold: int
    task: str
    metrics: dict[str, float]  # accuracy, macro_f1 (+ micro_f1, hamming_loss for multilabel)
    train_seconds: float
    eval_seconds: float
    eval_examples: int
    model_mb: float
    parameters: int
    best_epoch: int
    run_id: str

    @property
    def examples_per_second(self) -> float:
        return self.eval_examples / self.eval_seconds if self.eval_seconds else float("nan")

    def as_record(self) -> dict:
        return {**asdict(self), "examples_per_second": self.examples_per_second}


# ---------------------------------------------------------------------------------------------------------
# one fold


def fit_settings(job: FoldJob) -> FitSettings:
    spec, train = job.model, job.train
    default_lr = train.cnn_learning_rate if spec.kind == "cnn" else train.learning_rate
    return FitSettings(
        epochs=spec.epochs or train.epochs,
        batch_size=train.batch_size,
        eval_batch_size=train.eval_batch_size,
        learning_rate=spec.learning_rate or default_lr,
        weight_decay=train.weight_decay,
        warmup_ratio=train.warmup_ratio,
        multilabel=False,
        threshold=train.threshold,
        seed=job.seed + job.fold,
        max_steps=train.max_steps,
    )


def inner_split(data: PreparedDataset, rows: np.ndarray, fraction: float, seed: int):
    """Carve an inner validation split from the fold's training rows (never from the held-out fold)."""
    if fraction <= 0:
        return rows, rows[:0]
    stratify = None if data.task == "multilabel" else data.targets[rows]
    try:
        return tuple(train_test_split(rows, test_size=fraction, random_state=seed, stratify=stratify))
    except ValueError:  # a class too rare to stratify on in a tiny dataset: fall back to a seeded shuffle
        return tuple(train_test_split(rows, test_size=fraction, random_state=seed))


def read_train_logits(job: FoldJob, rows: np.ndarray) -> np.ndarray:
    """The fold teacher's logits for these dataset rows, from the file its fold task wrote once."""
    path = job.teacher.train_logits_path
    if not path.is_file():
        raise FileNotFoundError(
            f"{job.label}: the fold teacher's training logits {path} are missing; "
            f"delete {Path(job.cache_root) / 'prefect'} to retrain the teacher"
        )
    saved = np.load(path)
    position = {row: i for i, row in enumerate(saved["rows"])}
    return saved["logits"][[position[r] for r in rows]]


def make_trainer(job: FoldJob, model, collate, runtime, settings, train_rows, run) -> FineTuner:
    def log_epoch(record: EpochRecord) -> None:
        metrics = {"epoch_train_loss": record.train_loss}
        if record.inner_val_score is not None:
            metrics["epoch_inner_val_score"] = record.inner_val_score
        run.log_metrics(metrics, step=record.epoch)

    common = dict(label=job.label, on_epoch=log_epoch)
    if job.teacher is None:
        return FineTuner(model, collate, runtime, settings, **common)
    return Distiller(
        model,
        collate,
        runtime,
        settings,
        teacher_logits=read_train_logits(job, train_rows),
        distill=job.distill,
        teacher=load_fold_teacher(job.teacher) if job.teacher.export_model else None,
        **common,
    )


def load_fold_teacher(teacher: FoldJob) -> torch.nn.Module:
    if not (teacher.model_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"{teacher.label}: the fine-tuned fold teacher {teacher.model_dir} is missing"
        )
    return AutoModelForSequenceClassification.from_pretrained(teacher.model_dir)


def run_fold(job: FoldJob) -> FoldResult:
    """Fine-tune (or distil) on the fold's training part, score on the held-out fold, log one child run."""
    data = load_prepared(Path(job.dataset_dir))
    runtime = resolve_runtime(job.train.precision)
    settings = dataclasses.replace(fit_settings(job), multilabel=data.task == "multilabel")
    train_rows, eval_rows = data.split(job.fold)
    fit_rows, inner_rows = inner_split(data, train_rows, job.train.inner_val_fraction, settings.seed)

    tokenizer = load_tokenizer(job.tokenizer_from)
    features = encode(tokenizer, data.texts, data.targets, job.train.max_length)
    seed_everything(settings.seed)  # the new classification head is drawn from this seed
    model = build_model(job.model, tokenizer, len(data.labels), settings.multilabel)

    tags = {"dataset": job.dataset, "model": job.model.name, "fold": str(job.fold)}
    with fold_run(job.tracking_uri, job.parent_run_id, job.cache_key, f"fold-{job.fold}", tags) as run:
        run.log_params(fold_params(job, data, settings, runtime, len(fit_rows), len(eval_rows)))
        trainer = make_trainer(job, model, make_collator(tokenizer), runtime, settings, fit_rows, run)
        fitted = trainer.fit(subset(features, fit_rows), subset(features, inner_rows) or None)
        logits, eval_seconds = trainer.timed_predict(subset(features, eval_rows))
        metrics = fold_metrics(logits, data.targets[eval_rows], settings.multilabel, settings.threshold)
        if not settings.multilabel:
            matrix = confusion(logits, data.targets[eval_rows], len(data.labels))
            run.log_dict(
                {"labels": list(data.labels), "rows_true_columns_predicted": matrix.tolist()},
                "confusion_matrix.json",
            )
        if job.export_train_logits:
            export_train_logits(job, trainer, features, train_rows)
        if job.export_model:
            trainer.model.save_pretrained(job.model_dir)
        with tempfile.TemporaryDirectory() as tmp:
            model_mb = save_model(trainer.model, Path(tmp))
        result = FoldResult(
            dataset=job.dataset,
            model=job.model.name,
            fold=job.fold,
            task=data.task,
            metrics=metrics,
            train_seconds=fitted.seconds,
            eval_seconds=eval_seconds,
            eval_examples=len(eval_rows),
            model_mb=model_mb,
            parameters=count_parameters(trainer.model),
            best_epoch=fitted.best_epoch,
            run_id=run.run_id,
        )
        run.log_metrics(
            {
                **metrics,
                "train_seconds": result.train_seconds,
                "eval_seconds": eval_seconds,
                "model_mb": model_mb,
                "parameters": result.parameters,
                "fold": job.fold,
                "best_epoch": fitted.best_epoch,
                "examples_per_second": result.examples_per_second,
            }
        )
    log.info(
        "%s: %s in %.1f s train + %.1f s eval",
        job.label,
        ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
        fitted.seconds,
        eval_seconds,
    )
    return result


def export_train_logits(job: FoldJob, trainer: FineTuner, features, train_rows: np.ndarray) -> None:
    """Write the fine-tuned fold teacher's logits on the training split, once, for its students."""
    logits = trainer.predict_logits(subset(features, train_rows))
    path = job.train_logits_path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, rows=train_rows, logits=logits)
    tmp.replace(path)  # atomic: a student never reads a half-written file


def fold_params(
    job: FoldJob, data: PreparedDataset, settings: FitSettings, runtime, n_train: int, n_eval: int
) -> dict:
    return {
        "dataset": job.dataset,
        "model": job.model.name,
        "fold": job.fold,
        "data_hash": job.data_hash,
        "task": data.task,
        "model_kind": job.model.kind,
        "model_source": job.model.source,
        "model_id": job.model.id,
        "layers": job.model.layers,
        "distil_from": job.model.distil_from,
        "epochs": settings.epochs,
        "learning_rate": settings.learning_rate,
        "batch_size": settings.batch_size,
        "max_length": job.train.max_length,
        "seed": settings.seed,
        "device": str(runtime.device),
        "autocast": str(runtime.autocast_dtype),
        "train_examples": n_train,
        "eval_examples": n_eval,
        "distill": json.dumps(asdict(job.distill)) if job.distill else None,
        "cache_key": job.cache_key,
    }
