"""Fixtures of the training tests: a tiny checkpoint folder and tiny manifests (cached per
session: tests copy nothing into them and write only into their own tmp_path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
from tests.training.tiny import TRAIN_ROWS, tiny_tokenizer, write_manifest, write_tiny_checkpoint

from qasr.adapters.mlx.backend import mx
from qasr.training.manifest import read_manifest
from qasr.training.scratch import share_unused_rows
from qasr.training.vocab import used_token_ids

EMBEDDING = "thinker.model.embed_tokens.weight"


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny-base"))


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("data")
    train = write_manifest(folder, "train", TRAIN_ROWS)
    valid = write_manifest(folder, "valid", TRAIN_ROWS[:2])
    return train, valid


@pytest.fixture(scope="session")
def shared_folder(
    tiny_folder: Path, manifests: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The tiny checkpoint with every row its data does not use set to one shared row."""
    folder = tmp_path_factory.mktemp("shared")
    for path in tiny_folder.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    examples = [*read_manifest(manifests[0]), *read_manifest(manifests[1])]
    used = used_token_ids(tiny_tokenizer(), examples)
    tensors = load_file(str(folder / "model.safetensors"))
    embedding = mx.array(tensors[EMBEDDING])

    class Holder:
        weight = embedding

    share_unused_rows(Holder, used)  # type: ignore[arg-type]
    tensors[EMBEDDING] = np.array(Holder.weight)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder
