"""Test signals and measurements shared by the audio adapter tests."""

from __future__ import annotations

import numpy as np

TONE_HZ = 440.0  # the tone in every file the ffmpeg CLI encodes for the tests
TONE_SECONDS = 1.0


def peak_frequency(samples: np.ndarray, sample_rate: int) -> float:
    """The strongest frequency, refined between FFT bins by a parabola through the peak."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    peak = int(np.argmax(spectrum[1:-1])) + 1
    left, centre, right = np.log(spectrum[peak - 1 : peak + 2] + 1e-30)
    shift = 0.5 * (left - right) / (left - 2 * centre + right)
    return (peak + shift) * sample_rate / len(samples)


def sine(frequency: float, seconds: float, sample_rate: int, amplitude: float = 0.5) -> np.ndarray:
    times = np.arange(round(seconds * sample_rate)) / sample_rate
    return amplitude * np.sin(2 * np.pi * frequency * times)
