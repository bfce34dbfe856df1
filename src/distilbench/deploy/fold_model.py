"""select.refit fold: serve fold 1's model as cross-validation trained it, instead of refitting.

Refitting the champion retrains it (and a distilled one's teacher) on every row: on the quickstart, whose
champion is the teacher's int8 copy, that was ~4 minutes of the 20-minute budget on 2 cores. Every fold
task already keeps the model it trained, for its fold's timing (FoldJob.kept_dir). Planned as crossval
plans it (same config, same prepared data, same cache root), fold 1 of repeat 1 has the same cache key,
so its kept folder is found without training anything; what results/crossval.json recorded of that fold
(its training rows, best epoch, multilabel thresholds, held-out score) comes with it.

The result is the :class:`~distilbench.deploy.refit.Refit` a refit returns, so the select stage builds the
served variant, registers it and writes champion.json by one code path whatever the mode.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from distilbench.config.settings import REFIT_FOLD, SHALLOW_KINDS, Config
from distilbench.core.errors import DataError
from distilbench.crossval.plan import FoldJob, PreparedRef
from distilbench.data.prepared import load_prepared
from distilbench.deploy.refit import Refit, model_jobs, refitted
from distilbench.models.pooling import load_classifier
from distilbench.models.shallow import ShallowModel
from distilbench.models.zoo import load_tokenizer
from distilbench.report.choice import Choice
from distilbench.training.decision import LabelDecision

FOLD, REPEAT = 1, 1  # the fold served: the first of the first repeat, which every study has
RERUN = "rerun crossval, or set select.refit: whole"


@dataclass(frozen=True)
class CrossvalFolds:
    """Where cross-validation left its folds: its results file (read) and its fold cache."""

    results: Mapping  # results/crossval.json
    results_path: Path
    cache_root: Path  # crossval's (ProjectPaths.cache), where the fold tasks kept their models
    tracking_uri: str  # planned jobs carry it; nothing is logged from here


@dataclass(frozen=True)
class KeptFold:
    """Fold 1 of a report row as cross-validation left it: the job naming its kept model, and what
    results/crossval.json recorded of it."""

    job: FoldJob
    row: str  # the report row (a compressed variant's `<model>+<variant>` keeps its fp32 model's fold)
    train_examples: int
    best_epoch: int
    score: float  # its held-out score on the fold, by the metric the dataset's rows were ranked by
    decision: LabelDecision | None  # multilabel: the fold's per-label thresholds

    @property
    def folder(self) -> Path:
        """Where the fold task kept the model (crossval.fold.keep_for_timing, compute_shallow_fold)."""
        return self.job.kept_shallow if self.job.model.kind in SHALLOW_KINDS else self.job.kept_model


def fold_job(cfg: Config, dataset_dir: Path, model: str, tracking_uri: str, cache_root: Path) -> FoldJob:
    """`model`'s fold 1 (repeat 1) job on the dataset, planned as crossval plans it (crossval.stage:
    every fold of the prepared data, under the fold cache `cache_root`), so its cache key is the one that
    fold was trained under."""
    jobs = model_jobs(cfg, PreparedRef.read(dataset_dir), model, tracking_uri, cache_root)
    return next(j for j in jobs if (j.repeat, j.number) == (REPEAT, FOLD))


def recorded_fold(results: Mapping, results_path: Path, dataset: str, row: str) -> Mapping:
    """The row's fold 1 (repeat 1) in results/crossval.json's `folds`."""
    wanted = (dataset, row, REPEAT, FOLD)
    for record in results.get("folds", ()):
        if (record["dataset"], record["model"], record["repeat"], record["fold"]) == wanted:
            return record
    raise DataError(f"{results_path}: no fold {FOLD} of {row!r} on {dataset!r}; {RERUN}")


def recorded_decision(record: Mapping, results_path: Path) -> LabelDecision | None:
    """A multilabel fold's decision, rebuilt from its record; None for a single-label one."""
    if record["task"] != "multilabel":
        return None
    if not record.get("thresholds"):  # a results file written before the thresholds were recorded
        raise DataError(
            f"{results_path}: fold {FOLD} of {record['model']!r} on {record['dataset']!r} has no "
            f"thresholds; {RERUN}"
        )
    return LabelDecision(tuple(float(t) for t in record["thresholds"]), bool(record["at_least_one"]))


def kept_fold(cfg: Config, folds: CrossvalFolds, dataset_dir: Path, choice: Choice) -> KeptFold:
    """Fold 1 of the chosen row: its record and its kept model's folder, which must exist (a cleaned
    cache, or a fold trained under other settings, is one line naming the folder)."""
    job = fold_job(cfg, dataset_dir, choice.model, folds.tracking_uri, folds.cache_root)
    record = recorded_fold(folds.results, folds.results_path, job.dataset, choice.row)
    kept = KeptFold(
        job,
        choice.row,
        train_examples=int(record["train_examples"]),
        best_epoch=int(record["best_epoch"]),
        score=float(record[choice.metric]),
        decision=recorded_decision(record, folds.results_path),
    )
    if not kept.folder.is_dir():
        raise DataError(f"{job.label}: its kept model {kept.folder} is missing; {RERUN}")
    return kept


def load_kept(kept: KeptFold) -> Refit:
    """The fold's model from the fold cache, as a Refit of the fold's training rows; nothing trains."""
    job = kept.job
    data = load_prepared(Path(job.dataset_dir))
    start = time.perf_counter()
    if job.model.kind in SHALLOW_KINDS:
        model, tokenizer = ShallowModel.load(kept.folder), None
    else:
        model, tokenizer = load_classifier(kept.folder).eval(), load_tokenizer(job.tokenizer_from)
    seconds = time.perf_counter() - start
    decision = kept.decision or job.train.threshold
    return refitted(
        job, data, model, tokenizer, seconds, kept.train_examples, kept.best_epoch, decision, refit=REFIT_FOLD
    )
