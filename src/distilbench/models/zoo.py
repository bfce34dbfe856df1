"""Turn a ModelSpec from params.yaml into a model and its tokenizer, and measure what it costs."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from safetensors import safe_open
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from distilbench.config.settings import ModelSpec, ZooConfig, check_layers
from distilbench.core.errors import AssetError, ConfigError
from distilbench.models.assets import packaged_model_dir
from distilbench.models.cnn import TextCNN, TextCNNConfig
from distilbench.models.pooling import MeanPoolingClassifier, pretrained_classifier, resolve_pooling
from distilbench.models.student import build_student

logger = logging.getLogger(__name__)

# a model directory needs one of these: without them transformers 5 builds an empty tokenizer that maps
# every word to [UNK], and the model would train on nothing but unknown tokens without a word
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)


def model_location(spec: ModelSpec) -> str:
    """What `from_pretrained` is given: a packaged asset's directory, a local directory, or a hub id."""
    if spec.source == "packaged":
        return str(packaged_model_dir(spec.id))
    if spec.source == "local":
        if not (Path(spec.id) / "config.json").is_file():
            raise ConfigError(
                f"model {spec.name!r}: {spec.id!r} is not a model directory (no config.json in it)"
            )
        return spec.id
    return spec.id  # hub id: downloaded (and cached) by transformers for users with internet


def tokenizer_spec(spec: ModelSpec, zoo: ZooConfig) -> ModelSpec:
    """A CNN has no tokenizer of its own: it reuses the teacher's vocabulary with fresh embeddings."""
    return zoo.model(zoo.teacher) if spec.kind == "cnn" else spec


def load_tokenizer(spec: ModelSpec) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(model_location(spec))


def build_model(
    spec: ModelSpec,
    tokenizer: PreTrainedTokenizerBase,
    num_labels: int,
    multilabel: bool,
    vocabulary_from: ModelSpec | None = None,
) -> torch.nn.Module:
    """A fresh classifier for one fold. Call under a seeded RNG: the new head's weights are random.

    A CNN uses `vocabulary_from`'s tokenizer, and unless `embeddings: random` its word embeddings."""
    if spec.kind == "cnn":
        return build_cnn(spec, tokenizer, num_labels, vocabulary_from)
    location = model_location(spec)
    model = pretrained_classifier(location, resolve_pooling(spec.pooling, location), num_labels, multilabel)
    return make_student(model, spec.layers) if spec.layers else model


def build_cnn(
    spec: ModelSpec, tokenizer: PreTrainedTokenizerBase, num_labels: int, vocabulary_from: ModelSpec | None
) -> TextCNN:
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    if spec.embeddings == "random" or vocabulary_from is None:
        return TextCNN(TextCNNConfig(vocab_size=len(tokenizer), num_labels=num_labels, pad_token_id=pad_id))
    vectors = AutoModel.from_pretrained(model_location(vocabulary_from)).get_input_embeddings().weight
    if vectors.shape[0] < len(tokenizer):
        raise AssetError(
            f"model {spec.name!r}: {vocabulary_from.name!r} has {vectors.shape[0]} word embeddings "
            f"for a vocabulary of {len(tokenizer)}"
        )
    config = TextCNNConfig(
        vocab_size=vectors.shape[0], num_labels=num_labels, embed_dim=vectors.shape[1], pad_token_id=pad_id
    )
    cnn = TextCNN(config)
    cnn.embedding.weight.data.copy_(vectors.detach())
    # static: no gradient and no optimizer state for 30k x hidden vectors, the bulk of the CNN's step
    cnn.embedding.weight.requires_grad_(spec.embeddings == "non-static")
    return cnn


def make_student(model: torch.nn.Module, layers: tuple[int, ...]) -> torch.nn.Module:
    """A shallower copy of a classifier (pre-trained or fine-tuned): its layers, head and pooling."""
    if isinstance(model, MeanPoolingClassifier):
        return model.with_encoder(build_student(model.encoder, layers))
    return build_student(model, layers)


def check_zoo(zoo: ZooConfig) -> None:
    """Fail before any training when a model cannot be found or a student asks for layers it cannot have."""
    for i, spec in enumerate(zoo.models):
        if spec.kind not in ("transformer", "static"):  # a static model is distilled from a checkpoint
            continue
        key = f"models.zoos.{zoo.name}.models[{i}]"
        location = model_location(spec)
        try:
            config = AutoConfig.from_pretrained(location)
        except OSError as error:  # a hub id offline or mistyped, or a broken local directory
            raise AssetError(
                f"{key}: {spec.source} model {spec.id!r} could not be loaded ({error}); "
                "hub models need internet once (then they are cached)"
            ) from error
        if spec.source != "hub":
            check_files(Path(location), f"{key}: {spec.source} model {spec.id!r}")
        depth = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None)
        if spec.layers and depth is not None:
            check_layers(list(spec.layers), f"{key}.layers", depth)


def check_files(directory: Path, what: str) -> None:
    """A model folder's tokenizer and weights load: a copy cut short or a hand-edited file is named now,
    not by a library traceback in the first fold. Cheap: the tokenizer is small and of the weights only
    the safetensors header is read."""
    if not any((directory / name).is_file() for name in TOKENIZER_FILES):
        raise AssetError(
            f"{what} has no tokenizer (none of {', '.join(TOKENIZER_FILES)} in {directory}); "
            "save it beside the model with tokenizer.save_pretrained(<that directory>)"
        )
    try:
        AutoTokenizer.from_pretrained(directory)
    except Exception as error:  # tokenizers and transformers raise many types for a damaged file
        raise AssetError(
            f"{what}: its tokenizer cannot be loaded ({type(error).__name__}: {error})"
        ) from error
    for weights in sorted(directory.glob("*.safetensors")):
        try:
            with safe_open(weights, "pt"):
                pass
        except Exception as error:  # SafetensorError for a truncated or foreign file
            raise AssetError(f"{what}: {weights.name} is damaged ({error}); copy it again") from error


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_model(model: torch.nn.Module, directory: Path) -> float:
    """Save as safetensors (what a user would ship) and return the weights' size on disk in MB."""
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    weights = list(directory.glob("*.safetensors"))
    return sum(f.stat().st_size for f in weights) / 1e6
