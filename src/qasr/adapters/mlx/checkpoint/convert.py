"""`qasr convert`: write a quantized (or re-typed) MLX copy of a Qwen3-ASR checkpoint.

The copy keeps the source's layout and config.json, so the one loader (`asr_model.load_thinker`)
reads both. Its tensors are the MLX model's own, under the layout's prefixes: the decoder's fused
`qkv_proj` / `gate_up_proj` keep their fused names (they are quantized as one layer, and the
loader's `TextModel.sanitize` passes fused names through), quantized layers add `.scales` and
`.biases`, and conv kernels go back to PyTorch's OIHW order that `AudioEncoder.sanitize` expects.
The official PyTorch code cannot read the copy; it is an MLX checkpoint (docs/adr/0009).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from qasr.adapters.mlx.backend import mx, tree_flatten
from qasr.adapters.mlx.checkpoint.config import WEIGHT_PREFIXES, Layout, read_checkpoint_config
from qasr.adapters.mlx.checkpoint.files import resolve_model_folder, safetensors_files
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan, quantize_thinker
from qasr.adapters.mlx.model.thinker import load_thinker, parse_dtype
from qasr.errors import CheckpointError, InvalidInputError

MAX_SHARD_BYTES = 5 * 10**9  # Hugging Face's default shard size
_WEIGHT_FILES = ("model.safetensors.index.json", "config.json")
# Tokenizer, generation and preprocessor files, chat templates, the model card.
_COPIED_SUFFIXES = frozenset({".json", ".txt", ".jinja", ".md", ".model", ".tiktoken"})


@attrs.frozen
class Conversion:
    """What `convert_checkpoint` wrote."""

    folder: Path
    dtype: str
    quantization: dict[str, Any] | None
    weight_files: tuple[str, ...]
    weight_bytes: int


def checkpoint_name(module_path: str, layout: Layout) -> str:
    """The checkpoint tensor name for an MLX module path: `checkpoint.module_name` reversed."""
    for prefix, replacement in WEIGHT_PREFIXES[layout]:
        if module_path.startswith(replacement):
            return prefix + module_path[len(replacement) :]
    raise CheckpointError(f"no {layout.value}-layout name for the module path {module_path!r}")


def _checkpoint_tensors(model: Any, layout: Layout) -> dict[str, mx.array]:
    tensors = {}
    for path, value in tree_flatten(model.parameters()):
        if path.startswith("audio_tower.conv2d") and path.endswith(".weight") and value.ndim == 4:
            value = value.transpose(0, 3, 1, 2)  # MLX OHWI -> PyTorch OIHW
        tensors[checkpoint_name(path, layout)] = value
    return tensors


def _shards(tensors: Mapping[str, mx.array], max_bytes: int) -> list[dict[str, mx.array]]:
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
    shards = _shards(tensors, max_bytes)
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
        write_json(folder / "model.safetensors.index.json", index)
    for name, shard in zip(names, shards, strict=True):
        mx.save_safetensors(str(folder / name), shard, metadata={"format": format})
    return names


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def copy_side_files(source: Path, target: Path) -> None:
    """Copy the tokenizer, generation and processor files of `source` (not config or weights)."""
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix in _COPIED_SUFFIXES and path.name not in _WEIGHT_FILES:
            shutil.copy2(path, target / path.name)


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and next(path.iterdir(), None) is None


def check_output_folder(output: Path, *, force: bool) -> None:
    """Fail before any work if `output` cannot receive the copy."""
    if output.exists() and not output.is_dir():
        raise InvalidInputError(f"output {str(output)!r} is a file; pass a folder path")
    if output.is_dir() and not force and not _is_empty_dir(output):
        raise InvalidInputError(
            f"output folder {str(output)!r} is not empty; pass --force to replace it, or "
            "choose another folder"
        )


def _source_dtype(folder: Path) -> mx.Dtype:
    for path in safetensors_files(folder):
        for value in mx.load(str(path)).values():  # lazy: nothing is read but the header
            if mx.issubdtype(value.dtype, mx.floating):
                return value.dtype
    return mx.float32


def _publish(staging: Path, output: Path) -> None:
    """Move the finished folder into place; a replaced output is moved aside, then deleted."""
    aside = None
    if output.exists():
        aside = output.with_name(f".{output.name}.replaced-{os.getpid()}")
        os.rename(output, aside)
    try:
        os.rename(staging, output)
    except OSError:
        if aside is not None:
            os.rename(aside, output)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


@contextmanager
def _staging_folder(output: Path) -> Iterator[Path]:
    """A temporary folder next to `output` (same file system, so the final rename is atomic)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when the copy was published


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
    check_output_folder(target, force=force)
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
    with _staging_folder(target) as staging:
        copy_side_files(folder, staging)
        names = write_weights(tensors, staging, max_shard_bytes)
        write_json(staging / "config.json", raw_config)
        _publish(staging, target)
    return Conversion(
        folder=target,
        dtype=thinker.dtype_name,
        quantization=block,
        weight_files=tuple(names),
        weight_bytes=sum(value.nbytes for value in tensors.values()),
    )


__all__ = [
    "MAX_SHARD_BYTES",
    "Conversion",
    "check_output_folder",
    "checkpoint_name",
    "convert_checkpoint",
    "copy_side_files",
]
