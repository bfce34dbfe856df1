"""The classification head each checkpoint was trained for: its own, or mean pooling.

sentence-transformers checkpoints (all-MiniLM-L6-v2, all-mpnet-base-v2) were trained with *mean pooling*
over the token vectors (their ``1_Pooling/config.json`` says so). Their BERT/MPNet pooler weights were
never trained, yet ``AutoModelForSequenceClassification`` classifies from that pooler over [CLS]. Frozen
probes on BBC folds: mean pooling 0.942, [CLS] 0.924, pooler 0.917. So ``pooling: auto`` gives such a
checkpoint a mean-pooling head, and every other checkpoint (bert-base-uncased, distilbert-base-uncased)
its architecture's own head, as in the published studies.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoModelForSequenceClassification
from transformers.modeling_outputs import SequenceClassifierOutput

from distilbench.models.cnn import TextCNN, is_saved_cnn

logger = logging.getLogger(__name__)

HEAD_FILE = "mean_pooling_head.safetensors"  # the classifier over the pooled vector
HEAD_CONFIG = "mean_pooling_head.json"  # marks a saved directory as a mean-pooling classifier
POOLING_CONFIG = Path("1_Pooling") / "config.json"  # sentence-transformers' declaration


def declared_pooling(model_dir: Path) -> str | None:
    """ "mean" or "cls" when the directory is a sentence-transformers model that declares its pooling."""
    path = Path(model_dir) / POOLING_CONFIG
    if not path.is_file():
        return None
    declared = json.loads(path.read_text(encoding="utf-8"))
    if declared.get("pooling_mode_mean_tokens"):
        return "mean"
    if declared.get("pooling_mode_cls_token"):
        return "cls"
    return None


def resolve_pooling(pooling: str, model_dir: str) -> str:
    """auto -> what the checkpoint declares (mean for sentence-transformers), else its own head ("cls").

    A hub id is not a directory: it has no declaration here, so it keeps the architecture's head.
    """
    if pooling != "auto":
        return pooling
    return "mean" if declared_pooling(Path(model_dir)) == "mean" else "cls"


class MeanPoolingClassifier(torch.nn.Module):
    """An encoder, the mask-weighted mean of its last hidden states, dropout and a linear classifier.

    Same calling convention as a transformers classifier (keyword inputs in, ``.logits`` out, optional
    hidden states), so the training loop, distillation and evaluation need no special case.
    """

    def __init__(self, encoder: torch.nn.Module, num_labels: int, problem_type: str):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        self.config.num_labels = num_labels
        self.config.problem_type = problem_type
        self.dropout = torch.nn.Dropout(getattr(self.config, "hidden_dropout_prob", 0.1))
        self.classifier = torch.nn.Linear(self.config.hidden_size, num_labels)

    @classmethod
    def from_pretrained_encoder(
        cls, location: str, num_labels: int, problem_type: str
    ) -> MeanPoolingClassifier:
        encoder = without_pooler(AutoModel.from_pretrained(location))
        head = cls(encoder, num_labels, problem_type)
        head.classifier.weight.data.normal_(0.0, getattr(encoder.config, "initializer_range", 0.02))
        head.classifier.bias.data.zero_()
        return head

    def forward(self, output_hidden_states: bool = False, labels=None, **inputs) -> SequenceClassifierOutput:
        outputs = self.encoder(**inputs, output_hidden_states=output_hidden_states)
        pooled = mean_pool(outputs.last_hidden_state, inputs["attention_mask"])
        logits = self.classifier(self.dropout(pooled))
        return SequenceClassifierOutput(logits=logits, hidden_states=outputs.hidden_states)

    def with_encoder(self, encoder: torch.nn.Module) -> MeanPoolingClassifier:
        """The same head (a copy of its trained weights) on another encoder: how a student inherits it."""
        student = MeanPoolingClassifier(encoder, self.config.num_labels, self.config.problem_type)
        student.classifier.load_state_dict(self.classifier.state_dict())
        return student.to(self.classifier.weight.device).train(self.training)

    def save_pretrained(self, directory: Path) -> None:
        directory = Path(directory)
        self.encoder.save_pretrained(directory)
        save_file({k: v.contiguous() for k, v in self.classifier.state_dict().items()}, directory / HEAD_FILE)
        head = {
            "pooling": "mean",
            "num_labels": self.config.num_labels,
            "problem_type": self.config.problem_type,
        }
        (directory / HEAD_CONFIG).write_text(json.dumps(head, indent=2), encoding="utf-8")

    @classmethod
    def from_saved(cls, directory: Path) -> MeanPoolingClassifier:
        head = json.loads((Path(directory) / HEAD_CONFIG).read_text(encoding="utf-8"))
        encoder = without_pooler(saved_encoder(directory))
        model = cls(encoder, head["num_labels"], head["problem_type"])
        model.classifier.load_state_dict(load_file(Path(directory) / HEAD_FILE))
        return model


def saved_encoder(directory: Path) -> torch.nn.Module:
    """The encoder as saved here, without a pooler: built with one, its missing weights would be filled
    at random and reported as MISSING at every load (a fold's teacher, `distilbench predict`)."""
    try:
        return AutoModel.from_pretrained(directory, add_pooling_layer=False)
    except TypeError:  # an architecture with no pooler to leave out (DistilBERT) takes no such argument
        return AutoModel.from_pretrained(directory)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the real tokens' vectors (sentence-transformers' pooling): padding does not dilute it."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def pretrained_classifier(location: str, pooling: str, num_labels: int, multilabel: bool) -> torch.nn.Module:
    """A fresh classifier on a pre-trained checkpoint, with the head `pooling` ("cls" or "mean") names."""
    problem_type = "multi_label_classification" if multilabel else "single_label_classification"
    if pooling == "mean":
        return MeanPoolingClassifier.from_pretrained_encoder(location, num_labels, problem_type)
    return AutoModelForSequenceClassification.from_pretrained(
        location, num_labels=num_labels, problem_type=problem_type
    )


def load_classifier(directory: Path) -> torch.nn.Module:
    """A fine-tuned classifier saved by this project, with the head it was trained with (or the text CNN)."""
    if (Path(directory) / HEAD_CONFIG).is_file():
        return MeanPoolingClassifier.from_saved(directory)
    if is_saved_cnn(directory):
        return TextCNN.from_saved(directory)
    return AutoModelForSequenceClassification.from_pretrained(directory)


def without_pooler(encoder: torch.nn.Module) -> torch.nn.Module:
    """Drop the encoder's [CLS] pooler, when it has one: mean pooling never uses it, and its untrained
    weights would only weigh on disk. (BERT and MPNet skip a pooler that is None.)"""
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None
    return encoder
