"""Deterministic audio clips for tests: tones, noisy tones and silence at 16 kHz."""

from __future__ import annotations

import numpy as np

from qasr.domain import SAMPLE_RATE, AudioClip


def tone_clip(seconds: float, frequency: float = 220.0, amplitude: float = 0.5) -> AudioClip:
    """A sine of `frequency` Hz lasting `seconds`."""
    times = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return AudioClip((amplitude * np.sin(2 * np.pi * frequency * times)).astype(np.float32))


def noisy_tone_clip(
    seconds: float, frequency: float = 220.0, *, noise: float = 0.05, seed: int = 0
) -> AudioClip:
    """A tone with seeded Gaussian noise of std `noise`: loud enough to count as sound, and no
    two seeds alike, so a recognizer has something to tell apart."""
    tone = tone_clip(seconds, frequency).samples
    hiss = np.random.default_rng(seed).normal(0.0, noise, tone.size).astype(np.float32)
    return AudioClip(tone + hiss)


def silent_clip(seconds: float) -> AudioClip:
    """Digital silence: every sample zero."""
    return AudioClip(np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32))
