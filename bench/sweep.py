"""Sweep training settings on a few folds of a prepared dataset and print accuracy against seconds.

How docs/tuning.md's tables were made. Each setting is a params.yaml key with comma-separated values;
the sweep runs their cartesian product, each on the same folds, through the pipeline's own fold code
(compute_fold: same models, loop, speed measurement), without MLflow. A distilled student's fold teacher
is trained once per distinct teacher setting and reused from the cache across student settings.

    python bench/sweep.py --model minilm-l6 --folds 1 2 \
        --set train.batch_size=16,32 --set train.learning_rate=5e-5,1e-4
    python bench/sweep.py --model minilm-l3-distilled --set distill.temperature=1,2,4
    python bench/sweep.py --model minilm-l6 --set models.minilm-l6.pooling=cls,mean
    python bench/sweep.py --model minilm-l6 --dev-of 1 --folds 1 --set train.max_length=64,128

`--dev-of N` sweeps on a development partition instead of the reported folds: the training part of
reported fold N, split again into its own folds (distilbench.data.development); `--folds` then names
development folds. Settings chosen there never saw fold N's test rows.

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
from distilbench.data.development import write_development


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


def run_setting(
    cfg: Config, model: str, folds: list[int], prepared: Path, cache: Path, dataset: str | None
) -> list:
    jobs = jobs_for(cfg, prepared, cache, dataset)
    results = []
    for fold in folds:
        job = jobs[model, fold]
        if job.teacher is not None and not teacher_ready(job.teacher):
            compute_fold(job.teacher)  # writes the logits (and model) its student needs
        results.append(compute_fold(job))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--cache", type=Path, default=Path("build/sweep-cache"))
    parser.add_argument("--model", required=True, help="the zoo model to train")
    parser.add_argument("--folds", type=int, nargs="+", default=[1], help="1-based folds")
    parser.add_argument("--set", dest="settings", action="append", default=[], help="key=v1,v2,...")
    parser.add_argument("--dataset", help="a prepared dataset's name (default: the first)")
    parser.add_argument("--dev-of", type=int, help="sweep the development partition of this reported fold")
    args = parser.parse_args(argv)
    base = read_yaml(args.params)
    prepared = args.prepared
    if args.dev_of is not None:
        name = args.dataset or prepared_datasets(prepared)[0].name
        prepared = Path("build/dev") / f"fold{args.dev_of}"
        write_development(args.prepared / name, prepared / name, args.dev_of, base["data"]["folds"])
        print(f"development partition: the training part of reported fold {args.dev_of} of {name}")
    print("| setting | " + " | ".join(f"fold {f}" for f in args.folds) + " | mean acc | train s/fold |")
    print("|---|" + "---|" * (len(args.folds) + 2))
    for setting in settings_grid(args.settings) or [{}]:
        raw = base
        for key, value in setting.items():
            raw = apply(raw, key, value)
        cfg = Config.from_params(raw, "sweep")
        start = time.perf_counter()
        results = run_setting(cfg, args.model, args.folds, prepared, args.cache, args.dataset)
        accuracies = [r.metrics["accuracy"] for r in results]
        seconds = sum(r.train_seconds for r in results) / len(results)
        label = ", ".join(f"{k}={v}" for k, v in setting.items()) or "params.yaml"
        cells = " | ".join(f"{a:.4f}" for a in accuracies)
        print(f"| {label} | {cells} | {sum(accuracies) / len(accuracies):.4f} | {seconds:.1f} |", flush=True)
        print(
            f"  ({time.perf_counter() - start:.0f} s wall, best epochs {[r.best_epoch for r in results]}, "
            f"{results[0].distill_stats or ''})",
            file=sys.stderr,
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
