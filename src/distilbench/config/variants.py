"""The deployment variants of a fine-tuned classifier, and the files they are served from: one list.

Torch-free on purpose: the report, the champion choice and `distilbench predict`'s settings read these
names without paying for torch or transformers.

A `compress: true` model adds one report row per compressed variant, named `<model>+<variant>`; a saved
folder serves any variant: its fp32 weights, those quantized to int8 when loaded (deterministic from them),
or an ONNX file shipped in the folder.
"""

from __future__ import annotations

FP32 = "torch-fp32"  # the model as trained: a row without `+`
TORCH_INT8 = "torch-int8"
ONNX_FP32 = "onnx-fp32"
ONNX_INT8 = "onnx-int8"
VARIANTS = (FP32, TORCH_INT8, ONNX_FP32, ONNX_INT8)
COMPRESSED = VARIANTS[1:]  # the rows a `compress: true` model adds, in order
ONNX_FILES = {ONNX_FP32: "model.onnx", ONNX_INT8: "model-int8.onnx"}  # in a served folder
SEPARATOR = "+"  # a variant's row name: <model>+<variant>, e.g. minilm-l3-student+onnx-int8


def variant_row_name(model: str, variant: str) -> str:
    return f"{model}{SEPARATOR}{variant}"


def split_row_name(name: str) -> tuple[str, str]:
    """A report row's (model, variant): `student+onnx-int8` -> ("student", "onnx-int8"); `student` is fp32."""
    model, _, variant = name.partition(SEPARATOR)
    return model, variant or FP32
