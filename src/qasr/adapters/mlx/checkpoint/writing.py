"""Write checkpoint folders: safetensors weights (sharded past a size, with an index) and the
original-layout checkpoint that qasr and the official `qwen-asr` both load."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.checkpoint.files import (
    CONFIG_FILE,
    WEIGHT_INDEX,
    copy_side_files,
    write_json,
)

MAX_SHARD_BYTES = 5 * 10**9  # Hugging Face's default shard size


def split_into_shards(tensors: Mapping[str, mx.array], max_bytes: int) -> list[dict[str, mx.array]]:
    """`tensors` in order, cut before the one that would take a shard past `max_bytes` (a
    tensor larger than that gets a shard of its own)."""
    shards: list[dict[str, mx.array]] = [{}]
    size = 0
    for name, value in tensors.items():
        if shards[-1] and size + value.nbytes > max_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = value
        size += value.nbytes
    return shards


def write_weights(
    tensors: Mapping[str, mx.array], folder: Path, max_bytes: int, *, format: str = "mlx"
) -> list[str]:
    """Safetensors files (sharded with an index above `max_bytes`); returns the file names.

    `format` goes into the metadata: transformers loads only files that say "pt"."""
    shards = split_into_shards(tensors, max_bytes)
    if len(shards) == 1:
        names = ["model.safetensors"]
    else:
        names = [
            f"model-{i:05d}-of-{len(shards):05d}.safetensors" for i in range(1, len(shards) + 1)
        ]
        index = {
            "metadata": {"total_size": sum(v.nbytes for v in tensors.values())},
            "weight_map": {
                key: name for name, shard in zip(names, shards, strict=True) for key in shard
            },
        }
        write_json(folder / WEIGHT_INDEX, index)
    for name, shard in zip(names, shards, strict=True):
        mx.save_safetensors(str(folder / name), shard, metadata={"format": format})
    return names


def write_original_checkpoint(
    tensors: Mapping[str, mx.array],
    config: Mapping[str, Any],
    side_files_from: Path,
    output: Path,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Path:
    """Write original-layout `tensors` and `config` into `output`, with the tokenizer and
    processor files of `side_files_from`. Earlier weight files in `output` are removed first,
    so a rewrite never mixes two models."""
    output.mkdir(parents=True, exist_ok=True)
    for stale in [*output.glob("*.safetensors"), output / WEIGHT_INDEX]:
        stale.unlink(missing_ok=True)
    if side_files_from.resolve() != output.resolve():
        copy_side_files(side_files_from, output)
    # "pt" metadata: transformers (the official qwen-asr) refuses safetensors without it.
    write_weights(tensors, output, max_shard_bytes, format="pt")
    write_json(output / CONFIG_FILE, config)
    return output


__all__ = ["MAX_SHARD_BYTES", "split_into_shards", "write_original_checkpoint", "write_weights"]
