"""Fixtures of the training tests: a tiny checkpoint folder and tiny manifests (cached per
session: tests copy nothing into them and write only into their own tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.training.tiny import TRAIN_ROWS, write_manifest, write_tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny-base"))


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("data")
    train = write_manifest(folder, "train", TRAIN_ROWS)
    valid = write_manifest(folder, "valid", TRAIN_ROWS[:2])
    return train, valid
