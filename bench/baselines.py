"""Training speed of this project's loop against the Hugging Face baselines, measured here in one run.

Three recipes train the same model on the same texts, each in its own process (so each peak RSS is its
own), and take turns: rounds of a fixed number of optimizer steps, A B C A B C, after warm-up steps that
are not timed; the medians and their ratios are printed.

  loop      this project's FineTuner at params.yaml's settings for the model (TrainConfig.for_model: batch,
            max_length, learning rate, head learning rate, warm-up, weight decay, dynamic padding)
  trainer   transformers.Trainer at the SAME settings: DataCollatorWithPadding (dynamic padding), the same
            batch, learning rates (the loop's parameter groups, in the Trainer's own default optimizer
            class), linear warm-up, weight decay, gradient clipping at 1.0, seed and torch threads; no
            evaluation, logging or saving during training, report_to=[], dataloader workers 0
  run_glue  transformers' examples/pytorch/text-classification/run_glue.py as its users run it: its
            defaults max_seq_length 128 and pad_to_max_length True (static padding, default_data_collator),
            TrainingArguments' defaults per-device batch 8, 3 epochs, linear schedule, no warm-up, weight
            decay 0, seed 42-style fixed seed, fused AdamW (transformers 5, torch >= 2.8), max_grad_norm 1.0;
            learning rate 2e-5, the value of run_glue's README command and of the BERT paper
            (TrainingArguments' own default is 5e-5). One learning rate for all weights.

All three train the zoo model exactly as the pipeline builds it (for the sentence-transformers checkpoints
a mean-pooling head: run_glue's pooler head would start from untrained pooler weights), on the training
part of one BBC fold. Then, unless --skip-accuracy, accuracy at equal data: the loop trains that fold as
the pipeline does (inner split, best-epoch selection, train.min_steps) and run_glue trains its 3 epochs on
all of the fold's training rows; both are scored on the held-out part, with the wall time of each fit.

Targets (issue 9): loop/trainer >= 1 (the loop adds no overhead) and the loop's fit >= 2x faster than
run_glue's at equal or better accuracy.

    python bench/baselines.py [--model NAME] [--rounds 5] [--steps 8] [--skip-accuracy] [--quick]

The full default run (MiniLM-L6 teacher, 2-core CPU) takes about 10 minutes, 6 of them run_glue's
3 epochs at 128 tokens (639 steps on BBC's fold); --skip-accuracy about 1.5.

GPU mode (--bert-base): a bert-base-shaped BertForSequenceClassification built from BertConfig with
random weights (speed does not depend on weights) and SDPA attention, on texts from --texts (JSON Lines
with a "text" field) and a saved BERT tokenizer (--tokenizer). It compares the loop with bf16 autocast,
fused AdamW and length-grouped batches against Trainer(bf16=True, group_by_length=True) at the same batch
(--compile: both models compiled in place with nn.Module.compile, i.e. torch.compile; give it a longer
--warmup, ~20 steps, for the recompiles of new batch shapes), and prints model FLOP utilisation:
6 x parameters (embeddings included) x padded tokens/s over a measured bf16 8192^2 matmul rate (on a CPU:
fp32, a 1024^2 matmul, and fp32 training). It imports no prefect, mlflow, dvc, pandas or datasets; the
Trainer needs accelerate:

    python bench/baselines.py --bert-base --device cuda --texts texts.jsonl --tokenizer DIR \
        [--batch-size 64] [--compile --warmup 20]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.utils.data import DataLoader
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
    default_data_collator,
)

from distilbench.config.settings import TrainConfig
from distilbench.core.runtime import resolve_runtime, seed_everything
from distilbench.training.loop import (
    Features,
    FineTuner,
    encode,
    make_collator,
    parameter_groups,
    subset,
)

PROTOCOL = "@@bench "  # marks a child's result lines: libraries may print other lines on stdout
GLUE = {"max_length": 128, "batch_size": 8, "learning_rate": 2e-5, "epochs": 3}  # run_glue.py's defaults
TIMING_LEGS = ("loop", "trainer", "run_glue")
GPU_LEGS = ("loop", "trainer")


# -- measuring from inside any training loop -------------------------------------------------------------
class RoundsDone(Exception):
    """Raised from the step hook after the last timed round: the training has nothing left to tell."""


class RoundClock:
    """Times rounds of optimizer steps inside any training loop, the loop's or the Trainer's alike.

    It is a global optimizer step hook, so neither loop needs a change: after `warmup` steps and then every
    `steps` steps it reports the round just finished and waits for the parent's go, so the legs' rounds
    take turns instead of competing for the cores.
    """

    def __init__(self, warmup: int, steps: int, rounds: int, counter: CountingCollator, cuda: bool):
        self.warmup, self.steps, self.rounds = warmup, steps, rounds
        self.counter, self.cuda = counter, cuda
        self.done = 0
        self.started, self.counted = 0.0, {}

    def __call__(self, optimizer, args, kwargs) -> None:
        self.done += 1
        since_warmup = self.done - self.warmup
        if since_warmup < 0 or since_warmup % self.steps:
            return
        if self.cuda:  # kernels run asynchronously: the round ends when the card has finished
            torch.cuda.synchronize()
        finished = since_warmup // self.steps
        if finished:
            seconds = time.perf_counter() - self.started
            emit({"round": finished, "seconds": seconds, **self.counter.since(self.counted)})
        else:
            emit({"round": 0})  # warmed up
        if finished == self.rounds:
            raise RoundsDone
        wait_for_go()
        self.started, self.counted = time.perf_counter(), dict(self.counter.totals)


class CountingCollator:
    """A collator that also counts what it batched: examples, padded tokens (what the model computes on)
    and real tokens. The Trainer's dataloader collates one batch ahead, which shifts a round's count by
    one batch, not its size."""

    def __init__(self, collate):
        self.collate = collate
        self.totals = {"examples": 0, "tokens": 0, "real_tokens": 0}

    def __call__(self, features):
        batch = self.collate(features)
        self.totals["examples"] += int(batch["input_ids"].shape[0])
        self.totals["tokens"] += int(batch["input_ids"].numel())
        self.totals["real_tokens"] += int(batch["attention_mask"].sum())
        return batch

    def since(self, earlier: dict) -> dict:
        return {k: v - earlier.get(k, 0) for k, v in self.totals.items()}


def emit(record: dict) -> None:
    print(PROTOCOL + json.dumps(record), flush=True)


def wait_for_go() -> None:
    if not sys.stdin.readline():  # the parent is gone
        sys.exit(1)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# -- what every leg trains -------------------------------------------------------------------------------
@dataclasses.dataclass
class Workload:
    """The model factory, tokenizer, texts and settings that every leg of one run shares."""

    new_model: object  # () -> a fresh classifier, its head drawn from the fold seed
    tokenizer: object
    texts: list[str]
    targets: np.ndarray
    train_rows: np.ndarray
    eval_rows: np.ndarray
    train: TrainConfig  # the loop's (and the same-settings Trainer's) settings
    seed: int
    device: torch.device
    precision: str  # the loop's autocast; the Trainer gets bf16=True when it is "bf16"
    data: object = None  # the prepared dataset (zoo mode): the loop's inner split needs it


def zoo_workload(s: argparse.Namespace) -> Workload:
    """The zoo model of params.yaml and one fold of its first prepared dataset, as the pipeline has them."""
    from distilbench.config.settings import (
        load_config,  # the zoo path needs the full install (pandas, sklearn)
    )
    from distilbench.data.prepared import load_prepared
    from distilbench.models.zoo import build_model, load_tokenizer, tokenizer_spec

    cfg = load_config(Path(s.params))
    spec = cfg.zoo.model(s.model or cfg.zoo.teacher)
    if spec.kind == "cnn":
        raise SystemExit(
            f"--model {spec.name}: the baselines train transformers; a CNN has no Trainer recipe"
        )
    data = load_prepared(Path(s.prepared) / cfg.datasets.datasets[0].name)
    train_rows, eval_rows = data.split(s.fold)
    tokenizer = load_tokenizer(tokenizer_spec(spec, cfg.zoo))
    seed = cfg.seed + s.fold  # FoldJob.fold_seed of this fold (repeat 1): the pipeline's head and order

    def new_model():
        seed_everything(seed)
        return build_model(spec, tokenizer, len(data.labels), multilabel=False)

    return Workload(
        new_model, tokenizer, list(data.texts), data.targets, train_rows, eval_rows,
        cfg.train.for_model(spec), seed, torch.device("cpu"), "fp32", data,
    )  # fmt: skip


BERT_SIZES = {
    "base": {},  # BertConfig's defaults are bert-base-uncased's shape: 12 layers, hidden 768, 12 heads
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37},
}


def bert_workload(s: argparse.Namespace) -> Workload:
    """A random-weight BERT of --bert-size on --texts: for a GPU machine without the packaged assets."""
    tokenizer = AutoTokenizer.from_pretrained(s.tokenizer)
    with open(s.texts, encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in itertools.islice(lines, s.examples)]
    device = torch.device(s.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    # SDPA attention named explicitly: the fused attention kernels, whatever the installed default is
    size = BERT_SIZES[s.bert_size]
    config = BertConfig(vocab_size=len(tokenizer), num_labels=5, attn_implementation="sdpa", **size)

    def new_model():
        seed_everything(s.seed)
        model = BertForSequenceClassification(config)
        assert model.config._attn_implementation == "sdpa", model.config._attn_implementation
        if s.compile:  # in place: parameter names (and so the head's learning rate) stay as they are
            model.compile()
        return model

    rows = np.arange(len(texts))
    train = gpu_train_settings(s)
    precision = "bf16" if device.type == "cuda" else "fp32"  # bf16 autocast is slower than fp32 on most CPUs
    return Workload(new_model, tokenizer, texts, rows % 5, rows, rows[:0], train, s.seed, device, precision)


def glue_settings(w: Workload, model) -> TrainConfig:
    """run_glue's recipe in TrainConfig terms; its 128 tokens capped by what the model can take."""
    positions = getattr(model.config, "max_position_embeddings", GLUE["max_length"])
    length = min(GLUE["max_length"], positions, w.tokenizer.model_max_length)
    return dataclasses.replace(
        w.train, batch_size=GLUE["batch_size"], max_length=length, learning_rate=GLUE["learning_rate"],
        head_learning_rate=None, weight_decay=0.0, warmup_ratio=0.0, epochs=GLUE["epochs"], min_steps=None,
    )  # fmt: skip


