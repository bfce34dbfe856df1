"""Fold jobs: everything that decides one fold's result, and the plan of all of them.

A :class:`FoldJob`'s `cache_key` hashes exactly what decides its result (the rows it uses and the ones
it holds out, its repeat, model spec, the model's effective training and distillation settings, seed,
and the :class:`Fingerprint`: the fold code's digest, the versions of the libraries that compute its
numbers, device type, precision, packaged weights' version), so an interrupted run redoes only the folds
that did not finish, an edited training parameter or fold code redoes all of them, and one more repeat
trains only its own folds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from distilbench.config.settings import Config, DistillConfig, ModelSpec, TrainConfig, ZooConfig
from distilbench.config.variants import variant_row_name
from distilbench.core.errors import ConfigError
from distilbench.core.paths import META_FILE
from distilbench.crossval.fingerprint import Fingerprint, fingerprint
from distilbench.data.prepared import read_meta, split_hashes, verified_hash
from distilbench.models.zoo import tokenizer_spec

# an edit to the fold code invalidates cached folds by itself (Fingerprint.code); bump this when what
# decides a fold lies outside that code, e.g. a change of the cache layout (5: FoldResult embeds its
# SpeedResult; 6: a fold's own split in its key, not the file's hash, and its held-out predictions kept)
CACHE_VERSION = 6


def stable_hash(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PreparedRef:
    """What planning needs of a prepared dataset: read from its meta file, not the examples."""

    name: str
    directory: Path
    data_hash: str
    eval_folds: tuple[int, ...]
    task: str
    n_examples: int
    protocol: str
    note: str | None  # e.g. rotten_tomatoes: "SST-2 proxy: ..."
    repeats: int = 1  # repeated k-fold: each fold is evaluated once per repeat
    # (repeat, fold, digest of the rows it uses and the ones it holds out): data.prepared.split_hashes
    splits: tuple[tuple[int, int, str], ...] = ()

    @property
    def repeat_numbers(self) -> range:
        return range(1, self.repeats + 1)

    def split_hash(self, repeat: int, fold: int) -> str:
        """What a fold's key holds of the data: its own split, so adding a repeat keeps the others' keys.
        A ref made by hand without its splits (tests) stands in the file's hash and the fold's place."""
        stored = {(r, f): digest for r, f, digest in self.splits}
        return stored.get((repeat, fold)) or stable_hash([self.data_hash, repeat, fold])

    @classmethod
    def read(cls, directory: Path) -> PreparedRef:
        meta = read_meta(directory)
        eval_folds = tuple(meta["eval_folds"])
        splits = split_hashes(directory, meta["repeats"], eval_folds)
        return cls(
            meta["name"],
            directory,
            verified_hash(directory, meta),  # an edit since prepare fails here, before any training
            eval_folds,
            meta["task"],
            meta["n_examples"],
            meta["protocol"],
            meta.get("note"),
            meta["repeats"],
            tuple((r, f, digest) for (r, f), digest in sorted(splits.items())),
        )


def prepared_datasets(prepared_root: Path) -> list[PreparedRef]:
    if not prepared_root.is_dir():
        raise ConfigError(f"{prepared_root}: no such folder; run the prepare stage first")
    # dot-folders are prepare's temporary writes (an interrupted one may linger): never data to train on
    folders = [d for d in sorted(prepared_root.iterdir()) if not d.name.startswith(".")]
    refs = [PreparedRef.read(d) for d in folders if (d / META_FILE).is_file()]
    if not refs:
        raise ConfigError(f"{prepared_root}: no prepared dataset; run the prepare stage first")
    return refs


@dataclass(frozen=True)
class ParentSpec:
    """One MLflow parent run (dataset x model): created by its first logged fold, found again by `key`.

    Created lazily so that its span in the MLflow UI is its own model's work, not the whole study's.
    """

    key: str  # parent_key(): a rerun with the same inputs reuses the run
    dataset: str
    model: str
    experiment_id: str
    params: tuple[tuple[str, str], ...]
    # the stage run that planned it (stage.plan_crossval), shipped to the workers with each fold: a fold
    # that logs after its attempt stopped leaves the parent closed (mlflow_runs.open_parent_run). In no
    # key: a rerun is another attempt that reuses the same run and the same cached folds
    attempt: str = ""

    @property
    def name(self) -> str:
        return f"{self.dataset} / {self.model}"


@dataclass(frozen=True)
class FoldJob:
    dataset: str
    dataset_dir: str
    data_hash: str  # the prepared file's, as MLflow shows it; not in the key (split_hash is)
    split_hash: str  # the rows this fold uses and the ones it holds out (PreparedRef.split_hash)
    fold_index: int  # 0-based, the prepared data's fold; users see `number`
    n_folds: int
    model: ModelSpec
    tokenizer_from: ModelSpec  # the model itself, or for a CNN the zoo teacher whose vocabulary it uses
    train: TrainConfig  # effective for this model: TrainConfig.for_model
    seed: int
    cache_root: str
    tracking_uri: str
    parent: ParentSpec
    fingerprint: Fingerprint  # resolved when planned: torch/transformers versions, device type, precision
    teacher: FoldJob | None = None  # the fine-tuned fold teacher this model distils from
    distill: DistillConfig | None = None
    export_train_logits: bool = False  # a distilled student needs this model's logits on the training split
    export_model: bool = False  # ... and its fine-tuned weights, for DistilBERT's hidden-state cosine loss
    repeat: int = 1  # repeated k-fold: which partition the fold belongs to (1-based)
    n_repeats: int = 1
    # what the fold run's savings are against: the zoo teacher's job on the same dataset, repeat and fold
    # (the teacher's own fold is its own reference). Not in the cache key: they change nothing computed.
    is_reference: bool = False  # this is the zoo teacher's job
    reference: FoldJob | None = None
    store_wait_seconds: float = 0.0  # tracking.outage_wait_seconds; not in the cache key either

    @property
    def cache_key(self) -> str:
        """Hash of what decides the result; where it runs and where it is logged are left out."""
        return stable_hash(
            {
                "version": CACHE_VERSION,
                # its own split, not the whole file: a file with one more repeat's column keeps this key
                "data": self.split_hash,
                "fold": self.fold_index,
                # only when repeated, so the folds of a study without repeats keep their cached results
                **({"repeat": self.repeat} if self.repeat > 1 else {}),
                "model": asdict(self.model),
                "tokenizer": asdict(self.tokenizer_from),
                "train": asdict(self.train),
                "seed": self.seed,
                "fingerprint": asdict(self.fingerprint),
                "export_logits": self.export_train_logits,
                "teacher": self.teacher.cache_key if self.teacher else None,
                "distill": asdict(self.distill) if self.distill else None,
                # only when set, so turning the cosine loss on does not invalidate unrelated cached folds
                **({"export_model": True} if self.export_model else {}),
            }
        )

    @property
    def starts_from_fold_teacher(self) -> bool:
        """A distilled student of layers copied from its teacher's own checkpoint starts from the
        fine-tuned fold teacher (its layers, pooling and trained classifier), not the pre-trained one:
        what it is distilled towards is then also where it starts."""
        return self.teacher is not None and self.model.copies_layers_of(self.teacher.model)

    @property
    def fold_seed(self) -> int:
        """Each fold of each repeat its own head initialisation and shuffle order (repeat 1: seed + fold)."""
        return self.seed + (self.repeat - 1) * self.n_folds + self.fold_index

    @property
    def number(self) -> int:
        """The fold as users see it, 1-based, in every name, table and log line (FoldResult.fold)."""
        return self.fold_index + 1

    @property
    def repeated(self) -> bool:
        """Names say the repeat only when there is more than one, so single k-fold names stay as they were."""
        return self.n_repeats > 1

    @property
    def label(self) -> str:
        where = f"fold {self.number}/{self.n_folds}"
        if self.repeated:
            where = f"repeat {self.repeat}/{self.n_repeats} {where}"
        return f"{self.dataset} | {self.model.name} | {where}"

    @property
    def run_name(self) -> str:
        """The MLflow child run's name: `fold-3`, or `repeat-2-fold-3`."""
        return f"repeat-{self.repeat}-fold-{self.number}" if self.repeated else f"fold-{self.number}"

    @property
    def task_name(self) -> str:
        """The Prefect task run's name: `<dataset>-<model>-fold3`, or `...-repeat2-fold3`."""
        fold = f"repeat{self.repeat}-fold{self.number}" if self.repeated else f"fold{self.number}"
        return f"{self.dataset}-{self.model.name}-{fold}"

    @property
    def train_logits_path(self) -> Path:
        return Path(self.cache_root) / "teacher_logits" / f"{self.cache_key}.npz"

    @property
    def model_dir(self) -> Path:
        return Path(self.cache_root) / "fold_teachers" / self.cache_key

    @property
    def kept_dir(self) -> Path:
        """What the fold's model serves with, kept for its fold's timing (crossval.timing): the fp32
        model's folder (`kept_model`), its compressed variants' ONNX files, or a shallow model's folder."""
        return Path(self.cache_root) / "timing" / self.cache_key

    @property
    def kept_model(self) -> Path:
        return self.kept_dir / "model"

    @property
    def kept_variants(self) -> Path:
        return self.kept_dir / "variants"

    @property
    def kept_shallow(self) -> Path:
        return self.kept_dir / "shallow"


