"""GPU speed of a bert-base-shaped teacher against its 6-layer student, measured side by side in one run.

For a machine that has a GPU but not the packaged checkpoints (nor prefect, mlflow or dvc): both models
are built from a config with random weights (speed does not depend on the weights), the student with
the project's own `build_student` (DistilBERT's layers 0, 2, 4, 7, 9, 11), and both are trained and
evaluated by the project's own `FineTuner` at the quickstart's settings on real texts with a real
tokenizer. Rounds alternate teacher, student, teacher, student so that drift hits both alike; the
medians and their ratios are printed.

    python bench/gpu_speed.py --texts texts.jsonl --tokenizer DIR [--device cuda] [--rounds 5]
        [--batch-size 16] [--eval-batch-size 32]   # defaults: the quickstart's train settings

`--texts`: JSON Lines with a "text" field (e.g. exported from data/prepared/bbc); `--tokenizer`: any
saved BERT WordPiece tokenizer directory (the packaged MiniLM one works: same vocabulary as bert-base).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from distilbench.config.settings import TrainConfig
from distilbench.core.runtime import resolve_runtime, seed_everything
from distilbench.models.student import build_student
from distilbench.training.loop import FineTuner, encode, make_collator

DISTILBERT_LAYERS = [0, 2, 4, 7, 9, 11]


def bert_base(n_labels: int) -> BertForSequenceClassification:
    # BertConfig's defaults are bert-base-uncased's shape: 12 layers, hidden 768, 12 heads, vocab 30522
    return BertForSequenceClassification(BertConfig(num_labels=n_labels))


def read_texts(path: Path, limit: int) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in itertools.islice(lines, limit)]


def one_round(trainer: FineTuner, features, train_steps: int) -> dict[str, float]:
    _, infer_seconds = trainer.timed_predict(features)
    fit = trainer.fit(features)
    return {
        "infer_per_s": len(features) / infer_seconds,
        "train_per_s": train_steps * trainer.train.batch_size / fit.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--device", default=None, help="default: cuda when there is one, else cpu")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--train-steps", type=int, default=20)
    defaults = TrainConfig()
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--eval-batch-size", type=int, default=defaults.eval_batch_size)
    args = parser.parse_args()

    seed_everything(0)
    train = TrainConfig(
        batch_size=args.batch_size,
        eval_batch_size=args.eval_batch_size,
        max_steps=args.train_steps,
        inner_val_fraction=0.0,
    )
    runtime = resolve_runtime(train.precision, torch.device(args.device) if args.device else None)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    texts = read_texts(args.texts, args.examples)
    targets = np.arange(len(texts)) % 5  # labels do not change speed
    features = encode(tokenizer, texts, targets, train.max_length)

    teacher = bert_base(n_labels=5)
    student = build_student(teacher, DISTILBERT_LAYERS)
    trainers = {
        name: FineTuner(model, make_collator(tokenizer), runtime, train, label=name)
        for name, model in (("teacher", teacher), ("student", student))
    }
    for trainer in trainers.values():  # warm-up: first calls allocate and pick kernels
        one_round(trainer, features[: 4 * train.eval_batch_size], train.max_steps or 1)

    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trainers}
    for _ in range(args.rounds):
        for name, trainer in trainers.items():
            runs[name].append(one_round(trainer, features, args.train_steps))

    device = runtime.device
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {card}; autocast: {runtime.autocast_dtype}; torch {torch.__version__}")
    print(
        f"{len(features)} texts, max_length {train.max_length}, eval batch {train.eval_batch_size}, "
        f"train batch {train.batch_size} x {args.train_steps} steps, {args.rounds} interleaved rounds"
    )
    medians = {
        name: {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        for name, rounds in runs.items()
    }
    for name, model in (("teacher", teacher), ("student", student)):
        m = medians[name]
        print(
            f"{name:8s} {model.num_parameters() / 1e6:6.1f}M params  "
            f"inference {m['infer_per_s']:8.0f} ex/s  training {m['train_per_s']:7.0f} ex/s"
        )
    for key in ("infer_per_s", "train_per_s"):
        ratio = medians["student"][key] / medians["teacher"][key]
        print(f"student/teacher {key}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
