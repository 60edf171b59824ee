"""A float ORIGINAL-layout copy of a qasr checkpoint (quantized or not): what `qwen-asr` loads.

The official PyTorch code cannot read MLX's packed 4/8-bit layers (docs/adr/0009), so parity of a
quantized model with the official implementation is measured on this copy. `mx.dequantize`
turns each quantized layer into the float matrix `scales * q + biases`, evaluated at the dtype
the model is loaded in: the numbers qasr's quantized matmuls multiply with at that dtype (both
sides then differ only in summation order).

Tensors are written as a trained model is exported (`qasr.training.export` uses the same
function): the decoder's fused `qkv_proj` / `gate_up_proj` split back into q/k/v and gate/up, conv
kernels in PyTorch's OIHW order, `thinker.` names, "pt" safetensors metadata, and config.json
without its `quantization` block. Tokenizer files are copied and the official processor's side
files are added (`official_files`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qasr.adapters.mlx.backend import mx, nn, parse_dtype, tree_flatten, tree_unflatten
from qasr.adapters.mlx.checkpoint.config import CheckpointConfig
from qasr.adapters.mlx.checkpoint.convert import check_output_folder
from qasr.adapters.mlx.checkpoint.files import resolve_model_folder
from qasr.adapters.mlx.checkpoint.layout_convert import original_config
from qasr.adapters.mlx.checkpoint.official_files import write_official_side_files
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.checkpoint.weights import (
    FUSED_PROJECTIONS,
    Layout,
    checkpoint_name,
    conv_to_torch,
    is_conv_kernel,
)
from qasr.adapters.mlx.checkpoint.writing import MAX_SHARD_BYTES, write_original_checkpoint
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.errors import InvalidInputError

_QUANTIZED = (nn.QuantizedLinear, nn.QuantizedEmbedding)


def float_module(module: nn.Module) -> nn.Module:
    """The float layer (Linear or Embedding) that computes what the quantized `module` (a
    QuantizedLinear or QuantizedEmbedding) computes."""
    weight = mx.dequantize(
        module.weight,
        module.scales,
        module.get("biases"),
        group_size=module.group_size,
        bits=module.bits,
        mode=getattr(module, "mode", "affine"),
    )
    rows, columns = weight.shape
    if isinstance(module, nn.QuantizedEmbedding):
        layer = nn.Embedding(rows, columns)
    else:
        layer = nn.Linear(columns, rows, bias="bias" in module)
        if "bias" in module:
            layer.bias = module.bias
    layer.weight = weight  # replaces the random init before it is ever evaluated
    return layer


def dequantize_thinker(model: nn.Module) -> int:
    """Replace every quantized layer of `model` by its float equivalent, in place; return how
    many were replaced."""
    replaced = [
        (path, float_module(module))
        for path, module in model.named_modules()
        if isinstance(module, _QUANTIZED)
    ]
    if replaced:
        model.update_modules(tree_unflatten(replaced))
        mx.eval(model.parameters())
    return len(replaced)


def original_layout_tensors(
    model: Qwen3ASRThinker,
    dtype: mx.Dtype,
    parameters: Mapping[str, mx.array] | None = None,
) -> dict[str, mx.array]:
    """A float model's weights as an original-layout checkpoint stores them (`thinker.*`), cast
    to `dtype`; `parameters` (module path -> value) replaces the model's own, e.g. with LoRA
    adapters merged (training/export.py)."""
    text = model.model.config
    q_dim = text.num_attention_heads * text.head_dim
    kv_dim = text.num_key_value_heads * text.head_dim
    splits: dict[str, Any] = {"qkv_proj": [q_dim, q_dim + kv_dim], "gate_up_proj": 2}
    tensors: dict[str, mx.array] = {}
    if parameters is None:
        parameters = dict(tree_flatten(model.parameters()))
    for path, value in parameters.items():
        if mx.issubdtype(value.dtype, mx.floating):
            value = value.astype(dtype)
        module, _, leaf = path.rpartition(".")
        parent, _, proj = module.rpartition(".")
        if proj in FUSED_PROJECTIONS:
            pieces = mx.split(value, splits[proj], axis=0)
            for part, piece in zip(FUSED_PROJECTIONS[proj], pieces, strict=True):
                tensors[checkpoint_name(f"{parent}.{part}.{leaf}", Layout.ORIGINAL)] = piece
            continue
        if is_conv_kernel(path, value):
            value = conv_to_torch(value)
        tensors[checkpoint_name(path, Layout.ORIGINAL)] = value
    return tensors


def float_config(config: CheckpointConfig, dtype_name: str) -> dict[str, Any]:
    """config.json of the copy: original layout, no `quantization` block, the written dtype."""
    raw = dict(config.raw) if config.layout is Layout.ORIGINAL else original_config(config.raw)
    raw.pop("quantization", None)
    raw["torch_dtype"] = dtype_name
    if "dtype" in raw:
        raw["dtype"] = dtype_name
    return raw


def write_dequantized_checkpoint(
    source: str | os.PathLike[str],
    output: Path,
    *,
    dtype: str = "float32",
    force: bool = False,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Path:
    """Write the float original-layout copy of `source` (folder, bundled name or hub id) into
    `output`, loadable by qasr and by `qwen_asr.Qwen3ASRModel.from_pretrained`.

    `dtype` is both the dtype the weights are dequantized at and the one written; use the dtype
    qasr runs the quantized model at (float32 on CPU) to get the numbers it multiplies with.
    A float source is copied (re-typed and, from the -hf layout, renamed)."""
    float_dtype = parse_dtype(dtype) or mx.float32  # never None for a name
    check_output_folder(output, force=force, source=source)
    folder = resolve_model_folder(source)
    if output.resolve() == folder.resolve():
        raise InvalidInputError(f"output {str(output)!r} is the source folder; choose another")
    thinker = load_thinker(folder, float_dtype)
    dequantize_thinker(thinker.model)
    write_original_checkpoint(
        original_layout_tensors(thinker.model, float_dtype),
        float_config(thinker.config, thinker.dtype_name),
        folder,
        output,
        max_shard_bytes,
    )
    return write_official_side_files(output)


__all__ = [
    "dequantize_thinker",
    "float_config",
    "float_module",
    "original_layout_tensors",
    "write_dequantized_checkpoint",
]
