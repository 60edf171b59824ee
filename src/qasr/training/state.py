"""Resumable training checkpoints: trainable weights, optimizer state, step and settings.

`<output>/checkpoints/step-000100/` holds `trainable*.safetensors` (every trainable parameter:
the whole model, or only the LoRA adapters, whose frozen base is the `--model` checkpoint),
`optimizer*.safetensors` (AdamW moments, step, learning rate) and `trainer_state.json` (step,
settings, and the compact vocabulary's rows when there is one). All are stored in their own
dtype, so a resumed run continues bit for bit. A model trained from scratch holds only the used
vocabulary rows (vocab.py), so the state is small enough to carry between machines; files are cut
into shards of at most `MAX_SHARD_BYTES` (15 MiB) for the transfer limits of such machines.
The data order is a function of (seed, step) (`padded.bucketed_step_indices`) and nothing else in
a step is random, so no generator state is saved.
A checkpoint is written to a temporary folder and renamed into place, so a crash never leaves a
half-written one behind as the latest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import attrs

from qasr.adapters.mlx.backend import mx, nn, optim, tree_flatten, tree_unflatten
from qasr.adapters.mlx.checkpoint.writing import split_into_shards
from qasr.errors import CheckpointError

CHECKPOINTS = "checkpoints"
TRAINABLE = "trainable"
OPTIMIZER = "optimizer"
STATE = "trainer_state.json"
MAX_SHARD_BYTES = 15 * 2**20
_STEP_FOLDER = re.compile(r"^step-(\d+)$")


@attrs.frozen
class TrainerState:
    step: int  # optimizer steps done
    settings: dict[str, Any]  # what must not change on resume (model, LoRA, seed...)
    vocabulary: dict[str, Any] | None = None  # CompactVocabulary.record()


def save_shards(
    folder: Path, name: str, tensors: dict[str, mx.array], max_bytes: int = MAX_SHARD_BYTES
) -> None:
    """`name.safetensors`, or `name-00001-of-00003.safetensors`... past `max_bytes`."""
    shards = split_into_shards(tensors, max_bytes)
    if len(shards) == 1:
        mx.save_safetensors(str(folder / f"{name}.safetensors"), shards[0])
        return
    for number, shard in enumerate(shards, start=1):
        mx.save_safetensors(
            str(folder / f"{name}-{number:05d}-of-{len(shards):05d}.safetensors"), shard
        )


def load_shards(folder: Path, name: str) -> dict[str, mx.array]:
    paths = sorted(folder.glob(f"{name}-*-of-*.safetensors")) or [folder / f"{name}.safetensors"]
    tensors: dict[str, mx.array] = {}
    for path in paths:
        tensors.update(mx.load(str(path)))
    return tensors


def checkpoint_folder(output: Path, step: int) -> Path:
    return output / CHECKPOINTS / f"step-{step:06d}"


def latest_checkpoint(output: Path) -> Path | None:
    folder = output / CHECKPOINTS
    if not folder.is_dir():
        return None
    steps = [
        (int(match.group(1)), path)
        for path in folder.iterdir()
        if (match := _STEP_FOLDER.match(path.name)) and (path / STATE).is_file()
    ]
    return max(steps)[1] if steps else None


def save_checkpoint(
    output: Path, model: nn.Module, optimizer: optim.Optimizer, state: TrainerState
) -> Path:
    target = checkpoint_folder(output, state.step)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save_shards(staging, TRAINABLE, dict(tree_flatten(model.trainable_parameters())))
        save_shards(staging, OPTIMIZER, dict(tree_flatten(optimizer.state)))
        record = {"step": state.step, "settings": state.settings, "vocabulary": state.vocabulary}
        (staging / STATE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def read_state(folder: Path) -> TrainerState:
    try:
        record = json.loads((folder / STATE).read_text(encoding="utf-8"))
        return TrainerState(
            step=int(record["step"]),
            settings=dict(record["settings"]),
            vocabulary=record.get("vocabulary"),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"{folder / STATE} is unreadable ({error}); resume from an earlier checkpoint "
            "or delete this one"
        ) from None


def load_checkpoint(folder: Path, model: nn.Module, optimizer: optim.Optimizer) -> TrainerState:
    """Put the saved trainable weights into `model` and the saved state into `optimizer`."""
    state = read_state(folder)
    try:
        weights = load_shards(folder, TRAINABLE)
        moments = load_shards(folder, OPTIMIZER)
    except Exception as error:  # MLX raises RuntimeError/ValueError with C++ messages
        raise CheckpointError(f"{folder}: cannot read the checkpoint ({error})") from None
    expected = {name for name, _ in tree_flatten(model.trainable_parameters())}
    if set(weights) != expected:
        raise CheckpointError(
            f"{folder} holds other trainable weights than this model has; resume with the "
            "settings (--model, --lora-rank) of the run that wrote it"
        )
    model.load_weights(list(weights.items()), strict=False)
    optimizer.state = tree_unflatten(list(moments.items()))
    return state


__all__ = [
    "MAX_SHARD_BYTES",
    "TrainerState",
    "checkpoint_folder",
    "latest_checkpoint",
    "load_checkpoint",
    "load_shards",
    "read_state",
    "save_checkpoint",
    "save_shards",
]
