"""The one fine-tuning loop every model goes through (teacher, student, CNN).

Distillation is not a second loop: :class:`~distilbench.training.distill.Distiller` overrides
:meth:`FineTuner.compute_loss` only, the way setfit's distillation trainer does.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from distilbench.config.settings import TrainConfig
from distilbench.core.clock import wall_clock_ms
from distilbench.core.runtime import Runtime
from distilbench.core.stop import check_stop
from distilbench.models.truncation import tokenize
from distilbench.training.batching import LengthGroupedBatches
from distilbench.training.decision import LabelDecision, choose_thresholds, every_text_labelled
from distilbench.training.evaluation import Decision, headline_score
from distilbench.training.inference_speed import SpeedResult, measure_speed

logger = logging.getLogger(__name__)

Features = list[dict]  # one tokenized example per item: input_ids, attention_mask, ..., labels, index


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float
    inner_val_score: float | None  # accuracy (multiclass) or micro-F1 (multilabel) on the inner split
    finished_ms: int = 0  # wall clock, ms since the epoch: when the epoch ended


@dataclass
class FitResult:
    seconds: float
    best_epoch: int
    history: list[EpochRecord] = field(default_factory=list)
    # (wall clock in ms, loss) after each optimizer step: a training curve even for a one-epoch fit
    step_losses: list[tuple[int, float]] = field(default_factory=list)


def encode(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    targets: np.ndarray,
    max_length: int,
    truncation: str = "head",
) -> Features:
    """Tokenize without padding: batches are padded to their own longest example (dynamic padding)."""
    encoded = tokenize(tokenizer, texts, max_length, truncation)
    return [
        {**{k: v[i] for k, v in encoded.items()}, "labels": targets[i], "index": i} for i in range(len(texts))
    ]


def make_collator(tokenizer: PreTrainedTokenizerBase) -> Callable[[Features], dict[str, torch.Tensor]]:
    def collate(features: Features) -> dict[str, torch.Tensor]:
        token_fields = [{k: v for k, v in f.items() if k not in ("labels", "index")} for f in features]
        batch = dict(tokenizer.pad(token_fields, padding="longest", return_tensors="pt"))
        batch["labels"] = torch.as_tensor(np.stack([f["labels"] for f in features]))
        batch["index"] = torch.as_tensor([f["index"] for f in features])
        return batch

    return collate


def length_order(features: Features) -> np.ndarray:
    """Positions of `features`, longest first; ties keep their order (a stable sort)."""
    return np.argsort([-len(f["input_ids"]) for f in features], kind="stable")


def subset(features: Features, rows: np.ndarray) -> Features:
    """Select rows and renumber `index` so it addresses per-split caches such as teacher logits."""
    return [{**features[r], "index": i} for i, r in enumerate(rows)]


def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}


def is_head_param(name: str) -> bool:
    """The freshly drawn classification head (transformers and the mean-pooling head call it
    `classifier`; DistilBERT adds `pre_classifier`), which may learn faster than the pre-trained body."""
    return name.split(".")[0] in ("classifier", "pre_classifier")


def parameter_groups(model: torch.nn.Module, train: TrainConfig) -> list[dict]:
    """AdamW parameter groups: the head's own learning rate, and no weight decay on biases and LayerNorm
    gains (the BERT recipe: they are the 1-d tensors)."""
    lr, head_lr = train.learning_rate, train.head_learning_rate or train.learning_rate
    grouped: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            grouped.setdefault((is_head_param(name), param.ndim >= 2), []).append(param)
    return [
        {
            "params": params,
            "lr": head_lr if head else lr,
            "weight_decay": train.weight_decay if decays else 0.0,
        }
        for (head, decays), params in grouped.items()
    ]


def progress_disabled() -> bool:
    return os.environ.get("DISTILBENCH_PROGRESS", "1") == "0"


FUSED_ADAMW_DEVICES = ("cpu", "cuda")  # where torch's fused AdamW runs (and has been tested here)


class FineTuner:
    """Fine-tunes a classifier on hard labels; subclasses change the loss and nothing else."""

    def __init__(
        self,
        model: torch.nn.Module,
        collate: Callable,
        runtime: Runtime,
        train: TrainConfig,
        *,
        seed: int = 0,
        multilabel: bool = False,
        label: str = "",
        class_weights: np.ndarray | None = None,
    ):
        self.model = model.to(runtime.device)
        self.collate = collate
        self.runtime = runtime
        self.train = train  # the model's effective settings: TrainConfig.for_model
        self.seed = seed  # shuffling order
        self.multilabel = multilabel
        self.label = label  # shown on progress bars and log lines: dataset | model | fold
        # imbalanced data (training.imbalance): CrossEntropyLoss weight= per class, or BCE pos_weight= per
        # label; None: the plain loss. Also picks the best epoch on macro-F1 instead of accuracy.
        self.class_weights = (
            None
            if class_weights is None
            else torch.as_tensor(class_weights, dtype=torch.float32).to(runtime.device)
        )
        # multilabel: how scores become labels, set by fit (thresholds chosen on the inner split)
        self.decision: Decision = train.threshold

    # -- the override point ------------------------------------------------------------------------------
    def compute_loss(self, batch: dict[str, torch.Tensor], logits: torch.Tensor) -> torch.Tensor:
        if self.multilabel:
            return F.binary_cross_entropy_with_logits(
                logits, batch["labels"].float(), pos_weight=self.class_weights
            )
        return F.cross_entropy(logits, batch["labels"].long(), weight=self.class_weights)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**model_inputs(batch)).logits

    # -- training ----------------------------------------------------------------------------------------
    def fit(self, train: Features, inner_val: Features | None = None) -> FitResult:
        s = self.train
        loader = self._train_loader(train)
        steps_per_epoch = min(len(loader), s.max_steps or len(loader))
        epochs = self.epochs_for(steps_per_epoch)
        optimizer = self._optimizer()
        scheduler = get_linear_schedule_with_warmup(
            optimizer, math.ceil(s.warmup_ratio * steps_per_epoch * epochs), steps_per_epoch * epochs
        )
        scaler = self.runtime.grad_scaler()
        result, best_score, best_state = FitResult(0.0, epochs), -math.inf, None
        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            losses = self._train_epoch(loader, steps_per_epoch, optimizer, scheduler, scaler, epoch, epochs)
            result.step_losses.extend(losses)
            loss = sum(v for _, v in losses) / max(len(losses), 1)
            score = self.score(inner_val) if inner_val else None
            record = EpochRecord(epoch, loss, score, wall_clock_ms())
            result.history.append(record)
            logger.info(
                "%s epoch %d/%d: train loss %.4f, inner-val score %s",
                self.label,
                epoch,
                epochs,
                loss,
                "-" if score is None else f"{score:.4f}",
            )
            if score is not None and score > best_score:
                # keep the best epoch's weights: they, not the last epoch's, are evaluated and measured
                best_score, result.best_epoch = score, epoch
                best_state = copy.deepcopy({k: v.detach().cpu() for k, v in self.model.state_dict().items()})
            if self.should_stop(epoch, result.best_epoch):
                logger.info(
                    "%s: no better inner-val score for %d epochs; stopping",
                    self.label,
                    epoch - result.best_epoch,
                )
                break
        if best_state is not None and result.best_epoch != len(result.history):
            self.model.load_state_dict(best_state)
        if self.multilabel:
            self.decision = self.label_decision(train, inner_val)
        self._synchronize()
        result.seconds = time.perf_counter() - start
        return result

    def label_decision(self, train: Features, inner_val: Features | None) -> LabelDecision:
        """Multilabel: each label's threshold where its F1 on the inner split is best (train.threshold for
        all without one, or with tune_thresholds off); the top label for an empty answer when every
        training text has a label."""
        labelled = every_text_labelled(np.stack([f["labels"] for f in train]))
        num_labels = len(train[0]["labels"])
        if not (inner_val and self.train.tune_thresholds):
            return LabelDecision.fixed(self.train.threshold, num_labels, labelled)
        targets = np.stack([f["labels"] for f in inner_val])
        thresholds = choose_thresholds(self.predict_logits(inner_val), targets, self.train.threshold)
        logger.info("%s: per-label thresholds on the inner split %s", self.label, thresholds)
        return LabelDecision(thresholds, labelled)

    def _train_loader(self, train: Features) -> DataLoader:
        """Shuffled batches from a generator seeded with `seed`: fold results depend on this order."""
        generator = torch.Generator().manual_seed(self.seed)
        if self.train.group_by_length:
            lengths = [len(f["input_ids"]) for f in train]
            batches = LengthGroupedBatches(lengths, self.train.batch_size, generator)
            return DataLoader(train, batch_sampler=batches, collate_fn=self.collate)
        return DataLoader(
            train,
            batch_size=self.train.batch_size,
            shuffle=True,
            collate_fn=self.collate,
            generator=generator,
        )

    def epochs_for(self, steps_per_epoch: int) -> int:
        """train.epochs, raised until the fit makes train.min_steps optimizer steps.

        A fixed epoch count gives a small dataset too few updates to learn anything (14 steps per fold
        were measured on a 585-text dataset); a step floor adapts the length to the data.
        """
        if not self.train.min_steps:
            return self.train.epochs
        return max(self.train.epochs, math.ceil(self.train.min_steps / max(steps_per_epoch, 1)))

    def should_stop(self, epoch: int, best_epoch: int) -> bool:
        """Early stopping: `patience` epochs without a better inner-validation score end the fit."""
        patience = self.train.patience
        return patience is not None and self.train.inner_val_fraction > 0 and epoch - best_epoch >= patience

    def _optimizer(self) -> torch.optim.Optimizer:
        # fused AdamW (one kernel for all parameters), as the HF Trainer's default optimizer: torch's
        # per-tensor step took 16% of a MiniLM step on the 2-core CPU and made the loop 0.94x the Trainer
        # (bench/baselines.py); fused, the update differs from it by ~4e-9 per weight
        fused = self.runtime.device.type in FUSED_ADAMW_DEVICES
        return torch.optim.AdamW(
            parameter_groups(self.model, self.train), lr=self.train.learning_rate, fused=fused
        )

    def _train_epoch(
        self, loader, steps, optimizer, scheduler, scaler, epoch: int, epochs: int
    ) -> list[tuple[int, float]]:
        """One pass over the training data; returns each optimizer step's (wall clock ms, loss)."""
        self.model.train()
        losses: list[tuple[int, float]] = []
        bar = tqdm(
            total=steps,
            desc=f"{self.label} epoch {epoch}/{epochs}",
            unit="step",
            leave=False,
            disable=progress_disabled(),
            mininterval=2.0,
        )
        for step, batch in enumerate(loader):
            if step >= steps:
                break
            check_stop(self.label)  # Ctrl-C or SIGTERM: stop within one step (core.stop)
            batch = {k: v.to(self.runtime.device) for k, v in batch.items()}
            with self.runtime.autocast():
                logits = self.forward(batch)
                loss = self.compute_loss(batch, logits.float())
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            losses.append((wall_clock_ms(), loss.item()))
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1][1]:.4f}", refresh=False)  # else every step redraws
        bar.close()
        return losses

    # -- inference ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_logits(self, data: Features) -> np.ndarray:
        """Logits of every example, in `data`'s order, computed in batches of similar length: a batch is
        padded to its longest text, and on short texts of mixed length (Rotten Tomatoes' snippets: 27
        tokens on average, 47 for a random batch's longest) that padding was ~40% of the work. Texts of
        one length (every BBC article cut at max_length) keep their order, so their batches are as before."""
        self.model.eval()
        order = length_order(data)
        loader = DataLoader(
            [data[i] for i in order],
            batch_size=self.train.eval_batch_size,
            shuffle=False,
            collate_fn=self.collate,
        )
        chunks = []
        for batch in loader:
            check_stop(self.label)
            batch = {k: v.to(self.runtime.device) for k, v in batch.items()}
            with self.runtime.autocast():
                chunks.append(self.forward(batch).float().cpu())
        self._synchronize()
        logits = torch.cat(chunks).numpy() if chunks else np.zeros((0, 0), dtype=np.float32)
        in_order = np.empty_like(logits)
        in_order[order] = logits
        return in_order

    @torch.no_grad()
    def predict_batch(self, features: Features) -> torch.Tensor:
        """Logits of one batch, collated as training collates it: the unit inference speed is timed on."""
        self.model.eval()
        batch = {k: v.to(self.runtime.device) for k, v in self.collate(features).items()}
        with self.runtime.autocast():
            return self.forward(batch)

    def measure_speed(self, data: Features) -> SpeedResult:
        return measure_speed(self.predict_batch, data, synchronize=self._synchronize)

    def timed_predict(self, data: Features) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        logits = self.predict_logits(data)
        return logits, time.perf_counter() - start

    def score(self, data: Features) -> float:
        targets = np.stack([f["labels"] for f in data])
        logits, decision = self.predict_logits(data), self.train.threshold
        if self.multilabel and self.train.tune_thresholds:
            # each epoch judged at its own best thresholds: at one 0.5 a sparse-label model scores 0 on
            # every epoch, and the first epoch would be kept whatever the later ones learnt
            decision = LabelDecision(choose_thresholds(logits, targets, self.train.threshold))
        balanced = self.class_weights is not None
        return headline_score(logits, targets, self.multilabel, decision, balanced)

    def _synchronize(self) -> None:
        # CUDA runs asynchronously: without this, timings stop before the GPU has finished
        if self.runtime.device.type == "cuda":
            torch.cuda.synchronize(self.runtime.device)  # the fold's own card, not device 0