def needs_fold_model(teacher: ModelSpec, cfg: Config, planned: Iterable[ModelSpec]) -> bool:
    """Whether a teacher's fine-tuned fold model is kept for its students planned beside it: to start
    from it, or for the hidden-state term, which runs the teacher at every step."""
    students = [m for m in planned if m.fold_teacher == teacher.name]
    hidden_term = cfg.distill.hidden_weight > 0 and any(m.distil_from for m in students)
    return hidden_term or any(m.copies_layers_of(teacher) for m in students)


def models_in_repeat(cfg: Config, dataset: str, repeat: int, models: list[ModelSpec]) -> list[ModelSpec]:
    """The models a repeat of `dataset` trains, in the given order: all of them in repeat 1 and when the
    dataset names no `repeat_rows`; else those rows, the zoo teacher (every row's reference) and the
    fold teachers they need, each compressing only into the variants named (a variant is inference only,
    but its ONNX export and scoring cost a fold seconds)."""
    rows = cfg.repeat_rows(dataset)
    if repeat == 1 or rows is None:
        return models
    named = {*rows, cfg.zoo.teacher}
    wanted = {
        m.name
        for m in models
        if m.name in named or any(variant_row_name(m.name, v) in named for v in m.compress)
    }
    for m in reversed(models):  # a student is planned after its fold teacher: walking back reaches both
        if m.name in wanted and m.fold_teacher:
            wanted.add(m.fold_teacher)
    return [
        dataclasses.replace(m, compress=tuple(v for v in m.compress if variant_row_name(m.name, v) in named))
        for m in models
        if m.name in wanted
    ]