def hf_rows(w: Workload, rows: np.ndarray, max_length: int, static: bool) -> list[dict]:
    """Tokenized rows for the Trainer: padded to max_length (run_glue) or not (dynamic padding)."""
    texts = [w.texts[r] for r in rows]
    padding = "max_length" if static else False
    encoded = w.tokenizer(texts, truncation=True, max_length=max_length, padding=padding)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]
    return [{**{k: encoded[k][i] for k in keys}, "labels": int(w.targets[r])} for i, r in enumerate(rows)]


# -- the loop with length-grouped batches (GPU mode) -----------------------------------------------------
def length_grouped_order(
    lengths: Sequence[int], batch_size: int, generator: torch.Generator, mega: int = 50
) -> list[int]:
    """A shuffled order whose consecutive batches hold texts of similar length, so dynamic padding pads
    little: HF's LengthGroupedSampler (shuffle, cut into chunks of `mega` batches, sort each by length)."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    chunk = mega * batch_size
    chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    return [i for c in chunks for i in sorted(c, key=lambda i: -lengths[i])]


class LengthGroupedSampler(torch.utils.data.Sampler[int]):
    """A new length-grouped order every epoch, drawn from the loop's seeded generator."""

    def __init__(self, lengths: Sequence[int], batch_size: int, generator: torch.Generator):
        self.lengths, self.batch_size, self.generator = list(lengths), batch_size, generator

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        return iter(length_grouped_order(self.lengths, self.batch_size, self.generator))


