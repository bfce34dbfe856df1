"""Turn the experiment config and the prepared datasets into fold jobs, and fold results into summaries."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from distilbench.config import ExperimentConfig, ModelSpec
from distilbench.crossval import FoldJob, FoldResult, stable_hash
from distilbench.errors import ConfigError
from distilbench.models.zoo import tokenizer_spec
from distilbench.report import fold_frame, summarize_models
from distilbench.tracking import close_parent_run, ensure_experiment, open_parent_run


@dataclass(frozen=True)
class PreparedRef:
    """What planning needs of a prepared dataset: read from its meta.json, not the examples."""

    name: str
    directory: Path
    data_hash: str
    eval_folds: tuple[int, ...]
    task: str
    n_examples: int
    protocol: str
    note: str | None  # e.g. rotten_tomatoes: "SST-2 proxy: ..."

    @classmethod
    def read(cls, directory: Path) -> PreparedRef:
        meta = json.loads((directory / "meta.json").read_text())
        return cls(
            meta["name"],
            directory,
            meta["data_hash"],
            tuple(meta["eval_folds"]),
            meta["task"],
            meta["n_examples"],
            meta["protocol"],
            meta.get("note"),
        )


@dataclass(frozen=True)
class ParentRun:
    dataset: str
    model: str
    run_id: str


@dataclass(frozen=True)
class Plan:
    jobs: tuple[FoldJob, ...]  # teachers come before the students that distil from them
    parents: tuple[ParentRun, ...]
    datasets: tuple[PreparedRef, ...]


def prepared_datasets(prepared_root: Path) -> list[PreparedRef]:
    # dot-folders are prepare's temporary writes (an interrupted one may linger): never data to train on
    folders = [d for d in sorted(prepared_root.iterdir()) if not d.name.startswith(".")]
    refs = [PreparedRef.read(d) for d in folders if (d / "meta.json").is_file()]
    if not refs:
        raise ConfigError(f"{prepared_root}: no prepared dataset; run the prepare stage first")
    return refs


def training_order(models: Iterable[ModelSpec]) -> list[ModelSpec]:
    """Models trained on labels first, so every distilled student finds its fold teacher already planned."""
    return sorted(models, key=lambda m: m.distil_from is not None)


def plan(
    cfg: ExperimentConfig, prepared_root: Path, tracking_uri: str, artifact_root: Path, cache_root: Path
) -> Plan:
    experiment_id = ensure_experiment(tracking_uri, cfg.experiment_name, artifact_root)
    teachers = {m.distil_from for m in cfg.zoo.models if m.distil_from}
    jobs: dict[tuple[str, str, int], FoldJob] = {}
    parents = []
    datasets = prepared_datasets(prepared_root)
    for data in datasets:
        for spec in training_order(cfg.zoo.models):
            parent_key = stable_hash(
                {
                    "data": data.data_hash,
                    "model": asdict(spec),
                    "train": asdict(cfg.train),
                    "distill": asdict(cfg.distill) if spec.distil_from else None,
                    "seed": cfg.seed,
                    "folds": data.eval_folds,
                }
            )
            run_id = open_parent_run(
                tracking_uri,
                experiment_id,
                parent_key,
                f"{data.name} / {spec.name}",
                params=parent_params(cfg, spec, data),
                tags={"dataset": data.name, "model": spec.name},
            )
            parents.append(ParentRun(data.name, spec.name, run_id))
            for fold in data.eval_folds:
                jobs[data.name, spec.name, fold] = FoldJob(
                    dataset=data.name,
                    dataset_dir=str(data.directory),
                    data_hash=data.data_hash,
                    fold=fold,
                    n_folds=len(data.eval_folds),
                    model=spec,
                    tokenizer_from=tokenizer_spec(spec, cfg.zoo),
                    train=cfg.train,
                    seed=cfg.seed,
                    tracking_uri=tracking_uri,
                    parent_run_id=run_id,
                    teacher=jobs[data.name, spec.distil_from, fold] if spec.distil_from else None,
                    distill=cfg.distill if spec.distil_from else None,
                    export_train_logits=spec.name in teachers,
                    export_model=spec.name in teachers and cfg.distill.cosine_weight > 0,
                    cache_root=str(cache_root),
                )
    return Plan(tuple(jobs.values()), tuple(parents), tuple(datasets))


def parent_params(cfg: ExperimentConfig, spec: ModelSpec, data: PreparedRef) -> dict:
    return {
        "dataset": data.name,
        "model": spec.name,
        "task": data.task,
        "folds": len(data.eval_folds),
        "data_hash": data.data_hash,
        "zoo": cfg.zoo.name,
        "teacher": cfg.zoo.teacher,
        "seed": cfg.seed,
        "model_spec": json.dumps(asdict(spec)),
        "train": json.dumps(asdict(cfg.train)),
        "distill": json.dumps(asdict(cfg.distill)) if spec.distil_from else None,
    }


# ---------------------------------------------------------------------------------------------------------
# aggregation


def close_parents(plan: Plan, results: list[FoldResult], teacher: str, status: str = "FINISHED") -> None:
    """Log each parent's summary over its folds (the report's numbers) and close it; FAILED on a failure."""
    summary = parent_metrics(results, teacher, [p.model for p in plan.parents]) if results else {}
    for parent in plan.parents:
        metrics = summary.get((parent.dataset, parent.model), {})
        close_parent_run(plan.jobs[0].tracking_uri, parent.run_id, metrics, status)


def parent_metrics(results: list[FoldResult], teacher: str, model_order: list[str]) -> dict:
    """Mean ± std over folds and % saved vs the teacher, computed once, by the report's own aggregation."""
    frame = summarize_models(fold_frame({"folds": [r.as_record() for r in results]}), teacher, model_order)
    numeric = frame.drop(columns=["dataset", "model", "task"]).select_dtypes("number")
    return {
        (row.dataset, row.model): {k: v for k, v in numeric.loc[i].items() if not math.isnan(v)}
        for i, row in frame.iterrows()
    }


def write_results(path: Path, cfg: ExperimentConfig, plan: Plan, results: list[FoldResult]) -> None:
    """The crossval stage's output: every fold's numbers, plus what the report needs to lay them out."""
    payload = {
        "zoo": cfg.zoo.name,
        "teacher": cfg.zoo.teacher,
        "models": [asdict(m) for m in cfg.zoo.models],
        "datasets": {
            d.name: {"task": d.task, "examples": d.n_examples, "protocol": d.protocol, "note": d.note}
            for d in plan.datasets
        },
        "folds": [r.as_record() for r in sorted(results, key=lambda r: (r.dataset, r.model, r.fold))],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)
