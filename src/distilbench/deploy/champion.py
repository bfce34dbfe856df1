"""The select stage: choose a row of the report, refit its model on the whole dataset, register it.

:mod:`distilbench.report.choice` picks the row, :mod:`distilbench.deploy.refit` trains it (or, with
`select.refit: fold`, :mod:`distilbench.deploy.fold_model` loads fold 1's model from the fold cache,
training nothing); this module is the glue: the model folder that serves the chosen variant
(`models/<dataset>/`), the MLflow run of the refit, the registered model `distilbench-<dataset>@champion`,
and `reports/champion.json`.

All datasets or none: every dataset is refitted, saved into a staging folder and registered as a new
version first (minutes; a stop or an error there leaves every alias, `models/` and champion.json as they
were, and at most registered versions no alias points to). Only then, in a block a signal does not
interrupt (core.stop.committing, milliseconds), are the aliases moved, the staging folders swapped in
and champion.json written.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from mlflow.entities import Metric, Param, RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NOTE, MLFLOW_SOURCE_NAME, MLFLOW_SOURCE_TYPE

from distilbench.config.settings import REFIT_FOLD, REFIT_WHOLE, Config
from distilbench.config.variants import FP32, ONNX_FILES, ONNX_FP32, ONNX_INT8, TORCH_INT8
from distilbench.core import stop
from distilbench.core.atomic import atomic_directories, write_text
from distilbench.core.clock import wall_clock_ms
from distilbench.core.errors import ConfigError, DataError
from distilbench.core.paths import RESULTS_FILE, ProjectPaths
from distilbench.crossval.stage import mlflow_experiment
from distilbench.deploy.fold_model import FOLD, CrossvalFolds, KeptFold, kept_fold, load_kept
from distilbench.deploy.predict import ServingSettings
from distilbench.deploy.refit import Refit, refit
from distilbench.deploy.registry import ALIAS, register_classifier
from distilbench.models.compress import export_onnx, file_mb, quantize_int8, quantize_onnx, state_dict_mb
from distilbench.models.zoo import save_model
from distilbench.report.choice import METRIC_NAMES, Choice, Rule, choose, entries_metric, rows_of
from distilbench.tracking.store import store_errors

logger = logging.getLogger(__name__)

CHAMPION_TAG = "distilbench.champion"  # on the refit's run: filter the runs table with tags.`...` = 'true'
SOURCE = {MLFLOW_SOURCE_NAME: "distilbench select", MLFLOW_SOURCE_TYPE: "LOCAL"}


@dataclass(frozen=True)
class ServedModel:
    directory: Path  # weights, tokenizer, serving.json and, for an ONNX variant, its .onnx file
    settings: ServingSettings
    size_mb: float  # of what is served: fp32 safetensors, the int8 state dict, or the ONNX file
    onnx_int8: Path | None  # the ONNX int8 file, when that is the variant served


@dataclass(frozen=True)
class Champion:
    """One dataset's line of reports/champion.json."""

    dataset: str
    row: str
    model: str
    variant: str
    reason: str
    registered_name: str
    version: str
    model_uri: str
    run_id: str
    refit_seconds: float
    refit_examples: int
    model_mb: float
    cv_accuracy: float  # the cross-validated mean of `metric` (accuracy unless select.metric says otherwise)
    teacher_accuracy: float
    metric: str = "accuracy"  # what ranked the rows for this dataset (report.choice.ranking_metric)
    # select.refit: whole (refitted on every row) or fold (fold 1's model, loaded: refit_seconds is the load,
    # refit_examples the fold's training rows, fold_score its held-out `metric` on that fold)
    refit: str = REFIT_WHOLE
    fold_score: float | None = None


def read_metrics(path: Path, stage: str = "report") -> dict:
    """A JSON output of an earlier stage (metrics.json; results/crossval.json in fold mode)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file; run the {stage} stage first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from error


def choose_all(cfg: Config, metrics: Mapping[str, Mapping]) -> list[Choice]:
    """One choice per dataset of the report, by select's rule."""
    rule = Rule.from_config(cfg.select)
    tables = rows_of(metrics, {m.name: m.kind for m in cfg.zoo.models})
    choices = [
        choose(rows, cfg.zoo.teacher, rule, entries_metric(rule.metric, metrics[dataset]))
        for dataset, rows in tables.items()
        if rows
    ]
    zoo = {m.name for m in cfg.zoo.models}
    for choice in choices:  # checked for every dataset before the first refit starts
        if choice.model not in zoo:
            raise ConfigError(
                f"select: row {choice.row!r} is of model {choice.model!r}, which is not in the zoo "
                f"{cfg.zoo.name}; rerun crossval and report"
            )
    return choices


