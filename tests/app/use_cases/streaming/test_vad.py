"""The energy VAD's trimming of a window's edges."""

from __future__ import annotations

import numpy as np

from qasr.app.use_cases.streaming.vad import trim_silence

RATE = 16000


def tone(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 200 * t)).astype(np.float32)


def zeros(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.003 * rng.standard_normal(int(seconds * RATE))).astype(np.float32)


def test_clean_speech_keeps_the_margins_of_silence_around_it() -> None:
    audio = np.concatenate([zeros(1.0), tone(1.0), zeros(1.0)])
    trimmed = trim_silence(audio, 0.01, 0.3, 0.7)
    assert len(trimmed) == int(0.3 * RATE) + RATE + int(0.7 * RATE)
    assert np.array_equal(trimmed[: int(0.3 * RATE)], zeros(0.3))


def test_noisy_speech_between_digital_silence_starts_and_ends_with_its_noise() -> None:
    """Digital silence next to live noise is in no recording the model learnt from: the edges
    stop where the noise does, inside the margins."""
    audio = np.concatenate([zeros(1.0), noise(0.15, 1), tone(1.0), noise(0.2, 2), zeros(1.0)])
    trimmed = trim_silence(audio, 0.01, 0.3, 0.7)
    assert np.array_equal(trimmed, audio[RATE:-RATE])


def test_a_long_noise_floor_is_cut_at_the_margins() -> None:
    audio = np.concatenate([noise(1.0, 1), tone(1.0), noise(1.0, 2)])
    trimmed = trim_silence(audio, 0.01, 0.3, 0.7)
    assert len(trimmed) == int(0.3 * RATE) + RATE + int(0.7 * RATE)


def test_no_margin_leaves_the_audio_untouched() -> None:
    audio = np.concatenate([zeros(1.0), tone(1.0)])
    assert trim_silence(audio, 0.01, None) is audio


def test_a_noise_floor_above_the_silence_level_is_not_taken_for_speech() -> None:
    """Noise louder than `level` but 20 dB below the speech: the edges still find the speech
    (not the noise's start), then keep the noise around it and no digital silence."""
    loud_noise = 6 * noise(0.4, 3)  # RMS 0.018 > 0.01, speech RMS 0.21
    audio = np.concatenate([zeros(1.0), loud_noise[:3200], tone(1.0), loud_noise, zeros(1.0)])
    trimmed = trim_silence(audio, 0.01, 0.3, 0.3, relative=True)
    assert len(trimmed) == 3200 + RATE + int(0.3 * RATE)
    assert np.array_equal(trimmed[:3200], loud_noise[:3200])
