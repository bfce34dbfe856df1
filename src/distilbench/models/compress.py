"""Inference-only compressed variants of a fine-tuned classifier: int8 torch, ONNX fp32 and ONNX int8.

Any ``nn.Module`` whose ``forward(input_ids=, attention_mask=[, token_type_ids=])`` returns an object with
``.logits`` works (a transformers classifier or a custom head such as mean pooling): nothing here uses more
of the model than that call.

Choices, measured here (torch 2.13 CPU, onnxruntime 1.30-1.32):
- ``torch.ao.quantization.quantize_dynamic`` still works in torch 2.13. It warns that it is deprecated in
  favour of torchao; torchao is not needed while it works, and the warning is silenced here.
- ``torch.onnx.export(dynamo=False)`` (the TorchScript exporter): 0.2 s for a tiny BERT against 4.5 s for
  the dynamo exporter, and it writes one file (dynamo writes the weights beside it, ``<name>.onnx.data``,
  unless told not to). Both gave logits equal to torch's within 1e-6, with padded batches, whether or not
  the example batch itself had padding.
- The model must be in eval mode while exported: the TorchScript exporter restores the *wrapper's* mode
  afterwards, which would leave a model exported from a fresh wrapper in training mode (dropout on).
"""

from __future__ import annotations

import copy
import functools
import io
import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from distilbench.config.variants import FP32, ONNX_FILES, ONNX_FP32, ONNX_INT8, TORCH_INT8, VARIANTS
from distilbench.core.stop import check_stop

logger = logging.getLogger(__name__)

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")  # in this order, when present
OPSET = 18  # onnxruntime >= 1.14 runs it

