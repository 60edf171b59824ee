"""A trained model as a Qwen3-ASR checkpoint in the ORIGINAL layout, for qasr and `qwen-asr`.

The MLX modules differ from the checkpoint in three ways, undone here: LoRA adapters are merged
into their base weights, the decoder's fused `qkv_proj` / `gate_up_proj` are split back into
q/k/v and gate/up (`TextModel.sanitize` fuses them at load), and conv kernels go back from MLX's
OHWI to PyTorch's OIHW (`AudioEncoder.sanitize`). Names are `thinker.` + the module path
(`checkpoint.WEIGHT_PREFIXES`). config.json is the base's (converted from the -hf layout if need
be), and the tokenizer and processor files are copied from the base folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qasr.adapters.mlx.backend import dtype_name, mx
from qasr.adapters.mlx.checkpoint.config import CheckpointConfig
from qasr.adapters.mlx.checkpoint.dequantize import float_config, original_layout_tensors
from qasr.adapters.mlx.checkpoint.writing import MAX_SHARD_BYTES, write_original_checkpoint
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.training.lora import merged_parameters


def checkpoint_tensors(model: Qwen3ASRThinker, dtype: mx.Dtype) -> dict[str, mx.array]:
    """Original-layout tensors (`thinker.*`) of `model`, adapters merged, floats cast to `dtype`."""
    return original_layout_tensors(model, dtype, merged_parameters(model))


def exported_config(base: CheckpointConfig, dtype: mx.Dtype) -> dict[str, Any]:
    return float_config(base, dtype_name(dtype))


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
    return write_original_checkpoint(
        checkpoint_tensors(model, dtype),
        exported_config(base, dtype),
        base_folder,
        output,
        max_shard_bytes,
    )


__all__ = ["checkpoint_tensors", "export_checkpoint", "exported_config"]
