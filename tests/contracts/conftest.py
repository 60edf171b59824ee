"""Audio and checkpoints for the contract tests, as fixtures.

A real adapter joins a contract by one `pytest.param(builder, id=..., marks=pytest.mark.slow)` in
its test module's list. Builders take the pytest `request` (to ask for `tiny_asr_checkpoint`) and
skip when what they need (the adapter module, torch and qwen_asr) is missing. Hypothesis tests
draw clips with `data.draw(clips.speech())`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import strategies as st

from qasr.domain import SAMPLE_RATE, AudioClip


def tone_clip(seconds: float, frequency: float = 220.0, amplitude: float = 0.5) -> AudioClip:
    times = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return AudioClip((amplitude * np.sin(2 * np.pi * frequency * times)).astype(np.float32))


def silent_clip(seconds: float) -> AudioClip:
    return AudioClip(np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32))


@st.composite
def speech_like_clips(draw: st.DrawFn, max_seconds: float = 3.0) -> AudioClip:
    """Short noisy tones: loud enough to count as sound, different in every example."""
    seconds = draw(st.floats(0.3, max_seconds))
    frequency = draw(st.floats(100.0, 2_000.0))
    seed = draw(st.integers(0, 2**32 - 1))
    clip = tone_clip(seconds, frequency)
    noise = np.random.default_rng(seed).normal(0, 0.05, clip.num_samples).astype(np.float32)
    return AudioClip(clip.samples + noise)


class Clips:
    tone = staticmethod(tone_clip)
    silence = staticmethod(silent_clip)
    speech = staticmethod(speech_like_clips)


@pytest.fixture(scope="session")
def clips() -> type[Clips]:
    return Clips


@pytest.fixture(scope="session")
def tiny_asr_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A random-weight Qwen3-ASR checkpoint of a few MB with the real vocabulary, built with the
    official classes (needs torch and qwen_asr)."""
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from tests.support.official import build_official_model, save_official_checkpoint
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    folder = tmp_path_factory.mktemp("tiny-asr")
    save_official_checkpoint(build_official_model(seed=0), folder)
    write_qwen_tokenizer_files(folder)
    yield str(folder)
    shutil.rmtree(folder, ignore_errors=True)  # ~120 MB, mostly the full-size vocabulary
