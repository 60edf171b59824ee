"""Shared fixtures of the parity tests: real speech and random official checkpoints.

Both are session-scoped and cached, because building a checkpoint or synthesising speech costs
seconds and many tests need the same one.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

SAMPLE_RATE = 16_000
SPEECH_TEXT = (
    "The quick brown fox jumps over the lazy dog. "
    "Speech recognition turns spoken words into written text."
)


def _synthesise(text: str, folder: Path) -> np.ndarray:
    """espeak-ng speaks at 22.05 kHz; sox resamples to 16 kHz float, as a user's file would be."""
    import soundfile

    raw, resampled = folder / "espeak.wav", folder / "speech16k.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(
        ["sox", str(raw), *f"-r {SAMPLE_RATE} -e floating-point -b 32".split(), str(resampled)],
        check=True,
        capture_output=True,
    )
    samples, rate = soundfile.read(str(resampled), dtype="float32")
    assert rate == SAMPLE_RATE
    return np.ascontiguousarray(samples if samples.ndim == 1 else samples.mean(axis=1))


@pytest.fixture(scope="session")
def speech_16k(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """About 6 s of English speech (espeak-ng), mono float32 at 16 kHz."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("needs espeak-ng and sox on PATH")
    return _synthesise(SPEECH_TEXT, tmp_path_factory.mktemp("speech"))


class OfficialCheckpoint(NamedTuple):
    model: Any  # qwen_asr Qwen3ASRForConditionalGeneration, float32, eval mode
    folder: Path  # save_pretrained() output: config.json + model.safetensors


CheckpointFactory = Callable[..., OfficialCheckpoint]


def _perturb_vectors(model: Any, scale: float, seed: int) -> None:
    import torch

    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim == 1:
                param.add_(scale * torch.randn(param.shape, generator=generator))


@pytest.fixture(scope="session")
def official_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> CheckpointFactory:
    """Factory `official_checkpoint(seed=0, audio=None, text=None, weight_scale=1.0,
    vector_noise=0.0, save=True)`.

    Builds a random official model (tiny shapes unless `audio`/`text` override them, see
    `tests/support/official.py`) and, with `save`, writes it to a temporary folder. The official
    init leaves every bias at 0 and every norm weight at 1, which would hide a bias or norm that
    is not loaded; `vector_noise` adds that much Gaussian noise to all 1-D parameters. Equal
    arguments return the same cached checkpoint, so tests must not modify the model.
    """
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from tests.support.official import build_official_model, save_official_checkpoint

    cache: dict[tuple[Any, ...], OfficialCheckpoint] = {}
    saved: set[Path] = set()

    def make(
        seed: int = 0,
        audio: dict[str, Any] | None = None,
        text: dict[str, Any] | None = None,
        weight_scale: float = 1.0,
        vector_noise: float = 0.0,
        save: bool = True,
    ) -> OfficialCheckpoint:
        key = (seed, repr(sorted((audio or {}).items())), repr(sorted((text or {}).items())))
        key += (weight_scale, vector_noise)
        if key not in cache:
            model = build_official_model(seed, audio, text, weight_scale)
            if vector_noise:
                _perturb_vectors(model, vector_noise, seed)
            cache[key] = OfficialCheckpoint(model, tmp_path_factory.mktemp("official"))
        checkpoint = cache[key]
        if save and checkpoint.folder not in saved:
            save_official_checkpoint(checkpoint.model, checkpoint.folder)
            saved.add(checkpoint.folder)
        return checkpoint

    return make
