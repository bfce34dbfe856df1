"""The CNN baseline of the studies ("RNC"): Kim (2014), "Convolutional Neural Networks for Sentence
Classification", trained from scratch on the same token ids the transformers see.

It speaks the transformers calling convention (a batch dict in, ``SequenceClassifierOutput`` out,
``save_pretrained`` / ``from_pretrained``) so the one training loop and the evaluation code run it
unchanged beside BERT and its students.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
MODEL_TYPE = "distilbench-textcnn"


@dataclass(frozen=True)
class TextCNNConfig:
    vocab_size: int
    num_labels: int
    embed_dim: int = 128
    num_filters: int = 100  # per kernel size; Kim used 100
    kernel_sizes: tuple[int, ...] = (3, 4, 5)
    dropout: float = 0.5
    pad_token_id: int = 0

    def __post_init__(self) -> None:
        # A JSON round trip gives a list; normalise so equality and hashing still work.
        object.__setattr__(self, "kernel_sizes", tuple(self.kernel_sizes))
        for name in ("vocab_size", "num_labels", "embed_dim", "num_filters"):
            if getattr(self, name) < 1:
                raise ValueError(f"TextCNNConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not self.kernel_sizes or any(k < 1 for k in self.kernel_sizes):
            raise ValueError(f"TextCNNConfig.kernel_sizes must be positive widths, got {self.kernel_sizes}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"TextCNNConfig.dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(
                f"TextCNNConfig.pad_token_id must be in [0, vocab_size={self.vocab_size}), "
                f"got {self.pad_token_id}"
            )


class TextCNN(nn.Module):
    """embedding -> parallel Conv1d -> ReLU -> max over time -> concat -> dropout -> linear."""

    def __init__(self, config: TextCNNConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=config.pad_token_id)
        self.convs = nn.ModuleList(
            nn.Conv1d(config.embed_dim, config.num_filters, k) for k in config.kernel_sizes
        )
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.num_filters * len(config.kernel_sizes), config.num_labels)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **unused: object,  # token_type_ids etc. from a tokenizer's batch: meaningless here
    ) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = input_ids != self.config.pad_token_id
        mask = attention_mask.bool()
        # Zero the padding embeddings so a window that runs past the text sees exactly zeros, however
        # much padding follows: that is what makes the logits independent of the batch's padded length.
        x = self.embedding(input_ids) * mask.unsqueeze(-1)
        x = x.transpose(1, 2)  # [B, E, L]: Conv1d convolves over the last axis
        # Right-pad so every position starts a full window of every width: a 1-token text still works.
        x = F.pad(x, (0, max(self.config.kernel_sizes) - 1))
        length = input_ids.shape[1]
        pooled = [self._pool(F.relu(conv(x))[..., :length], mask) for conv in self.convs]
        logits = self.classifier(self.dropout(torch.cat(pooled, dim=1)))
        loss = _loss(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)

    @staticmethod
    def _pool(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Max over windows that start on a real token; a window starting on padding never wins."""
        features = features.masked_fill(~mask.unsqueeze(1), float("-inf"))
        pooled = features.amax(dim=2)
        # An all-padding row has no window at all; 0 is what ReLU features bottom out at anyway.
        return torch.where(torch.isneginf(pooled), torch.zeros_like(pooled), pooled)

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        payload = {"model_type": MODEL_TYPE, **dataclasses.asdict(self.config)}
        (directory / CONFIG_NAME).write_text(json.dumps(payload, indent=2) + "\n")
        safetensors.torch.save_model(self, str(directory / WEIGHTS_NAME))

    @classmethod
    def from_saved(cls, directory: str | Path) -> TextCNN:
        """The model `save_pretrained` wrote."""
        payload = json.loads((Path(directory) / CONFIG_NAME).read_text(encoding="utf-8"))
        payload.pop("model_type")
        model = cls(TextCNNConfig(**payload))
        safetensors.torch.load_model(model, str(Path(directory) / WEIGHTS_NAME))
        return model


def is_saved_cnn(directory: str | Path) -> bool:
    config = Path(directory) / CONFIG_NAME
    return config.is_file() and json.loads(config.read_text(encoding="utf-8")).get("model_type") == MODEL_TYPE


def _loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    # Same inference as transformers' problem_type: float multi-hot -> multilabel, class ids -> multiclass.
    if labels.is_floating_point() and labels.shape == logits.shape:
        return F.binary_cross_entropy_with_logits(logits, labels)
    return F.cross_entropy(logits, labels)
