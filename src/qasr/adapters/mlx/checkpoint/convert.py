"""`qasr convert`: write a quantized (or re-typed) MLX copy of a Qwen3-ASR checkpoint.

The copy keeps the source's layout and config.json, so the one loader (`reading.load_thinker`)
reads both. Its tensors are the MLX model's own, under the layout's prefixes: the decoder's fused
`qkv_proj` / `gate_up_proj` keep their fused names (they are quantized as one layer, and the
loader's `TextModel.sanitize` passes fused names through), quantized layers add `.scales` and
`.biases`, and conv kernels go back to PyTorch's OIHW order that `AudioEncoder.sanitize` expects.
The official PyTorch code cannot read the copy; it is an MLX checkpoint (docs/adr/0009).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from qasr.adapters.mlx.backend import mx, parse_dtype, tree_flatten
from qasr.adapters.mlx.checkpoint.config import read_checkpoint_config
from qasr.adapters.mlx.checkpoint.files import (
    CONFIG_FILE,
    copy_side_files,
    resolve_model_folder,
    safetensors_files,
    write_json,
)
from qasr.adapters.mlx.checkpoint.output_folder import check_output_folder, publish, staging_folder
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan, quantize_thinker
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.checkpoint.weights import (
    Layout,
    checkpoint_name,
    conv_to_torch,
    is_conv_kernel,
)
from qasr.adapters.mlx.checkpoint.writing import MAX_SHARD_BYTES, write_weights
from qasr.errors import InvalidInputError


@attrs.frozen
class Conversion:
    """What `convert_checkpoint` wrote."""

    folder: Path
    dtype: str
    quantization: dict[str, Any] | None
    weight_files: tuple[str, ...]
    weight_bytes: int


def _checkpoint_tensors(model: Any, layout: Layout) -> dict[str, mx.array]:
    return {
        checkpoint_name(path, layout): conv_to_torch(value)
        if is_conv_kernel(path, value)
        else value
        for path, value in tree_flatten(model.parameters())
    }


def _source_dtype(folder: Path) -> mx.Dtype:
    for path in safetensors_files(folder):
        for value in mx.load(str(path)).values():  # lazy: nothing is read but the header
            if mx.issubdtype(value.dtype, mx.floating):
                return value.dtype
    return mx.float32


def convert_checkpoint(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    quantization: QuantizationPlan | None = None,
    dtype: str | None = None,
    force: bool = False,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Conversion:
    """Load `source` (hub id or folder, either layout), quantize and/or cast it, and write an MLX
    checkpoint folder at `output`. The float dtype defaults to the source's."""
    if quantization is None and dtype is None:
        raise InvalidInputError("nothing to convert: pass --quantize 4 or 8, and/or --dtype")
    target = Path(output).expanduser()
    check_output_folder(target, force=force, source=source)
    folder = resolve_model_folder(source)
    if target.resolve() == folder.resolve():
        raise InvalidInputError(f"output {str(target)!r} is the source folder; choose another")
    config = read_checkpoint_config(folder)
    if "quantization" in config.raw:
        raise InvalidInputError(
            f"{source} is already quantized; convert from the float checkpoint instead"
        )
    float_dtype = parse_dtype(dtype) or _source_dtype(folder)
    thinker = load_thinker(folder, float_dtype)
    block = quantize_thinker(thinker.model, quantization) if quantization else None
    tensors = _checkpoint_tensors(thinker.model, config.layout)
    raw_config = dict(config.raw)
    if block is not None:
        raw_config["quantization"] = block
    with staging_folder(target) as staging:
        copy_side_files(folder, staging)
        names = write_weights(tensors, staging, max_shard_bytes)
        write_json(staging / CONFIG_FILE, raw_config)
        publish(staging, target)
    return Conversion(
        folder=target,
        dtype=thinker.dtype_name,
        quantization=block,
        weight_files=tuple(names),
        weight_bytes=sum(value.nbytes for value in tensors.values()),
    )


__all__ = ["Conversion", "check_output_folder", "convert_checkpoint"]
