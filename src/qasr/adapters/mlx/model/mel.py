"""Whisper's 128-bin log-mel spectrogram, as Qwen3-ASR's processor computes it, in MLX.

The official processor calls `transformers.WhisperFeatureExtractor(feature_size=128)` with
`padding=True, truncation=False`: a single clip is neither padded nor cut to 30 s, the STFT is
centred (reflect padding of n_fft // 2), the last frame is dropped, so a clip of `n` samples
gives `n // 160` frames. The dynamic-range clamp (max - 8) uses the maximum of the whole clip,
so a long clip is transformed in chunks but clamped once at the end.

Precision: the reference's torch path computes the STFT in float32, whose rounding error is
relative to a frame's energy; quiet mel bins of loud frames (mostly single-FFT-bin low mel bins)
end up ~3e-5 (6 s of speech) to 6.4e-5 (20 minutes) from the exact value. An MLX float32 FFT
errs as much but elsewhere, so the two differed by up to ~6e-5. We compute the STFT as a matmul
with a float64 DFT basis instead (float64 runs on the CPU stream on every platform, ~0.1-0.3 s
per audio minute here), so we match the transformers float64 numpy path to ~1.2e-7 and are
never further from the torch path than the exact spectrum is.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.backend import mx
from qasr.errors import InvalidInputError

SAMPLE_RATE = 16_000
N_FFT = 400
HOP_LENGTH = 160
# Bounds the float64 STFT's working memory to ~30 MB (4096 frames x 400 samples, twice).
FRAMES_PER_CHUNK = 4096
# torch.stft's reflect padding needs more samples than the pad width; the official feature
# extractor fails below this, so we refuse with a clear message instead.
MIN_SAMPLES = N_FFT // 2 + 1
_LOG_FLOOR = 1e-10
_DYNAMIC_RANGE = 8.0


def _hz_to_slaney_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Slaney's scale: linear (3 mels per 200 Hz) below 1 kHz, logarithmic above.
    linear = hz * 3.0 / 200.0
    logarithmic = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) * 27.0 / np.log(6.4)
    return np.where(hz >= 1000.0, logarithmic, linear)


def _slaney_mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = mel * 200.0 / 3.0
    logarithmic = 1000.0 * np.exp((mel - 15.0) * np.log(6.4) / 27.0)
    return np.where(mel >= 15.0, logarithmic, linear)


@functools.lru_cache(maxsize=8)
def mel_filterbank(
    n_mels: int = 128, n_fft: int = N_FFT, rate: int = SAMPLE_RATE
) -> npt.NDArray[np.float64]:
    """Slaney-normalised triangular filters on the Slaney mel scale, 0 Hz to rate / 2.

    Shape [n_fft // 2 + 1, n_mels], float64; read-only because it is cached.
    """
    fft_hz = np.linspace(0.0, rate // 2, n_fft // 2 + 1)
    edges_mel = np.linspace(
        _hz_to_slaney_mel(np.array(0.0)), _hz_to_slaney_mel(np.array(rate / 2)), n_mels + 2
    )
    edges_hz = _slaney_mel_to_hz(edges_mel)
    lower, centre, upper = edges_hz[:-2], edges_hz[1:-1], edges_hz[2:]
    rising = (fft_hz[:, None] - lower) / (centre - lower)
    falling = (upper - fft_hz[:, None]) / (upper - centre)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    # Slaney normalisation: each filter has unit area in Hz, so wide filters are not louder.
    filters = triangles * (2.0 / (upper - lower))
    filters.setflags(write=False)
    return filters


@functools.lru_cache(maxsize=2)
def _windowed_dft_basis(n_fft: int = N_FFT) -> mx.array:
    """[n_fft, 2 * (n_fft // 2 + 1)] float64: Hann-windowed cosines, then sines."""
    sample = np.arange(n_fft)
    # A periodic Hann window, as torch.hann_window(n_fft) builds it.
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * sample / n_fft)
    # Reducing k * n modulo n_fft keeps the angles small, so cos/sin stay exact to 1 ulp.
    turns = (np.arange(n_fft // 2 + 1)[:, None] * sample[None, :]) % n_fft
    angle = 2.0 * np.pi * turns / n_fft
    basis = np.concatenate([np.cos(angle) * window, -np.sin(angle) * window], axis=0)
    return mx.array(np.ascontiguousarray(basis.T), dtype=mx.float64)


def _reflect_pad(samples: mx.array, width: int) -> mx.array:
    # numpy/torch "reflect": the edge sample is not repeated.
    head = samples[1 : width + 1][::-1]
    tail = samples[-width - 1 : -1][::-1]
    return mx.concatenate([head, samples, tail])


def _log10_mel(padded: mx.array, first: int, count: int, filters: mx.array) -> mx.array:
    """log10 of the mel power of frames [first, first + count), float64 [count, n_mels]."""
    frames = mx.as_strided(
        padded, shape=(count, N_FFT), strides=(HOP_LENGTH, 1), offset=first * HOP_LENGTH
    )
    spectrum = frames @ _windowed_dft_basis()
    bins = N_FFT // 2 + 1
    power = mx.square(spectrum[:, :bins]) + mx.square(spectrum[:, bins:])
    return mx.log10(mx.maximum(power @ filters, _LOG_FLOOR))


def log_mel_spectrogram(
    samples: npt.ArrayLike | mx.array,
    n_mels: int = 128,
    *,
    frames_per_chunk: int = FRAMES_PER_CHUNK,
) -> mx.array:
    """The official processor's log-mel features of one 16 kHz mono clip.

    Returns float32 [n_mels, len(samples) // 160]. Raises `InvalidInputError` for anything but a
    1-D clip of at least `MIN_SAMPLES` (201) samples; pad shorter clips with zeros (the official
    pipeline pads clips to 0.5 s).
    """
    # The reference quantises its input to float32 first; so do we, then widen exactly.
    clip = (
        samples.astype(mx.float32)
        if isinstance(samples, mx.array)
        else mx.array(np.asarray(samples, dtype=np.float32))
    )
    if clip.ndim != 1:
        raise InvalidInputError(
            f"log-mel needs 1-D mono samples, got shape {tuple(clip.shape)}; mix channels first"
        )
    if clip.size < MIN_SAMPLES:
        raise InvalidInputError(
            f"log-mel needs at least {MIN_SAMPLES} samples ({1000 * MIN_SAMPLES / SAMPLE_RATE:.1f}"
            f" ms at 16 kHz), got {clip.size}; pad short clips with zeros"
        )
    if frames_per_chunk < 1:
        raise InvalidInputError(f"frames_per_chunk must be positive, got {frames_per_chunk}")
    n_frames = clip.size // HOP_LENGTH
    with mx.stream(mx.cpu):  # float64 exists only on the CPU
        padded = _reflect_pad(clip.astype(mx.float64), N_FFT // 2)
        filters = mx.array(mel_filterbank(n_mels), dtype=mx.float64)
        chunks, loudest = [], -np.inf
        for first in range(0, n_frames, frames_per_chunk):
            count = min(frames_per_chunk, n_frames - first)
            log_mel = _log10_mel(padded, first, count, filters)
            loudest = max(loudest, log_mel.max().item())
            # Kept as float32 so memory stays at the output's size; clamping needs the max of all.
            chunks.append(log_mel.astype(mx.float32))
            mx.eval(chunks[-1])
        log_mel = mx.concatenate(chunks, axis=0).T
        floor = mx.array(loudest - _DYNAMIC_RANGE, dtype=mx.float32)
        features = (mx.maximum(log_mel, floor) + 4.0) / 4.0
        mx.eval(features)
    return features
