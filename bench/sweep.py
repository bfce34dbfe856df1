"""Sweep training settings on a few folds of a prepared dataset and print accuracy against seconds.

How docs/tuning.md's tables were made. Each setting is a params.yaml key with comma-separated values;
the sweep runs their cartesian product, each on the same folds, through the pipeline's own fold code
(compute_fold: same models, loop, speed measurement), without MLflow. A distilled student's fold teacher
is trained once per distinct teacher setting and reused from the cache across student settings.

    python bench/sweep.py --model minilm-l6 --folds 1 2 \
        --set train.batch_size=16,32 --set train.learning_rate=5e-5,1e-4
    python bench/sweep.py --model minilm-l3-distilled --set distill.temperature=1,2,4
    python bench/sweep.py --model minilm-l6 --set models.minilm-l6.pooling=cls,mean
    python bench/sweep.py --model minilm-l6 --development --folds 1 2 --set train.learning_rate=1e-4,2e-4
    python bench/sweep.py --dataset amazon_alexa --metric macro_f1 --model minilm-l6 --development \
        --folds 1 2 --set train.max_length=64,128

`--metric` scores each fold by another of the fold's metrics (macro_f1 on imbalanced data, micro_f1 on
multilabel data: what the report ranks those datasets by); accuracy by default.

`--development` scores on the dataset's development partition (its `development_rows`, set aside before
the folds: distilbench.data.development) instead of the reported folds: each of `--folds` then names the
reported fold whose training part trains, exactly as that fold does. No setting chosen this way is chosen
on a row any reported fold tests.

Needs `make run` (or the prepare stage) to have written data/prepared/.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import sys
import time
from pathlib import Path

import yaml

from distilbench.config.settings import Config, read_yaml
from distilbench.crossval.fold import compute_fold
from distilbench.crossval.plan import FoldJob, ParentSpec, plan_jobs, prepared_datasets
from distilbench.data.sweep_split import write_sweep_dataset


def parse_value(text: str):
    value = yaml.safe_load(text)
    if isinstance(value, str):  # PyYAML reads 5e-5 (no point) as a string
        try:
            return float(text)
        except ValueError:
            return value
    return value


def apply(raw: dict, key: str, value) -> dict:
    """`train.batch_size` sets a section key; `models.<name>.<field>` a field of the active zoo's model."""
    raw = copy.deepcopy(raw)
    parts = key.split(".")
    if parts[0] == "models" and len(parts) == 3:
        zoo = raw["models"]["zoos"][raw["models"]["zoo"]]
        next(m for m in zoo["models"] if m["name"] == parts[1])[parts[2]] = value
        return raw
    target = raw
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return raw


def settings_grid(pairs: list[str]) -> list[dict]:
    keys = [p.split("=", 1)[0] for p in pairs]
    values = [[parse_value(v) for v in p.split("=", 1)[1].split(",")] for p in pairs]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def jobs_for(cfg: Config, prepared: Path, cache: Path, dataset: str | None) -> dict[tuple[str, int], FoldJob]:
    datasets = [d for d in prepared_datasets(prepared) if dataset in (None, d.name)][:1]
    if not datasets:
        raise SystemExit(f"{prepared}: no prepared dataset named {dataset!r}")
    parents = {
        (d.name, m.name): ParentSpec(key="", dataset=d.name, model=m.name, experiment_id="", params=())
        for d in datasets
        for m in cfg.zoo.models
    }
    jobs = plan_jobs(cfg, datasets, parents, tracking_uri="", cache_root=cache)
    return {(j.model.name, j.number): j for j in jobs}


def teacher_ready(job: FoldJob) -> bool:
    return job.train_logits_path.is_file() and (not job.export_model or job.model_dir.is_dir())


def run_fold(cfg: Config, model: str, fold: int, prepared: Path, cache: Path, dataset: str | None):
    job = jobs_for(cfg, prepared, cache, dataset)[model, fold]
    if job.teacher is not None and not teacher_ready(job.teacher):
        compute_fold(job.teacher)  # writes the logits (and model) its student needs
    return compute_fold(job)


def fold_datasets(args: argparse.Namespace) -> list[tuple[Path, int]]:
    """(prepared root, fold number) per fold: a reported fold, or the development partition scored by
    a model trained on that reported fold's training part (its one evaluated fold, number 1)."""
    if not args.development:
        return [(args.prepared, fold) for fold in args.folds]
    name = args.dataset or prepared_datasets(args.prepared)[0].name
    roots = []
    for fold in args.folds:
        root = Path("build/dev") / f"trains-as-fold{fold}"
        write_sweep_dataset(args.prepared / name, root / name, fold)
        roots.append((root, 1))
    print(f"development partition of {name}: trained as reported folds {args.folds} train, scored on it")
    return roots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--cache", type=Path, default=Path("build/sweep-cache"))
    parser.add_argument("--model", required=True, help="the zoo model to train")
    parser.add_argument("--folds", type=int, nargs="+", default=[1], help="1-based folds")
    parser.add_argument("--set", dest="settings", action="append", default=[], help="key=v1,v2,...")
    parser.add_argument("--dataset", help="a prepared dataset's name (default: the first)")
    parser.add_argument("--development", action="store_true", help="score on the development partition")
    parser.add_argument("--metric", default="accuracy", choices=["accuracy", "macro_f1", "micro_f1"])
    args = parser.parse_args(argv)
    base = read_yaml(args.params)
    datasets = fold_datasets(args)
    folds = " | ".join(f"fold {f}" for f in args.folds)
    print(f"| setting | {folds} | mean {args.metric} | train s/fold |")
    print("|---|" + "---|" * (len(args.folds) + 2))
    for setting in settings_grid(args.settings) or [{}]:
        raw = base
        for key, value in setting.items():
            raw = apply(raw, key, value)
        cfg = Config.from_params(raw, "sweep")
        start = time.perf_counter()
        results = [run_fold(cfg, args.model, n, root, args.cache, args.dataset) for root, n in datasets]
        scores = [r.metrics[args.metric] for r in results]
        seconds = sum(r.train_seconds for r in results) / len(results)
        label = ", ".join(f"{k}={v}" for k, v in setting.items()) or "params.yaml"
        cells = " | ".join(f"{a:.4f}" for a in scores)
        print(f"| {label} | {cells} | {sum(scores) / len(scores):.4f} | {seconds:.1f} |", flush=True)
        print(
            f"  ({time.perf_counter() - start:.0f} s wall, best epochs {[r.best_epoch for r in results]}, "
            f"{results[0].distill_stats or ''})",
            file=sys.stderr,
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