class LengthGroupedFineTuner(FineTuner):
    """The loop with batches of similar-length texts (less padding), as Trainer(group_by_length=True).

    HF's own order (each pool's batches from the longest to the shortest), to compare like with like with
    the Trainer; the pipeline's train.group_by_length (training.batching) shuffles the batches instead.
    Nothing but the training batches' order differs from FineTuner.
    """

    def _train_loader(self, train: Features) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        sampler = LengthGroupedSampler([len(f["input_ids"]) for f in train], self.train.batch_size, generator)
        return DataLoader(train, batch_size=self.train.batch_size, sampler=sampler, collate_fn=self.collate)


# -- the Trainer legs ------------------------------------------------------------------------------------
class LoopGroupsTrainer(Trainer):
    """The HF Trainer with its own default optimizer class (fused AdamW) and the loop's parameter groups:
    the head's learning rate and no decay on 1-d tensors, so both legs update the same weights alike."""

    def __init__(self, *args, settings: TrainConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = settings

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            optimizer_cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(self.args, self.model)
            self.optimizer = optimizer_cls(parameter_groups(self.model, self.settings), **kwargs)
        return self.optimizer


def cross_entropy(outputs, labels, num_items_in_batch=None):
    # the loop's loss; the mean-pooling head returns logits only, as the loop expects
    return F.cross_entropy(outputs.logits.float(), labels.long())


def hf_trainer(
    w: Workload, model, settings: TrainConfig, rows: list[dict], collate, out: str, **overrides
) -> Trainer:
    model.accepts_loss_kwargs = False  # else the Trainer passes num_items_in_batch into the encoder
    args = TrainingArguments(
        output_dir=out,
        per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        weight_decay=settings.weight_decay,
        lr_scheduler_type="linear",
        max_grad_norm=1.0,
        seed=w.seed,
        dataloader_num_workers=0,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,  # the mean-pooling head's forward takes **inputs: nothing to infer
        use_cpu=w.device.type == "cpu",
        bf16=w.precision == "bf16",
        **overrides,
    )
    return LoopGroupsTrainer(
        model=model,
        args=args,
        train_dataset=rows,
        data_collator=collate,
        compute_loss_func=cross_entropy,
        settings=settings,
    )


def length_grouping() -> dict:
    """The Trainer's length-grouped sampler, in whichever spelling the installed transformers has."""
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    if "train_sampling_strategy" in names:  # transformers >= 5.2x
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True}