def effective_train(cfg: Config, spec: ModelSpec, dataset: str) -> TrainConfig:
    """The settings this model trains with on `dataset`: the train section, the dataset's own over it
    (Config.train_for), the model's own epochs and learning rate over both (TrainConfig.for_model); a
    student that starts from its fine-tuned fold teacher has a trained head, not a random one: it takes
    the body's learning rate, not the new head's larger step."""
    train = cfg.train_for(dataset).for_model(spec)
    teacher = spec.fold_teacher and cfg.zoo.model(spec.fold_teacher)
    if teacher and spec.copies_layers_of(teacher):
        return dataclasses.replace(train, head_learning_rate=None)
    return train


def training_order(models: Iterable[ModelSpec]) -> list[ModelSpec]:
    """Models without a fold teacher first, so every distilled (or ablation) student finds its fold teacher
    already planned."""
    return sorted(models, key=lambda m: m.fold_teacher is not None)


def job_fingerprint(cfg: Config, spec: ModelSpec) -> Fingerprint:
    return fingerprint(spec, tokenizer_spec(spec, cfg.zoo), cfg.train.precision)


def parent_key(cfg: Config, spec: ModelSpec, data: PreparedRef) -> str:
    """What one parent run (dataset x model) summarises: a rerun with the same key reuses it."""
    return stable_hash(
        {
            "data": data.data_hash,
            "model": asdict(spec),
            "train": asdict(effective_train(cfg, spec, data.name)),
            "fingerprint": asdict(job_fingerprint(cfg, spec)),
            "distill": asdict(cfg.distill) if spec.distil_from else None,
            "seed": cfg.seed,
            "folds": data.eval_folds,
            **({"repeats": data.repeats} if data.repeats > 1 else {}),
        }
    )


