"""The voice's pitch beside its GE2E print: two voices that print alike rarely share a pitch.

GE2E prints some pairs of voices almost alike (through a telephone band two espeak-ng voices a
major third apart print at cosine 0.95, closer than one voice's windows to their own centre), so
the count search merges them. A speaker's median pitch over a few seconds moves little (our
synthetic voices by ~3 Hz from sentence to sentence; people more, with intonation and effort),
while voices that print alike often stand semitones apart. So each print gets two more values:
the window's median log pitch as a point on a circle (`RADIANS_PER_OCTAVE`), weighted so that
the print stays a unit vector. Two windows' similarity is then
`(1 - w) * cos(GE2E) + w * cos(angle between pitches)`; a window with too little voiced speech
carries no pitch (its pitch part is zero before renormalising, so it compares on GE2E alone).

The pitch: per 10 ms frame (centred like the mel frames), the normalised autocorrelation of a
40 ms Hann-windowed frame, divided by the window's own autocorrelation (Boersma 1993), between
60 and 400 Hz; the shortest lag whose peak comes within `OCTAVE_SLACK` of the highest, so that
twice the period (an octave low) loses to the period itself. A frame is voiced when that peak is
at least `VOICING` and its energy lies within 35 dB of the clip's loudest frame.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qasr.adapters.diarization.voice_encoder import HOP, SAMPLE_RATE

FRAME = 640  # 40 ms: two periods of the lowest pitch
LOWEST_HZ, HIGHEST_HZ = 60.0, 400.0
VOICING = 0.6
OCTAVE_SLACK = 0.85
QUIET_DB = 35.0
MIN_VOICED_FRAMES = 10  # a window with fewer voiced frames carries no pitch
RADIANS_PER_OCTAVE = np.pi / 2  # voices a fifth apart (0.58 octaves) compare at cos 0.61
DEFAULT_PITCH_WEIGHT = 0.15
_FRAMES_PER_BLOCK = 4096  # bounds the float64 framing to ~40 MB whatever the clip's length


def pitch_track(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """[1 + len // 160] log2 pitch in Hz per 10 ms frame, centred like `mel_frames`; NaN where
    the frame is unvoiced or quiet."""
    padded = np.pad(np.asarray(samples, dtype=np.float64), FRAME // 2)
    count = 1 + len(samples) // HOP
    window = np.hanning(FRAME)
    window_ac = _autocorrelation(window[None, :])[0]
    window_ac = np.maximum(window_ac / window_ac[0], 1e-3)
    shortest, longest = int(SAMPLE_RATE / HIGHEST_HZ), int(SAMPLE_RATE / LOWEST_HZ)
    lags = np.zeros(count)
    peaks = np.zeros(count)
    energy = np.zeros(count)
    for first in range(0, count, _FRAMES_PER_BLOCK):
        starts = np.arange(first, min(first + _FRAMES_PER_BLOCK, count)) * HOP
        frames = padded[starts[:, None] + np.arange(FRAME)]
        frames = frames - frames.mean(axis=1, keepdims=True)
        energy[first : first + len(starts)] = np.mean(frames**2, axis=1)
        ac = _autocorrelation(frames * window)
        ac = ac / np.maximum(ac[:, :1], 1e-20) / window_ac
        lag, peak = _shortest_strong_peak(ac[:, shortest : longest + 1])
        lags[first : first + len(starts)] = lag + shortest
        peaks[first : first + len(starts)] = peak
    level = 10.0 * np.log10(energy + 1e-20)
    voiced = (peaks >= VOICING) & (level >= level.max() - QUIET_DB) & (energy > 1e-12)
    return np.where(voiced, np.log2(SAMPLE_RATE / lags), np.nan)


def window_pitch(
    track: npt.NDArray[np.float64], starts: npt.NDArray[np.int64], frames: int
) -> npt.NDArray[np.float64]:
    """The median log2 pitch of each window [start, start + frames) of `track`; NaN for a
    window with fewer than MIN_VOICED_FRAMES voiced frames."""
    if len(starts) == 0:
        return np.zeros(0)
    stretches = track[np.asarray(starts)[:, None] + np.arange(frames)]
    voiced = np.sum(~np.isnan(stretches), axis=1)
    medians = np.full(len(starts), np.nan)
    enough = voiced >= MIN_VOICED_FRAMES
    if enough.any():
        medians[enough] = np.nanmedian(stretches[enough], axis=1)
    return medians


def with_pitch(
    prints: npt.NDArray[np.floating],
    pitches: npt.NDArray[np.float64],
    weight: float = DEFAULT_PITCH_WEIGHT,
) -> npt.NDArray[np.float32]:
    """Unit prints [n, d + 2]: sqrt(1 - weight) * the unit GE2E `prints` [n, d], then
    sqrt(weight) * the pitch's point on the circle (zeros where the pitch is NaN, and then the
    row renormalised); weight 0 gives the prints with two zero columns."""
    angle = np.nan_to_num(pitches, nan=0.0) * RADIANS_PER_OCTAVE
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    circle[np.isnan(pitches)] = 0.0
    joined = np.concatenate(
        [np.sqrt(1.0 - weight) * np.asarray(prints, np.float64), np.sqrt(weight) * circle], axis=1
    )
    norms = np.linalg.norm(joined, axis=1, keepdims=True)
    return (joined / np.maximum(norms, 1e-12)).astype(np.float32)


def _autocorrelation(frames: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    size = 2 * frames.shape[1]
    return np.fft.irfft(np.abs(np.fft.rfft(frames, size, axis=1)) ** 2, size, axis=1)[
        :, : frames.shape[1]
    ]


def _shortest_strong_peak(
    ac: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Per row, the first local maximum within OCTAVE_SLACK of the row's highest, and its value."""
    inner = (ac[:, 1:-1] >= ac[:, :-2]) & (ac[:, 1:-1] >= ac[:, 2:])
    local = np.zeros_like(ac, dtype=bool)
    local[:, 1:-1] = inner
    highest = np.max(np.where(local, ac, -np.inf), axis=1, keepdims=True)
    strong = local & (ac >= OCTAVE_SLACK * highest)
    lag = np.argmax(strong, axis=1)  # the first True; a row without a local maximum gives 0
    has_peak = strong.any(axis=1)
    peak = np.where(has_peak, ac[np.arange(len(ac)), lag], 0.0)
    return lag, peak