def save_served(refitted: Refit, variant: str, directory: Path) -> ServedModel:
    """Write the refitted model and what serves `variant` into `directory` (an empty staging folder)."""
    decision = refitted.decision
    settings = ServingSettings(
        refitted.labels,
        refitted.max_length,
        refitted.multilabel,
        variant,
        refitted.kind,
        refitted.truncation,
        thresholds=decision.thresholds if decision else (),
        at_least_one=bool(decision and decision.at_least_one),
    )
    settings.write(directory)
    if refitted.tokenizer is None:  # a linear or static model: its own folder layout, no variants
        return ServedModel(directory, settings, refitted.model.save(directory), None)
    fp32_mb = save_model(refitted.model, directory)  # a MeanPoolingClassifier saves its own way
    refitted.tokenizer.save_pretrained(directory)
    size_mb = fp32_mb if variant == FP32 else _compressed_files(refitted, variant, directory)
    onnx_int8 = directory / ONNX_FILES[ONNX_INT8] if variant == ONNX_INT8 else None
    return ServedModel(directory, settings, size_mb, onnx_int8)


def _compressed_files(refitted: Refit, variant: str, folder: Path) -> float:
    """Build what a compressed variant serves from (an ONNX file) into `folder`; returns its size in MB."""
    model = refitted.model
    if variant == TORCH_INT8:  # quantized again at every load: deterministic from the fp32 weights
        return state_dict_mb(quantize_int8(model))
    batch = refitted.tokenizer(
        list(refitted.example_texts), truncation=True, max_length=refitted.max_length, padding=True
    )
    target = folder / ONNX_FILES[variant]
    if variant == ONNX_FP32:
        return file_mb(export_onnx(model, dict(batch), target))
    with tempfile.TemporaryDirectory(prefix="distilbench-onnx-") as tmp:
        fp32 = export_onnx(model, dict(batch), Path(tmp) / ONNX_FILES[ONNX_FP32])
        return file_mb(quantize_onnx(fp32, target))


def refit_params(cfg: Config, choice: Choice) -> dict[str, object]:
    """`dataset` and `model` as the crossval parents have them: the study view's columns show them."""
    return {
        "dataset": choice.dataset,
        "model": choice.row,
        "source_model": choice.model,
        "variant": choice.variant,
        "refit": cfg.select.refit,
        "rule": Rule.from_config(cfg.select).describe(choice.metric),
        "metric": choice.metric,
        "max_accuracy_drop": cfg.select.max_accuracy_drop,
        "teacher": cfg.zoo.teacher,
        "teacher_accuracy": choice.teacher_accuracy,
        "cv_accuracy": choice.accuracy,
        "cv_latency_p50_ms": choice.latency_ms,
        "seed": cfg.seed,
    }


def run_name(choice: Choice) -> str:
    return f"{choice.dataset} · champion · {choice.row}"


def fold_words(examples: int) -> str:
    """select.refit fold, said plainly: the model served is not the one a refit would give."""
    return (
        f"fold {FOLD}'s model as cross-validation trained it ({examples} training rows), "
        "not refitted (select.refit: fold)"
    )


def how_made(refitted: Refit) -> str:
    """What the served model was trained on, in words users read (the run's note, the version's page)."""
    return fold_words(refitted.examples) if refitted.refit == REFIT_FOLD else "refitted on the whole dataset"


def open_refit_run(
    tracking_uri: str, experiment_id: str, cfg: Config, choice: Choice, refitted: Refit, start_ms: int
) -> str:
    """The refit's MLflow run, named and tagged so the runs table shows it as the champion refit."""
    client = MlflowClient(tracking_uri)
    recipe = " with the cross-validation recipe" if refitted.refit == REFIT_WHOLE else ""
    tags = {  # CHAMPION_TAG comes with the alias (move_aliases): a stopped select's run is no champion
        **SOURCE,
        "dataset": choice.dataset,
        "model": choice.row,
        MLFLOW_RUN_NOTE: f"Champion of {choice.dataset}: {choice.row}, {choice.reason}. "
        f"{_sentence(how_made(refitted))}{recipe}; its accuracy is the CV estimate.",
    }
    run = client.create_run(experiment_id, start_time=start_ms, run_name=run_name(choice), tags=tags)
    params = [Param(k, str(v)) for k, v in refit_params(cfg, choice).items()]
    client.log_batch(run.info.run_id, params=params)
    return run.info.run_id


