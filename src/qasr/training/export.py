"""A trained model as a Qwen3-ASR checkpoint in the ORIGINAL layout, for qasr and `qwen-asr`.

The MLX modules differ from the checkpoint in three ways, undone here: LoRA adapters are merged
into their base weights, the decoder's fused `qkv_proj` / `gate_up_proj` are split back into
q/k/v and gate/up (`TextModel.sanitize` fuses them at load), and conv kernels go back from MLX's
OHWI to PyTorch's OIHW (`AudioEncoder.sanitize`). Names are `thinker.` + the module path
(`checkpoint.weights`). config.json is the base's (converted from the -hf layout if need
be), and the tokenizer and processor files are copied from the base folder. `export_saved`
exports a training checkpoint (state.py) the same way, without the run's data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qasr.adapters.mlx.backend import dtype_name, mx, parse_dtype
from qasr.adapters.mlx.checkpoint.config import CheckpointConfig
from qasr.adapters.mlx.checkpoint.dequantize import float_config, original_layout_tensors
from qasr.adapters.mlx.checkpoint.files import resolve_model_folder
from qasr.adapters.mlx.checkpoint.reading import load_thinker
from qasr.adapters.mlx.checkpoint.writing import MAX_SHARD_BYTES, write_original_checkpoint
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.training.lora import LoraSettings, apply_lora, merged_parameters
from qasr.training.state import TRAINABLE, load_shards, read_state
from qasr.training.vocab import CompactVocabulary, full_vocabulary


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


def export_saved(checkpoint: Path, base: Path, output: Path, dtype: str = "float32") -> Path:
    """Export a saved training checkpoint (`<run>/checkpoints/step-N`) of a run from `base`,
    without its data: the checkpoint keeps the compact vocabulary's rows (state.py). This is
    how a run trained on another machine is exported where only the checkpoint came back."""
    state = read_state(checkpoint)
    thinker = load_thinker(resolve_model_folder(str(base)), parse_dtype(dtype) or mx.float32)
    model = thinker.model
    settings = state.settings
    if settings.get("lora_rank"):
        lora = LoraSettings(
            settings["lora_rank"], settings["lora_alpha"], settings.get("lora_encoder", False)
        )
        apply_lora(model, lora, settings.get("seed", 0))
    vocabulary = None
    if state.vocabulary is not None:
        vocabulary = CompactVocabulary.from_record(state.vocabulary)
        embedding = model.model.embed_tokens
        embedding.weight = vocabulary.compress(embedding.weight)
    model.load_weights(list(load_shards(checkpoint, TRAINABLE).items()), strict=False)
    with full_vocabulary(model, vocabulary) as full:
        return export_checkpoint(full, thinker.config, thinker.folder, output, dtype=thinker.dtype)


__all__ = ["checkpoint_tensors", "export_checkpoint", "export_saved", "exported_config"]
