"""One fold: fine-tune (or distil) on its training part, score on the held-out part. Plain numbers out.

:func:`compute_fold` knows nothing of MLflow or Prefect; :func:`distilbench.crossval.mlflow_runs.log_fold`
logs its :class:`FoldResult`, and :func:`distilbench.crossval.stage.run_fold` does one after the other.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from distilbench.config.settings import SHALLOW_KINDS
from distilbench.config.variants import variant_row_name
from distilbench.core.atomic import atomic_directories, atomic_directory, atomic_path
from distilbench.core.clock import wall_clock_ms
from distilbench.core.runtime import Runtime, resolve_runtime, seed_everything
from distilbench.crossval.plan import FoldJob
from distilbench.crossval.shallow import fit_shallow
from distilbench.crossval.variants import HeldOutFold, VariantResult, score_variants
from distilbench.data.prepared import PreparedDataset, load_prepared
from distilbench.models.pooling import load_classifier
from distilbench.models.zoo import build_model, count_parameters, load_tokenizer, make_student, save_model
from distilbench.training.decision import LabelDecision, every_text_labelled
from distilbench.training.distill import Distiller
from distilbench.training.distill_loss import teacher_confidence
from distilbench.training.evaluation import (
    Decision,
    HeldOutPredictions,
    confusion,
    fold_metrics,
    held_out_predictions,
    predict,
)
from distilbench.training.imbalance import Balance, loss_weights, train_balance
from distilbench.training.inference_speed import NOT_TIMED, SpeedResult
from distilbench.training.loop import (
    EpochRecord,
    Features,
    FineTuner,
    FitResult,
    encode,
    make_collator,
    subset,
)


@dataclass(frozen=True)
class FoldResult:
    """One fold's numbers, as computed; crossval.records names them for the results file and MLflow."""

    dataset: str
    model: str
    fold: int  # 1-based, as every name and table shows it (FoldJob.number; FoldJob.fold_index is 0-based)
    task: str
    metrics: dict[str, float]  # accuracy, macro_f1 (+ micro_f1, hamming_loss for multilabel)
    train_seconds: float
    eval_seconds: float
    train_examples: int
    eval_examples: int
    model_mb: float
    parameters: int
    best_epoch: int
    device: str
    autocast: str  # the autocast dtype, "None" for full fp32
    repeat: int = 1  # repeated k-fold: the partition this fold belongs to (1-based)
    threads: int | None = None  # torch.get_num_threads() while the fold ran
    history: tuple[EpochRecord, ...] = ()
    step_losses: tuple[tuple[int, float], ...] = ()  # (wall clock ms, training loss) per optimizer step
    started_ms: int = 0  # wall-clock start and end, ms since the epoch: the MLflow run's real span
    finished_ms: int = 0
    labels: tuple[str, ...] = ()  # class names, the confusion matrix's row and column order
    confusion: tuple[tuple[int, ...], ...] | None = None  # rows: true class, columns: predicted (multiclass)
    run_id: str | None = None  # the MLflow child run, once logged
    # a teacher's extra work for its students: logits on the training split and saving the fold model
    export_seconds: float = 0.0
    # warm batch-1 latency and batch-32 throughput, measured with the fold's other rows (crossval.timing)
    speed: SpeedResult = NOT_TIMED
    # a distilled student: how much its teacher's soft targets say (distill_loss.teacher_confidence)
    distill_stats: dict[str, float] = field(default_factory=dict)
    # a `compress: true` model: its int8 and ONNX variants scored on the same held-out fold
    variants: tuple[VariantResult, ...] = ()
    # a variant's row (variant_rows): the fp32 row it was made from, and its own scoring
    variant_of: str | None = None
    variant: VariantResult | None = None
    # its answer to each held-out row (row ids, truth, predicted, scores): paired per-example analyses
    predictions: HeldOutPredictions | None = None
    # imbalanced data (training.imbalance): the training part's ratio and whether the losses were weighted
    imbalance_ratio: float = 1.0
    class_weights: bool = False
    # multilabel: each label's decision threshold (chosen on the inner split) and the at-least-one rule
    thresholds: tuple[float, ...] = ()
    at_least_one: bool = False
    # what its answers on the held-out fold look like: how many distinct ones (1: a constant answer, e.g.
    # always the majority class) and the share of texts given no label (multilabel); report.degenerate
    # flags such a row. A compressed variant's row keeps its fp32 source's (they agree, crossval.variants)
    distinct_answers: int = 0
    empty_answers: float = 0.0

    @property
    def train_eval_seconds(self) -> float:
        """Processing time as the studies count it: training plus evaluation."""
        return self.train_seconds + self.eval_seconds

    @property
    def examples_per_second(self) -> float:
        return self.eval_examples / self.eval_seconds if self.eval_seconds else float("nan")

    def variant_rows(self) -> tuple[FoldResult, ...]:
        """Each compressed variant as a row of its own (`<model>+<variant>`).

        Its cost to make is the source's training plus building the variant; its eval time, size,
        speed and scores are its own. `variant_of` names the fp32 row it is paired with in the report.
        """
        return tuple(
            dataclasses.replace(
                self,
                model=variant_row_name(self.model, v.variant),
                variant_of=self.model,
                variant=v,
                metrics=v.metrics,
                train_seconds=self.train_seconds + v.build_seconds,
                eval_seconds=v.eval_seconds,
                export_seconds=0.0,
                model_mb=v.model_mb,
                speed=v.speed,
                distill_stats={},
                variants=(),
                predictions=v.predictions,
            )
            for v in self.variants
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


def load_fold_teacher(teacher: FoldJob) -> torch.nn.Module:
    if not (teacher.model_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"{teacher.label}: the fine-tuned fold teacher {teacher.model_dir} is missing; "
            f"delete {Path(teacher.cache_root) / 'prefect'} to retrain the teacher"
        )
    return load_classifier(teacher.model_dir)


def fold_teacher_model(job: FoldJob) -> torch.nn.Module | None:
    """The fine-tuned fold teacher, loaded once, when the student starts from it or the hidden-state term
    runs it at every step."""
    hidden_term = job.distill is not None and job.distill.hidden_weight > 0
    if job.teacher is None or not (job.starts_from_fold_teacher or hidden_term):
        return None
    return load_fold_teacher(job.teacher)


def initial_model(
    job: FoldJob, tokenizer, num_labels: int, multilabel: bool, teacher: torch.nn.Module | None
) -> torch.nn.Module:
    """A fresh classifier from its checkpoint, or for a distilled student (and its labels-only ablation)
    the fine-tuned fold teacher's copied layers, pooling and classifier. Call under a seeded RNG: a new
    head's weights are random."""
    if job.starts_from_fold_teacher:
        return make_student(teacher, job.model.layers)
    return build_model(job.model, tokenizer, num_labels, multilabel, vocabulary_from=job.tokenizer_from)


def fold_balance(job: FoldJob, data: PreparedDataset, rows: np.ndarray) -> Balance:
    """train.class_weights resolved on the rows a model trains on (training.imbalance's rule)."""
    return train_balance(job.train, data.targets[rows], len(data.labels), data.task == "multilabel")


def make_trainer(
    job: FoldJob,
    model,
    collate,
    runtime: Runtime,
    multilabel: bool,
    train_rows,
    teacher=None,
    class_weights: np.ndarray | None = None,
) -> FineTuner:
    common = dict(seed=job.fold_seed, multilabel=multilabel, label=job.label, class_weights=class_weights)
    if job.distill is None:  # labels only: every fine-tuned row, and the distillation ablation
        return FineTuner(model, collate, runtime, job.train, **common)
    return Distiller(
        model,
        collate,
        runtime,
        job.train,
        teacher_logits=read_train_logits(job, train_rows),
        distill=job.distill,
        teacher=teacher if job.distill.hidden_weight > 0 else None,
        layer_map=job.model.layers if job.starts_from_fold_teacher else None,
        **common,
    )


def fit_on_rows(
    job: FoldJob, data: PreparedDataset, runtime: Runtime, train_rows: np.ndarray
) -> tuple[FineTuner, FitResult, Features, np.ndarray]:
    """Fine-tune (or distil) the job's model on `train_rows`, its best epoch picked on an inner split
    carved from them: a fold's training part, or a refit's whole dataset. Returns the trainer, its fit,
    every row's features and the rows it trained on."""
    multilabel = data.task == "multilabel"
    fit_rows, inner_rows = inner_split(data, train_rows, job.train.inner_val_fraction, job.fold_seed)
    tokenizer = load_tokenizer(job.tokenizer_from)
    features = encode(tokenizer, data.texts, data.targets, job.train.max_length, job.train.truncation)
    seed_everything(job.fold_seed)  # the new classification head is drawn from this seed
    teacher = fold_teacher_model(job)
    model = initial_model(job, tokenizer, len(data.labels), multilabel, teacher)
    weights = None
    if fold_balance(job, data, train_rows).weighted:
        weights = loss_weights(data.targets[fit_rows], len(data.labels), multilabel)
    collate = make_collator(tokenizer)
    trainer = make_trainer(job, model, collate, runtime, multilabel, fit_rows, teacher, weights)
    fitted = trainer.fit(subset(features, fit_rows), subset(features, inner_rows) or None)
    return trainer, fitted, features, fit_rows


def compute_fold(job: FoldJob, device: str | None = None) -> FoldResult:
    """Fine-tune (or distil) on the fold's training part and score on the held-out fold.

    `device` is the one the caller claimed (e.g. "cuda:1"); None picks CUDA when there is one. A linear or
    static model is fitted by scikit-learn on the CPU instead (:func:`compute_shallow_fold`).
    """
    if job.model.kind in SHALLOW_KINDS:
        return compute_shallow_fold(job)
    started_ms = wall_clock_ms()
    data = load_prepared(Path(job.dataset_dir))
    runtime = resolve_runtime(job.train.precision, torch.device(device) if device else None)
    multilabel = data.task == "multilabel"
    train_rows, eval_rows = data.split(job.fold_index, job.repeat)
    trainer, fitted, features, fit_rows = fit_on_rows(job, data, runtime, train_rows)
    held_out = subset(features, eval_rows)
    logits, eval_seconds = trainer.timed_predict(held_out)
    model_mb = keep_for_timing(job, trainer.model)
    export_seconds = export_for_students(job, trainer, features, train_rows)
    variants = compressed_variants(job, trainer, held_out, eval_rows, data, logits)
    return held_out_result(
        job,
        data,
        eval_rows,
        logits,
        trainer.decision,
        balance=fold_balance(job, data, train_rows),
        started_ms=started_ms,
        train_seconds=fitted.seconds,
        eval_seconds=eval_seconds,
        train_examples=len(fit_rows),
        model_mb=model_mb,
        parameters=count_parameters(trainer.model),
        best_epoch=fitted.best_epoch,
        device=str(runtime.device),
        autocast=str(runtime.autocast_dtype),
        history=tuple(fitted.history),
        step_losses=tuple(fitted.step_losses),
        export_seconds=export_seconds,
        distill_stats=distill_stats(job, trainer, data.targets[fit_rows], multilabel),
        variants=variants,
    )


def compute_shallow_fold(job: FoldJob) -> FoldResult:
    """A linear or static model's fold: fitted on every training text, scored and timed on the held-out
    texts by the protocol of every other row (its featurisation, TF-IDF or embedding lookup, is timed with
    it: that is its model)."""
    started_ms = wall_clock_ms()
    data = load_prepared(Path(job.dataset_dir))
    train_rows, eval_rows = data.split(job.fold_index, job.repeat)
    fitted = fit_shallow(job, data, train_rows)
    texts = [data.texts[i] for i in eval_rows]
    start = time.perf_counter()
    logits = fitted.model.predict_logits(texts)
    eval_seconds = time.perf_counter() - start
    with atomic_directory(job.kept_shallow) as staging:  # kept for the fold's timing, whole or not at all
        model_mb = fitted.model.save(staging)
    distillation = (
        {"static_distillation_seconds": fitted.distillation_seconds} if job.model.kind == "static" else {}
    )
    return held_out_result(
        job,
        data,
        eval_rows,
        logits,
        shallow_decision(job, data, train_rows),
        balance=fitted.balance,
        started_ms=started_ms,
        train_seconds=fitted.seconds,
        eval_seconds=eval_seconds,
        train_examples=len(train_rows),
        model_mb=model_mb,
        parameters=fitted.model.parameters,
        best_epoch=1,
        device="cpu",
        autocast="None",
        distill_stats=distillation,
    )


def shallow_decision(job: FoldJob, data: PreparedDataset, train_rows: np.ndarray) -> Decision:
    """A linear or static multilabel model's decision: its own (each classifier's margin 0, sigmoid 0.5:
    it has no inner split to tune on), with the at-least-one rule when every training text has a label."""
    if data.task != "multilabel":
        return job.train.threshold
    labelled = every_text_labelled(data.targets[train_rows])
    return LabelDecision.fixed(0.5, len(data.labels), labelled)


def held_out_result(
    job: FoldJob,
    data: PreparedDataset,
    eval_rows: np.ndarray,
    logits: np.ndarray,
    decision: Decision,
    balance: Balance,
    started_ms: int,
    **numbers,
) -> FoldResult:
    """The fold's record: its scores on the held-out rows from `logits` (decided by `decision`), and the
    fit's own `numbers`."""
    multilabel = data.task == "multilabel"
    truth = data.targets[eval_rows]
    labels = decision if isinstance(decision, LabelDecision) else None
    answers = predict(logits, multilabel, decision)
    return FoldResult(
        dataset=job.dataset,
        model=job.model.name,
        fold=job.number,
        task=data.task,
        metrics=fold_metrics(logits, truth, multilabel, decision),
        imbalance_ratio=balance.ratio,
        class_weights=balance.weighted,
        thresholds=labels.thresholds if labels else (),
        at_least_one=bool(labels and labels.at_least_one),
        distinct_answers=len(np.unique(answers, axis=0)),
        empty_answers=float(np.mean(answers.sum(axis=1) == 0)) if multilabel else 0.0,
        eval_examples=len(eval_rows),
        repeat=job.repeat,
        threads=torch.get_num_threads(),
        started_ms=started_ms,
        finished_ms=wall_clock_ms(),
        labels=tuple(data.labels),
        confusion=None if multilabel else _as_tuples(confusion(logits, truth, len(data.labels))),
        predictions=held_out_predictions(eval_rows, logits, truth, multilabel, decision),
        **numbers,
    )


def compressed_variants(
    job: FoldJob,
    trainer: FineTuner,
    held_out: Features,
    eval_rows: np.ndarray,
    data: PreparedDataset,
    logits: np.ndarray,
) -> tuple[VariantResult, ...]:
    """The int8 and ONNX variants of the fold's model that its spec asks for (`compress`)."""
    if not job.model.compress:
        return ()
    multilabel = data.task == "multilabel"
    held_out_fold = HeldOutFold(
        held_out,
        data.targets[eval_rows],
        logits,
        trainer.collate,
        multilabel,
        trainer.decision,
        job.train.eval_batch_size,
        rows=eval_rows,
    )
    with atomic_directory(job.kept_variants) as staging:  # the ONNX files for the timing, whole or none
        return score_variants(trainer.model, held_out_fold, job.model.compress, staging)


def keep_for_timing(job: FoldJob, model: torch.nn.Module) -> float:
    """Save the fold's fp32 model as a user would ship it (safetensors), for its fold's timing
    (crossval.timing); returns its size on disk in MB. Written whole or not at all."""
    with atomic_directories([job.kept_model]) as (staging,):
        return save_model(model, staging)


def export_for_students(job: FoldJob, trainer: FineTuner, features: Features, train_rows) -> float:
    """What a teacher does for its distilled students, timed: their cost includes it."""
    if not (job.export_train_logits or job.export_model):
        return 0.0
    start = time.perf_counter()
    if job.export_train_logits:
        export_train_logits(job, trainer, features, train_rows)
    if job.export_model:
        # its students load it from here: a half-written copy (a full disk, a kill) must never be taken
        with atomic_directory(job.model_dir) as staging:
            copy_kept_model(job, trainer.model, staging)
    return time.perf_counter() - start


def copy_kept_model(job: FoldJob, model: torch.nn.Module, staging: Path) -> None:
    """The students' copy of the fold teacher: hard links to the files keep_for_timing just wrote (the
    same save_pretrained layout), so the model is written once; a plain save where links cannot be made
    (another file system) or nothing was kept."""
    if not job.kept_model.is_dir():
        model.save_pretrained(staging)
        return
    try:
        shutil.copytree(job.kept_model, staging, dirs_exist_ok=True, copy_function=os.link)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        model.save_pretrained(staging)


def distill_stats(job: FoldJob, trainer: FineTuner, targets: np.ndarray, multilabel: bool) -> dict:
    if not isinstance(trainer, Distiller) or multilabel:
        return {}
    return teacher_confidence(trainer.teacher_logits, torch.as_tensor(targets), job.distill.temperature)


def export_train_logits(job: FoldJob, trainer: FineTuner, features: Features, train_rows: np.ndarray) -> None:
    """Write the fine-tuned fold teacher's logits on the training split, once, for its students."""
    logits = trainer.predict_logits(subset(features, train_rows))
    with atomic_path(job.train_logits_path) as tmp:  # a student never reads a half-written file
        np.savez(tmp, rows=train_rows, logits=logits)


def _as_tuples(matrix: np.ndarray) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in row) for row in matrix)
