"""Speed of the selected zoo's models against its teacher, measured here in one run.

Prints, per model: parameters, inference examples/s (eval batch) and training examples/s (train batch,
forward + backward + AdamW step), and both as ratios of the teacher's. Uses the real models of
params.yaml (untrained heads: speed does not depend on the weights) on real texts of the first dataset.

    python bench/speed.py [--params params.yaml] [--examples 256] [--train-steps 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

import numpy as np

from distilbench.config.settings import Config, load_config
from distilbench.core import paths
from distilbench.core.runtime import resolve_runtime, set_threads
from distilbench.data.prepared import load_prepared
from distilbench.models.zoo import build_model, count_parameters, load_tokenizer, tokenizer_spec
from distilbench.training.loop import FineTuner, encode, make_collator


def measure(
    spec, cfg: Config, texts: list[str], targets: np.ndarray, n_labels: int, train_steps: int
) -> dict:
    tokenizer = load_tokenizer(tokenizer_spec(spec, cfg.zoo))
    features = encode(tokenizer, texts, targets, cfg.train.max_length)
    model = build_model(spec, tokenizer, n_labels, multilabel=False)
    # one epoch of `train_steps` steps at the model's own settings; speed does not depend on the schedule.
    # No step floor, no early stopping: train.min_steps would add epochs the examples/s do not count
    train = dataclasses.replace(
        cfg.train.for_model(spec), epochs=1, max_steps=train_steps, min_steps=None, patience=None
    )
    trainer = FineTuner(model, make_collator(tokenizer), resolve_runtime(train.precision), train)
    trainer.predict_logits(features[: cfg.train.eval_batch_size])  # warm-up: first calls allocate
    _, infer_seconds = trainer.timed_predict(features)
    fit = trainer.fit(features)
    return {
        "model": spec.name,
        "parameters": count_parameters(model),
        "infer_per_s": len(features) / infer_seconds,
        "train_per_s": train_steps * cfg.train.batch_size / fit.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--params", type=Path, default=Path(paths.PARAMS_FILE))
    parser.add_argument("--prepared", type=Path, default=Path(paths.PREPARED_DIR))
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--train-steps", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("DISTILBENCH_PROGRESS", "0")  # the table is the output; no training bars
    cfg = load_config(args.params)
    dataset = cfg.datasets.datasets[0]
    data = load_prepared(args.prepared / dataset.name)
    texts, targets = data.texts[: args.examples], data.targets[: args.examples]
    threads = set_threads(1)
    rows = [measure(spec, cfg, texts, targets, len(data.labels), args.train_steps) for spec in cfg.zoo.models]
    teacher = next(r for r in rows if r["model"] == cfg.zoo.teacher)
    print(
        f"{dataset.name}: {len(texts)} texts, max_length {cfg.train.max_length}, {threads} torch threads, "
        f"baseline = teacher {teacher['model']}"
    )
    header = ("model", "params (M)", "infer ex/s", "x teacher", "train ex/s", "x teacher")
    print(f"{header[0]:<22}" + "".join(f"{h:>12}" for h in header[1:]))
    for r in rows:
        infer_ratio = r["infer_per_s"] / teacher["infer_per_s"]
        train_ratio = r["train_per_s"] / teacher["train_per_s"]
        print(
            f"{r['model']:<22}{r['parameters'] / 1e6:>12.1f}{r['infer_per_s']:>12.1f}{infer_ratio:>11.2f}x"
            f"{r['train_per_s']:>12.1f}{train_ratio:>11.2f}x"
        )


if __name__ == "__main__":
    main()
