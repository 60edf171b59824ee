"""A trained model as a Qwen3-ASR checkpoint in the ORIGINAL layout, for qasr and `qwen-asr`.

The MLX modules differ from the checkpoint in three ways, undone here: LoRA adapters are merged
into their base weights, the decoder's fused `qkv_proj` / `gate_up_proj` are split back into
q/k/v and gate/up (`TextModel.sanitize` fuses them at load), and conv kernels go back from MLX's
OHWI to PyTorch's OIHW (`AudioEncoder.sanitize`). Names are `thinker.` + the module path
(`checkpoint.WEIGHT_PREFIXES`). config.json is the base's (converted from the -hf layout if need
be), and the tokenizer and processor files are copied from the base folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from qasr.adapters.mlx.asr_model import Qwen3ASRThinker
from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.checkpoint import CheckpointConfig, Layout
from qasr.adapters.mlx.convert import (
    MAX_SHARD_BYTES,
    checkpoint_name,
    write_json,
    write_weights,
)
from qasr.adapters.mlx.layout_convert import original_config
from qasr.training.lora import merged_parameters

WEIGHT_INDEX = "model.safetensors.index.json"
_SIDE_SUFFIXES = (".json", ".txt", ".jinja", ".model", ".tiktoken")
_NOT_COPIED = ("config.json", WEIGHT_INDEX)
_DTYPE_NAMES = {mx.float32: "float32", mx.bfloat16: "bfloat16", mx.float16: "float16"}


def checkpoint_tensors(model: Qwen3ASRThinker, dtype: mx.Dtype) -> dict[str, mx.array]:
    """Original-layout tensors (`thinker.*`) of `model`, adapters merged, floats cast to `dtype`."""
    text = model.model.config
    q_dim = text.num_attention_heads * text.head_dim
    kv_dim = text.num_key_value_heads * text.head_dim
    tensors: dict[str, mx.array] = {}
    for path, value in merged_parameters(model).items():
        if mx.issubdtype(value.dtype, mx.floating):
            value = value.astype(dtype)
        module, _, leaf = path.rpartition(".")
        parent, _, proj = module.rpartition(".")
        if proj == "qkv_proj":
            parts = mx.split(value, [q_dim, q_dim + kv_dim], axis=0)
            named = dict(zip(("q_proj", "k_proj", "v_proj"), parts, strict=True))
        elif proj == "gate_up_proj":
            named = dict(zip(("gate_proj", "up_proj"), mx.split(value, 2, axis=0), strict=True))
        else:
            if module.startswith("audio_tower.conv2d") and leaf == "weight" and value.ndim == 4:
                value = value.transpose(0, 3, 1, 2)  # MLX OHWI -> PyTorch OIHW
            tensors[checkpoint_name(path, Layout.ORIGINAL)] = value
            continue
        for name, part in named.items():
            tensors[checkpoint_name(f"{parent}.{name}.{leaf}", Layout.ORIGINAL)] = part
    return tensors


def exported_config(base: CheckpointConfig, dtype: mx.Dtype) -> dict[str, Any]:
    config = dict(base.raw) if base.layout is Layout.ORIGINAL else original_config(base.raw)
    config.pop("quantization", None)
    for key in ("torch_dtype", "dtype"):
        if key in config or key == "torch_dtype":
            config[key] = _DTYPE_NAMES.get(dtype, "float32")
    return config


def export_checkpoint(
    model: Qwen3ASRThinker,
    base: CheckpointConfig,
    base_folder: Path,
    output: Path,
    *,
    dtype: mx.Dtype = mx.float32,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Path:
    """Write config.json, the weights and the base's tokenizer files into `output`.

    Earlier weight files in `output` are removed first, so a re-export never mixes two models.
    """
    output.mkdir(parents=True, exist_ok=True)
    for stale in [*output.glob("*.safetensors"), output / WEIGHT_INDEX]:
        stale.unlink(missing_ok=True)
    if base_folder.resolve() != output.resolve():
        for path in sorted(base_folder.iterdir()):
            if path.is_file() and path.suffix in _SIDE_SUFFIXES and path.name not in _NOT_COPIED:
                shutil.copy2(path, output / path.name)
    # "pt" metadata: transformers (the official qwen-asr) refuses safetensors without it.
    write_weights(checkpoint_tensors(model, dtype), output, max_shard_bytes, format="pt")
    write_json(output / "config.json", exported_config(base, dtype))
    return output


__all__ = ["checkpoint_tensors", "export_checkpoint", "exported_config"]