def warmup_steps(settings: TrainConfig, total_steps: int) -> int:
    return math.ceil(settings.warmup_ratio * total_steps)  # the loop's own rounding


# -- the legs (each runs in a child process) -------------------------------------------------------------
def timed_steps(s: argparse.Namespace) -> int:
    return s.warmup + s.rounds * s.steps


def clocked(s: argparse.Namespace, w: Workload, collate) -> tuple[RoundClock, CountingCollator]:
    counter = CountingCollator(collate)
    clock = RoundClock(s.warmup, s.steps, s.rounds, counter, w.device.type == "cuda")
    register_optimizer_step_post_hook(clock)  # every optimizer, whoever built it
    return clock, counter


def run_clocked(train) -> None:
    with contextlib.suppress(RoundsDone):  # the end of the timed rounds, not a failure
        train()


def leg_loop(s: argparse.Namespace, w: Workload) -> dict:
    model = w.new_model()
    features = subset(encode(w.tokenizer, w.texts, w.targets, w.train.max_length), w.train_rows)
    batches = math.ceil(len(features) / w.train.batch_size)
    # enough epochs for every timed step; no step floor and no inner split: nothing but training is timed
    train = dataclasses.replace(
        w.train, epochs=math.ceil(timed_steps(s) / batches), min_steps=None, max_steps=None, patience=None
    )
    clock, counter = clocked(s, w, make_collator(w.tokenizer))
    runtime = resolve_runtime(w.precision, w.device)
    fine_tuner = LengthGroupedFineTuner if s.bert_base else FineTuner  # as the Trainer leg groups
    trainer = fine_tuner(model, counter, runtime, train, seed=w.seed)
    run_clocked(lambda: trainer.fit(features))
    return {"steps": clock.done, "parameters": sum(p.numel() for p in model.parameters())}