def _sentence(words: str) -> str:
    return words[0].upper() + words[1:]


def log_refit_metrics(tracking_uri: str, run_id: str, refitted: Refit, served: ServedModel) -> None:
    values = {
        # fold mode trains nothing: its seconds are the kept model's load
        "train_seconds" if refitted.refit == REFIT_WHOLE else "load_seconds": refitted.seconds,
        "train_examples": refitted.examples,
        "best_epoch": refitted.best_epoch,
        "model_mb": served.size_mb,
    }
    now = wall_clock_ms()
    metrics = [Metric(k, float(v), now, 0) for k, v in values.items() if not math.isnan(float(v))]
    MlflowClient(tracking_uri).log_batch(run_id, metrics=metrics)


def refit_and_register(
    cfg: Config,
    choice: Choice,
    prepared_root: Path,
    folder: Path,
    tracking_uri: str,
    experiment_id: str,
    kept: KeptFold | None = None,
) -> Champion:
    """Refit the chosen row's model (or, given its `kept` fold, load that fold's model), save what serves
    its variant into `folder` (a staging folder), log the run and register it as a new version; no alias
    moves (:func:`move_aliases` does, for all)."""
    started = wall_clock_ms()
    if kept is None:
        refitted = refit(cfg, prepared_root / choice.dataset, choice.model, tracking_uri)
    else:
        refitted = load_kept(kept)
    stop.check_stop(f"{choice.dataset}: champion")  # the refit's last step may have been a library call
    served = save_served(refitted, choice.variant, folder)
    with store_errors(tracking_uri):
        run_id = open_refit_run(tracking_uri, experiment_id, cfg, choice, refitted, started)
    try:
        log_refit_metrics(tracking_uri, run_id, refitted, served)
        registered = register_classifier(
            served.directory,
            choice.dataset,
            served.settings,
            experiment_id,
            onnx_int8=served.onnx_int8,
            run_id=run_id,
            alias=None,
            description=version_description(choice, refitted),
        )
    except BaseException:
        MlflowClient(tracking_uri).set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    return Champion(
        dataset=choice.dataset,
        row=choice.row,
        model=choice.model,
        variant=choice.variant,
        reason=choice.reason,
        registered_name=registered.name,
        version=registered.version,
        model_uri=f"models:/{registered.name}@{ALIAS}",
        run_id=registered.run_id,
        refit_seconds=round(refitted.seconds, 3),
        refit_examples=refitted.examples,
        model_mb=round(served.size_mb, 3),
        cv_accuracy=choice.accuracy,
        teacher_accuracy=choice.teacher_accuracy,
        metric=choice.metric,
        refit=refitted.refit,
        fold_score=kept.score if kept else None,
    )


def kept_folds(
    cfg: Config,
    choices: Sequence[Choice],
    prepared_root: Path,
    results_path: Path,
    tracking_uri: str,
    cache: Path,
) -> dict[str, KeptFold]:
    """select.refit fold: each dataset's chosen row's fold 1, found in crossval's fold cache `cache`, for
    every dataset before anything is registered (a missing one stops the stage first); whole: none."""
    if cfg.select.refit != REFIT_FOLD:
        return {}
    folds = CrossvalFolds(read_metrics(results_path, "crossval"), results_path, cache, tracking_uri)
    return {c.dataset: kept_fold(cfg, folds, prepared_root / c.dataset, c) for c in choices}