def plan_jobs(
    cfg: Config,
    datasets: Iterable[PreparedRef],
    parents: Mapping[tuple[str, str], ParentSpec],
    tracking_uri: str,
    cache_root: Path,
) -> tuple[FoldJob, ...]:
    """Every fold of every repeat of every dataset x model, fold-major (:func:`fold_major`); a student's
    fold teacher is the teacher's job on the same dataset, repeat and fold (as is every other model's
    reference, the zoo teacher's job)."""
    datasets = list(datasets)
    jobs: dict[tuple[str, str, int, int], FoldJob] = {}
    fingerprints = {spec.name: job_fingerprint(cfg, spec) for spec in cfg.zoo.models}
    ordered = reference_first(training_order(cfg.zoo.models), cfg.zoo)
    for data, repeat in ((d, r) for d in datasets for r in d.repeat_numbers):
        planned = [m for m in models_in_repeat(cfg, data.name, repeat, ordered) if cfg.runs_on(m, data.name)]
        teachers = {m.distil_from for m in planned if m.distil_from}
        for spec in planned:
            for fold in data.eval_folds:
                jobs[data.name, spec.name, repeat, fold] = FoldJob(
                    dataset=data.name,
                    dataset_dir=str(data.directory),
                    data_hash=data.data_hash,
                    split_hash=data.split_hash(repeat, fold),
                    fold_index=fold,
                    n_folds=len(data.eval_folds),
                    model=spec,
                    tokenizer_from=tokenizer_spec(spec, cfg.zoo),
                    train=effective_train(cfg, spec, data.name),
                    seed=cfg.seed,
                    cache_root=str(cache_root),
                    tracking_uri=tracking_uri,
                    store_wait_seconds=cfg.tracking.outage_wait_seconds,
                    parent=parents[data.name, spec.name],
                    fingerprint=fingerprints[spec.name],
                    teacher=jobs[data.name, spec.fold_teacher, repeat, fold] if spec.fold_teacher else None,
                    distill=cfg.distill if spec.distil_from else None,
                    export_train_logits=spec.name in teachers,
                    export_model=needs_fold_model(spec, cfg, planned),
                    repeat=repeat,
                    n_repeats=data.repeats,
                    is_reference=spec.name == cfg.zoo.teacher,
                    reference=jobs.get((data.name, cfg.zoo.teacher, repeat, fold)),
                )
    return fold_major(list(jobs.values()), [d.name for d in datasets], within_fold_order(cfg.zoo))


def fold_major(jobs: list[FoldJob], datasets: list[str], models: list[str]) -> tuple[FoldJob, ...]:
    """Every model's fold 1, then every model's fold 2, ... (per dataset and repeat): a drift of the
    machine during the study then falls on all rows alike instead of on the models trained last, so
    the ratios between rows measured on one fold compare like with like."""
    return tuple(
        sorted(
            jobs,
            key=lambda j: (datasets.index(j.dataset), j.repeat, j.fold_index, models.index(j.model.name)),
        )
    )


def within_fold_order(zoo: ZooConfig) -> list[str]:
    """The zoo teacher first, each model followed at once by the students that distil from it (a
    distilled fold runs right after its fold teacher's), then the rest in the zoo's order."""
    planned = reference_first(training_order(zoo.models), zoo)
    order: list[str] = []

    def add(spec: ModelSpec) -> None:
        if spec.name not in order:
            order.append(spec.name)
            for student in planned:
                if student.fold_teacher == spec.name:
                    add(student)

    for spec in planned:
        if spec.fold_teacher is None:
            add(spec)
    return order


def reference_first(models: list[ModelSpec], zoo: ZooConfig) -> list[ModelSpec]:
    """The zoo teacher planned first, so every other fold can wait for its reference, the teacher's fold
    (after its own fold teacher, when the zoo teacher is itself distilled: that one has no reference)."""
    first = {zoo.teacher, zoo.model(zoo.teacher).fold_teacher}
    return sorted(models, key=lambda m: m.name not in first)