def leg_trainer(s: argparse.Namespace, w: Workload) -> dict:
    model = w.new_model()
    rows = hf_rows(w, w.train_rows, w.train.max_length, static=False)
    clock, counter = clocked(s, w, DataCollatorWithPadding(w.tokenizer))
    total = timed_steps(s)
    # with --compile the model came compiled in place (as the loop's): torch_compile would compile it twice
    extra = length_grouping() if s.bert_base else {}
    trainer = hf_trainer(
        w, model, w.train, rows, counter, s.out, max_steps=total,
        warmup_steps=warmup_steps(w.train, total), **extra,
    )  # fmt: skip
    run_clocked(trainer.train)
    return {"steps": clock.done, "parameters": sum(p.numel() for p in model.parameters())}


def leg_run_glue(s: argparse.Namespace, w: Workload) -> dict:
    model = w.new_model()
    glue = glue_settings(w, model)
    rows = hf_rows(w, w.train_rows, glue.max_length, static=True)
    clock, counter = clocked(s, w, default_data_collator)
    trainer = hf_trainer(w, model, glue, rows, counter, s.out, max_steps=timed_steps(s))
    run_clocked(trainer.train)
    return {"steps": clock.done, "max_length": glue.max_length}


def fit_loop(s: argparse.Namespace, w: Workload) -> dict:
    """The loop trains the fold as compute_fold does: inner split, best epoch, min_steps, then scores."""
    from distilbench.crossval.fold import inner_split

    train = dataclasses.replace(w.train, max_steps=2, min_steps=None) if s.quick else w.train
    fit_rows, inner_rows = inner_split(w.data, w.train_rows, train.inner_val_fraction, w.seed)
    features = encode(w.tokenizer, w.texts, w.targets, train.max_length)
    model = w.new_model()
    trainer = FineTuner(
        model, make_collator(w.tokenizer), resolve_runtime(w.precision, w.device), train, seed=w.seed
    )
    fitted = trainer.fit(subset(features, fit_rows), subset(features, inner_rows) or None)
    accuracy = trainer.score(subset(features, eval_rows(s, w)))
    counts = {
        "steps": len(fitted.step_losses),
        "train_examples": len(fit_rows),
        "eval_examples": len(eval_rows(s, w)),
    }
    return {"seconds": fitted.seconds, "accuracy": accuracy, **counts}


def fit_run_glue(s: argparse.Namespace, w: Workload) -> dict:
    """run_glue's 3 epochs on all the fold's training rows, scored on the held-out rows at 128 tokens."""
    model = w.new_model()
    glue = glue_settings(w, model)
    rows = hf_rows(w, w.train_rows, glue.max_length, static=True)
    limit = {"max_steps": 2} if s.quick else {"num_train_epochs": glue.epochs}
    trainer = hf_trainer(w, model, glue, rows, default_data_collator, s.out, **limit)
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    held_out = hf_rows(w, eval_rows(s, w), glue.max_length, static=True)
    logits = trainer.predict(held_out).predictions
    logits = logits[0] if isinstance(logits, tuple) else logits
    accuracy = float((logits.argmax(-1) == np.array([r["labels"] for r in held_out])).mean())
    return {
        "seconds": seconds,
        "accuracy": accuracy,
        "steps": output.global_step,
        "train_examples": len(rows),
    }