def select_champions(
    cfg: Config,
    prepared_root: Path,
    metrics_path: Path,
    out: Path,
    models_root: Path,
    project: ProjectPaths,
    results_path: Path = Path(RESULTS_FILE),
) -> list[Champion]:
    """The select stage: a champion per dataset of the report, registered; reports/champion.json.
    `results_path` (crossval's results) is read only with select.refit fold."""
    choices = choose_all(cfg, read_metrics(metrics_path))  # a bad select.model fails before any training
    tracking_uri, experiment_id = mlflow_experiment(cfg, project)
    kept = kept_folds(cfg, choices, prepared_root, results_path, tracking_uri, project.cache)
    with stop.committing() as commit:
        # one staging folder per dataset: they replace models/<dataset> together, or none does
        with atomic_directories([models_root / c.dataset for c in choices]) as folders:
            champions = [
                refit_and_register(
                    cfg, c, prepared_root, folder, tracking_uri, experiment_id, kept.get(c.dataset)
                )
                for c, folder in zip(choices, folders, strict=True)
            ]
            commit.begin()  # every version is registered: from here a signal waits for the last writes
            with store_errors(tracking_uri):
                move_aliases(tracking_uri, champions)  # undone if one fails: models/ then stays old too
        write_champions(out, champions)
    return champions


def move_aliases(tracking_uri: str, champions: Sequence[Champion]) -> None:
    """Point each dataset's `champion` alias at its new version and tag its refit's run, all or none: an
    error moves the ones already moved back."""
    client = MlflowClient(tracking_uri)
    previous = {c.registered_name: _alias_version(client, c.registered_name) for c in champions}
    moved: list[Champion] = []
    try:
        for champion in champions:
            client.set_registered_model_alias(champion.registered_name, ALIAS, champion.version)
            moved.append(champion)
            client.set_tag(champion.run_id, CHAMPION_TAG, "true")
    except BaseException:
        for champion in moved:
            _restore_alias(client, champion, previous[champion.registered_name])
        raise


def _alias_version(client: MlflowClient, name: str) -> str | None:
    aliases = client.get_registered_model(name).aliases  # {alias: version}
    return str(aliases[ALIAS]) if ALIAS in aliases else None


def _restore_alias(client: MlflowClient, champion: Champion, version: str | None) -> None:
    if version is None:
        client.delete_registered_model_alias(champion.registered_name, ALIAS)
    else:
        client.set_registered_model_alias(champion.registered_name, ALIAS, version)
    with contextlib.suppress(MlflowException):  # the failure may have come before the tag was set
        client.delete_tag(champion.run_id, CHAMPION_TAG)


def write_champions(path: Path, champions: Sequence[Champion]) -> None:
    """dataset → its champion, for `dvc` (cache: false) and for programs; beside it the same as markdown
    for people (champion.md, which `make run` prints after the comparison)."""
    payload = {c.dataset: {k: v for k, v in asdict(c).items() if k != "dataset"} for c in champions}
    write_text(path, json.dumps(payload, indent=2) + "\n")
    write_text(path.with_suffix(".md"), "\n".join(champion_markdown(champions)))


def version_description(choice: Choice, refitted: Refit) -> str:
    """The registered version's description: which row of the study, how it was made, why it was chosen."""
    return (
        f"`{choice.row}` of the distilbench study on `{choice.dataset}`, {how_made(refitted)}. "
        f"Chosen as {choice.reason}."
    )


def served_sentences(c: Champion) -> str:
    """What the registered model was trained on and what it is expected to score."""
    metric = METRIC_NAMES[c.metric]
    if c.refit == REFIT_FOLD:
        return (
            f"It is {fold_words(c.refit_examples)}, and serves {c.model_mb:.1f} MB; its {metric} on fold "
            f"{FOLD}'s held-out rows was {c.fold_score:.4f}, the cross-validated mean {c.cv_accuracy:.4f} "
            f"(teacher {c.teacher_accuracy:.4f})."
        )
    return (
        f"Refitted on the whole dataset ({c.refit_examples} training rows, {c.refit_seconds:.0f} s), it "
        f"serves {c.model_mb:.1f} MB; its expected {metric} is the cross-validated {c.cv_accuracy:.4f} "
        f"(teacher {c.teacher_accuracy:.4f})."
    )


def champion_markdown(champions: Sequence[Champion]) -> list[str]:
    """The "Champion" paragraph: what is registered, why, and how to use it."""
    lines = ["## Champion", ""]
    for c in champions:
        lines += [
            f"**{c.dataset}**: `{c.row}` ({c.variant}) is registered as `{c.registered_name}` version "
            f"{c.version}, alias `champion`. Chosen as {c.reason}. {served_sentences(c)}",
            "",
            "```",
            f'distilbench predict --model {c.model_uri} "some text to classify"',
            "```",
            "",
        ]
    return lines