Batch = Mapping[str, "torch.Tensor | np.ndarray"]


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model` with its Linear layers' weights in int8 (activations quantized on the fly).

    CPU only, inference only. The original model is left as it was.
    """
    copied = copy.deepcopy(model).cpu().eval()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*deprecated")
        quantize = torch.ao.quantization.quantize_dynamic
        return quantize(copied, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


class _LogitsOnly(torch.nn.Module):
    """Positional tensors in (the exporter's convention), the model's logits out."""

    def __init__(self, model: torch.nn.Module, names: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        return self.model(**{name: inputs[name] for name in self.names}).logits


def input_names(batch: Batch) -> tuple[str, ...]:
    """The model inputs a batch carries, in export order; input_ids and attention_mask are required."""
    missing = [name for name in INPUT_NAMES[:2] if name not in batch]
    if missing:
        raise ValueError(f"the batch has no {', '.join(missing)}; it has {', '.join(batch)}")
    return tuple(name for name in INPUT_NAMES if name in batch)


def export_onnx(model: torch.nn.Module, example_batch: Batch, path: Path) -> Path:
    """Write `model` as ONNX: inputs as in `example_batch`, batch and sequence axes dynamic, `logits` out.

    `example_batch` is any tokenized batch (a few examples are enough); token_type_ids is an input only when
    it is in the batch. Weights stay in the one file (protobuf's limit: models under 2 GB).
    """
    names = input_names(example_batch)
    tensors = tuple(torch.as_tensor(np.asarray(example_batch[n]), dtype=torch.long) for n in names)
    wrapper = _LogitsOnly(model, names)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    device, training = next(model.parameters()).device, model.training
    wrapper.cpu().eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # the TorchScript exporter's notices (deprecation, tracer warnings on shape checks): the export
            # is checked against torch's logits by the tests, on padded batches of other shapes
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                tensors,
                str(path),
                dynamo=False,
                input_names=list(names),
                output_names=["logits"],
                opset_version=OPSET,
                dynamic_axes={**axes, "logits": {0: "batch"}},
            )
    finally:
        model.to(device).train(training)
    return path


def quantize_onnx(src: Path, dst: Path) -> Path:
    """Dynamic quantization of an ONNX model: int8 (QInt8) weights, activations quantized at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    # it advises shape-inference pre-processing on the root logger at every call: for image models with
    # static shapes; a transformer's dynamic axes gain nothing from it, and the advice drowns the fold logs
    advice = _MessageFilter("consider to run pre-processing before quantization")
    logging.getLogger().addFilter(advice)
    try:
        quantize_dynamic(Path(src), dst, weight_type=QuantType.QInt8)
    finally:
        logging.getLogger().removeFilter(advice)
    return dst


class _MessageFilter(logging.Filter):
    def __init__(self, fragment: str):
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


class OnnxClassifier:
    """An ONNX Runtime session on the CPU with a fixed number of threads, fed tokenized batches."""

    def __init__(self, path: Path, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # fixed: timings comparable with torch at the same threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no notices about unused initializers
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = tuple(i.name for i in self.session.get_inputs())

    def predict_logits(self, batch: Batch) -> np.ndarray:
        """Logits (float32, one row per example) for a batch of numpy arrays or torch tensors."""
        missing = [name for name in self.input_names if name not in batch]
        if missing:
            raise ValueError(f"{self.path.name} needs {', '.join(missing)}; the batch has {', '.join(batch)}")
        feed = {name: _as_int64(batch[name]) for name in self.input_names}
        return self.session.run(["logits"], feed)[0]


def _as_int64(values: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.ascontiguousarray(values, dtype=np.int64)


@torch.no_grad()
def torch_logits(model: torch.nn.Module, batch: Batch) -> np.ndarray:
    """The same call for a torch model (fp32 or int8), for comparisons with OnnxClassifier."""
    model.eval()
    inputs = {name: torch.as_tensor(_as_int64(batch[name])) for name in input_names(batch)}
    return model(**inputs).logits.float().numpy()


# -- size on disk -------------------------------------------------------------------------------------------
def file_mb(path: Path) -> float:
    """Size in MB (1e6 bytes) of a file (an ONNX file holds its weights: see export_onnx), or of a folder."""
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
    return path.stat().st_size / 1e6


def state_dict_mb(model: torch.nn.Module) -> float:
    """What `torch.save(model.state_dict())` writes, in MB: the size on disk of a torch int8 model, whose
    packed weights safetensors cannot hold (fp32 models: zoo.save_model measures their safetensors)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes / 1e6


# -- all four at once ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    name: str  # one of config.variants.VARIANTS
    size_mb: float  # on disk: torch.save of the state dict, or the ONNX file
    predict_logits: Callable[[Batch], np.ndarray]


def build_variants(
    model: torch.nn.Module,
    example_batch: Batch,
    directory: Path,
    threads: int = 1,
    wanted: tuple[str, ...] = VARIANTS,
) -> list[Variant]:
    """The model and those of its compressed variants that are `wanted`, each with a size and a
    `predict_logits(batch)`.

    ONNX files are written to `directory` under their ONNX_FILES names (the int8 file is quantized from the
    fp32 one, so that is exported whenever either is wanted). Torch variants run with the caller's torch
    thread setting; ONNX sessions with `threads`.
    """
    directory = Path(directory)
    built = [Variant(FP32, state_dict_mb(model), functools.partial(torch_logits, model))]
    # each export or quantization is one library call with no hook (seconds for a small model): a stop
    # request is honoured between them
    if TORCH_INT8 in wanted:
        check_stop(TORCH_INT8)
        int8 = quantize_int8(model)
        built.append(Variant(TORCH_INT8, state_dict_mb(int8), functools.partial(torch_logits, int8)))
    if ONNX_FP32 in wanted or ONNX_INT8 in wanted:
        check_stop(ONNX_FP32)
        onnx_fp32 = export_onnx(model, example_batch, directory / ONNX_FILES[ONNX_FP32])
        if ONNX_FP32 in wanted:
            built.append(
                Variant(ONNX_FP32, file_mb(onnx_fp32), OnnxClassifier(onnx_fp32, threads).predict_logits)
            )
        if ONNX_INT8 in wanted:
            check_stop(ONNX_INT8)
            onnx_int8 = quantize_onnx(onnx_fp32, directory / ONNX_FILES[ONNX_INT8])
            built.append(
                Variant(ONNX_INT8, file_mb(onnx_int8), OnnxClassifier(onnx_int8, threads).predict_logits)
            )
    return built