def eval_rows(s: argparse.Namespace, w: Workload) -> np.ndarray:
    return w.eval_rows[:32] if s.quick else w.eval_rows


LEGS = {"loop": leg_loop, "trainer": leg_trainer, "run_glue": leg_run_glue, "loop-fit": fit_loop}
LEGS["run_glue-fit"] = fit_run_glue


def child_main(leg: str, settings: str) -> None:
    s = argparse.Namespace(**json.loads(settings))
    torch.set_num_threads(s.threads)
    workload = bert_workload(s) if s.bert_base else zoo_workload(s)
    with tempfile.TemporaryDirectory() as out:  # the Trainer wants an output_dir; it saves nothing
        s.out = out
        result = LEGS[leg](s, workload)
    if workload.device.type == "cuda":
        result["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    emit({**result, "rss_mb": peak_rss_mb()})


# -- the parent: starting children, taking turns, printing ----------------------------------------------
class Child:
    """One leg in its own process, talking JSON lines on stdout and taking go-aheads on stdin."""

    def __init__(self, leg: str, s: argparse.Namespace):
        self.leg = leg
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  its stderr, shown if it fails; lives as long as the child
        env = {
            **os.environ,
            "DISTILBENCH_PROGRESS": "0",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        settings = json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in vars(s).items()})
        command = [sys.executable, __file__, "--child", leg, "--settings", settings]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env
        )

    def read(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(PROTOCOL):
                return json.loads(line[len(PROTOCOL) :])
        self.process.wait()
        self.log.seek(0)
        tail = self.log.read()[-3000:]
        raise RuntimeError(f"the {self.leg} leg exited ({self.process.returncode}) without a result:\n{tail}")

    def go(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def finish(self) -> dict:
        result = self.read()
        self.process.wait()
        return result


def measure_rounds(s: argparse.Namespace, legs: tuple[str, ...]) -> dict[str, dict]:
    """Every leg warms up (together: warm-up is not timed), then the legs take turns round by round."""
    children = [Child(leg, s) for leg in legs]
    for child in children:
        child.read()  # warmed up, now waiting
    rounds: dict[str, list[dict]] = {leg: [] for leg in legs}
    for _ in range(s.rounds):
        for child in children:
            child.go()
            rounds[child.leg].append(child.read())
    return {child.leg: {**child.finish(), **medians(rounds[child.leg])} for child in children}


def medians(rounds: list[dict]) -> dict:
    rates = {key: statistics.median(r[key] / r["seconds"] for r in rounds) for key in ("examples", "tokens")}
    return {"examples_per_s": rates["examples"], "tokens_per_s": rates["tokens"], "rounds": rounds}


def matmul_flops(device: torch.device) -> tuple[float, str]:
    """The device's measured dense matmul rate: the ceiling the model FLOP utilisation is taken against."""
    cuda = device.type == "cuda"
    n, dtype, repeats = (8192, torch.bfloat16, 20) if cuda else (1024, torch.float32, 10)
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))

    def run(times: int) -> None:
        for _ in range(times):
            a @ b
        if cuda:
            torch.cuda.synchronize(device)

    run(3)  # warm-up: kernel choice, clocks
    start = time.perf_counter()
    run(repeats)
    return 2 * n**3 * repeats / (time.perf_counter() - start), f"{str(dtype).removeprefix('torch.')} {n}^2"


def print_timing(s: argparse.Namespace, timing: dict[str, dict]) -> None:
    print(f"{'leg':<11}{'steps':>6}{'examples/s':>12}{'tokens/s':>11}{'peak RSS MB':>13}  settings")
    for leg, r in timing.items():
        rates = f"{r['examples_per_s']:>12.1f}{r['tokens_per_s']:>11.0f}"
        print(f"{leg:<11}{r['steps']:>6}{rates}{r['rss_mb']:>13.0f}  {describe(s, leg, r)}")


def describe(s: argparse.Namespace, leg: str, r: dict) -> str:
    if leg == "run_glue":
        return f"batch {GLUE['batch_size']}, padded to {r['max_length']}, lr {GLUE['learning_rate']}"
    settings = f"batch {s.batch_size}, max_length {s.max_length}, dynamic padding"
    if not s.bert_base:
        return settings
    cuda = (s.device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda")
    precision = f"{'bf16' if cuda else 'fp32'}, fused AdamW"  # both legs' optimizer, CPU and CUDA
    return f"{settings}, {precision}, SDPA, length-grouped{', compiled' if s.compile else ''}"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report_speed(s: argparse.Namespace, timing: dict) -> None:
    print_timing(s, timing)
    over_trainer = timing["loop"]["examples_per_s"] / timing["trainer"]["examples_per_s"]
    over_glue = timing["loop"]["examples_per_s"] / timing["run_glue"]["examples_per_s"]
    print(f"loop/trainer examples/s: {over_trainer:.2f}x (target >= 1: {verdict(over_trainer >= 1)})")
    print(f"loop/run_glue examples/s: {over_glue:.2f}x")


def report_accuracy(s: argparse.Namespace, fits: dict) -> None:
    loop, glue = fits["loop-fit"], fits["run_glue-fit"]
    print(
        f"accuracy at equal data (fold index {s.fold}: the loop trains {loop['train_examples']} rows after "
        f"its inner split, run_glue all {glue['train_examples']}; both scored on the "
        f"{loop['eval_examples']} held-out)"
    )
    for leg, r in fits.items():
        fit = f"{r['steps']:>6} steps{r['seconds']:>9.1f} s"
        print(f"{leg:<14}{fit}   accuracy {r['accuracy']:.4f}  peak RSS {r['rss_mb']:.0f} MB")
    speedup = glue["seconds"] / loop["seconds"]
    at_accuracy = loop["accuracy"] >= glue["accuracy"]
    compared = ">=" if at_accuracy else "<"
    print(f"run_glue fit time / loop fit time: {speedup:.2f}x; loop accuracy {compared} run_glue's")
    print(f"target >= 2x faster at equal or better accuracy: {verdict(speedup >= 2 and at_accuracy)}")


def report_gpu(s: argparse.Namespace, timing: dict) -> None:
    device = torch.device(s.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.set_num_threads(s.threads)
    peak, how = matmul_flops(device)
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (fp32: no bf16 here)"
    print(f"device: {card}; torch {torch.__version__}; compile: {bool(s.compile)}")
    print(f"measured matmul rate ({how}): {peak / 1e12:.3f} TFLOP/s")
    print_timing(s, timing)
    for leg, r in timing.items():
        mfu = 6 * r["parameters"] * r["tokens_per_s"] / peak
        flops = f"6 x {r['parameters'] / 1e6:.2f}M params x {r['tokens_per_s']:.0f} tokens/s"
        print(f"{leg} MFU: {mfu:.1%} ({flops}, embeddings included)")
    ratio = timing["loop"]["examples_per_s"] / timing["trainer"]["examples_per_s"]
    print(f"loop/trainer examples/s: {ratio:.2f}x (target >= 1: {verdict(ratio >= 1)})")


# -- entry point -----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from distilbench.core import paths  # light: no prefect, mlflow or transformers

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--params", type=Path, default=Path(paths.PARAMS_FILE))
    parser.add_argument("--prepared", type=Path, default=Path(paths.PREPARED_DIR))
    parser.add_argument("--model", default=None, help="a model of the active zoo (default: its teacher)")
    parser.add_argument("--fold", type=int, default=1, help="the fold index of data.split (0-based)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per timed round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed optimizer steps first (>= 1)")
    parser.add_argument("--skip-accuracy", action="store_true", help="speed only: no full fits")
    parser.add_argument("--quick", action="store_true", help="tiny settings: a smoke test, not a measurement")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads, every leg")
    gpu = parser.add_argument_group("GPU mode")
    gpu.add_argument("--bert-base", action="store_true", help="random-weight BERT on --texts (see above)")
    gpu.add_argument("--bert-size", choices=sorted(BERT_SIZES), default="base", help="tiny: smoke tests")
    gpu.add_argument("--device", default=None, help="default: cuda when there is one, else cpu")
    gpu.add_argument("--compile", action="store_true", help="torch.compile the model in both legs")
    gpu.add_argument("--texts", type=Path, help="JSON Lines with a text field")
    gpu.add_argument("--tokenizer", type=Path, help="a saved BERT tokenizer directory")
    gpu.add_argument("--examples", type=int, default=2048, help="texts read from --texts")
    gpu.add_argument("--seed", type=int, default=42)
    gpu.add_argument("--batch-size", type=int, default=None, help="train batch (default: TrainConfig's 16)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    s = parser.parse_args(argv)
    if s.quick:
        s.rounds, s.steps, s.warmup = 2, 2, 1
    if s.warmup < 1 or s.steps < 1 or s.rounds < 1:
        parser.error("--warmup, --steps and --rounds must be at least 1")
    if s.bert_base and not (s.texts and s.tokenizer):
        parser.error("--bert-base needs --texts and --tokenizer")
    return s


def run(s: argparse.Namespace) -> dict:
    """The whole benchmark; returns what it printed, as numbers."""
    if importlib.util.find_spec("accelerate") is None:  # transformers.Trainer refuses to start without it
        raise SystemExit(
            "the Trainer legs need accelerate: pip install 'accelerate>=1.1' (the dev extra has it)"
        )
    train = gpu_train_settings(s) if s.bert_base else zoo_train_settings(s)
    s.batch_size, s.max_length = train.batch_size, train.max_length
    legs = GPU_LEGS if s.bert_base else TIMING_LEGS
    print(
        f"{len(legs)} legs x {s.rounds} rounds of {s.steps} optimizer steps (after {s.warmup} warm-up), "
        f"{s.threads} torch threads{' [--quick: a smoke test, not a measurement]' if s.quick else ''}",
        flush=True,
    )
    timing = measure_rounds(s, legs)
    if s.bert_base:
        report_gpu(s, timing)
        return {"timing": timing}
    report_speed(s, timing)
    if s.skip_accuracy:
        return {"timing": timing, "fits": None}
    print("\nfull fits: the loop as the pipeline trains the fold, then run_glue's 3 epochs ...", flush=True)
    fits = {leg: Child(leg, s).finish() for leg in ("loop-fit", "run_glue-fit")}
    report_accuracy(s, fits)
    return {"timing": timing, "fits": fits}


def gpu_train_settings(s: argparse.Namespace) -> TrainConfig:
    """The pipeline's defaults (batch 16, max_length 64, ...) with no inner split; --batch-size overrides."""
    batch = {"batch_size": s.batch_size} if s.batch_size else {}
    return TrainConfig(inner_val_fraction=0.0, **batch)


def zoo_train_settings(s: argparse.Namespace) -> TrainConfig:
    from distilbench.config.settings import load_config

    cfg = load_config(s.params)
    return cfg.train.for_model(cfg.zoo.model(s.model or cfg.zoo.teacher))


def main(argv: list[str] | None = None) -> None:
    s = parse_args(argv)
    if s.child:
        child_main(s.child, s.settings)
    else:
        run(s)


if __name__ == "__main__":
    main()
