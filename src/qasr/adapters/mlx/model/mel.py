"""Whisper's 128-bin log-mel spectrogram, as Qwen3-ASR's processor computes it, in MLX.

The official processor calls `transformers.WhisperFeatureExtractor(feature_size=128)` with
`padding=True, truncation=False`: a single clip is neither padded nor cut to 30 s, the STFT is
centred (reflect padding of n_fft // 2), the last frame is dropped, so a clip of `n` samples
gives `n // 160` frames. The dynamic-range clamp (max - 8) uses the maximum of the whole clip,
so a long clip is transformed in chunks but clamped once at the end.

Precision: the reference's torch path computes the STFT in float32, whose rounding error is
relative to a frame's energy; quiet mel bins of loud frames (mostly single-FFT-bin low mel bins)
end up ~3e-5 (6 s of speech) to 6.4e-5 (20 minutes) from the exact value. An MLX float32 FFT
errs as much but elsewhere, so the two differed by up to ~6e-5. We compute the STFT in float64
with numpy's FFT instead (on the host, in every platform; ~0.03 s per audio minute on one core
here), so we match the transformers float64 numpy path to ~1.2e-7 and are never further from
the torch path than the exact spectrum is. numpy releases the GIL in its FFT and matmul, so a
batch of clips transforms in parallel threads while the accelerator is busy.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.mlx.backend import mx
from qasr.errors import InvalidInputError

SAMPLE_RATE = 16_000
N_FFT = 400
HOP_LENGTH = 160
# Frames transformed at once (the features do not depend on it). 512 frames x 400 samples of
# float64 (~1.6 MB) stay in a core's cache: on one core 17 vs 39 ms a 30 s clip against
# 4096-frame chunks on this 2-core CPU (docs/benchmarks/mel-threads-cpu.json), 18.1 vs 23.5 ms on
# the H200's host. But each chunk holds the GIL between numpy calls, so many threads of small
# chunks wait on each other: there 4 threads of 512 gave 170 clips/s, 8 or 16 threads of 4096
# gave 198-202, 16 of 512 only 115 (docs/benchmarks/mel-threads-h200.json).
FRAMES_PER_CHUNK = 512
MANY_THREADS_FRAMES_PER_CHUNK = 4096
MANY_THREADS = 8
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
def _hann_window(n_fft: int = N_FFT) -> npt.NDArray[np.float64]:
    # A periodic Hann window, as torch.hann_window(n_fft) builds it.
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    window.setflags(write=False)
    return window


@attrs.frozen(eq=False)
class _FilterBands:
    """The filterbank by bands: each FFT bin feeds at most two neighbouring filters (its
    triangles' falling and rising edges), so a bin's group is its first filter's index.

    The mel power is then a sum over each group's few bins instead of a dense BLAS product:
    no BLAS threads, which fight each other when clips transform in parallel threads (on the
    H200's 16-core host the dense product made 132 clips' log-mels take 120 ms each), and a
    frame's sums never depend on how many frames come with it. Groups of one width are summed
    together, so a chunk takes ~40 numpy calls, not 400: the threads then hold the GIL for
    little of their time."""

    widths: tuple[_Width, ...]
    first_weights: npt.NDArray[np.float64]  # [bins, 1]: weight into the group's filter
    second_weights: npt.NDArray[np.float64]  # [bins, 1]: weight into the next filter
    n_mels: int

    def apply(self, power: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """[bins, frames] power -> [n_mels, frames] mel power."""
        first, second = power * self.first_weights, power * self.second_weights
        out = np.zeros((self.n_mels, power.shape[1]))
        # Each filter is its own group's sum plus the previous group's second edge.
        for width in self.widths:
            out[width.owners] = _in_order(first, width.bins)
        for width in self.widths:
            out[width.next_filters] += _in_order(second, width.next_bins)
        return out


def _in_order(weighted: npt.NDArray[np.float64], bins: npt.NDArray[np.int64]) -> np.ndarray:
    """Each group's bins [groups, width] summed first to last, elementwise: a reduction could
    switch to pairwise order when a chunk has one frame, and the frame's value would change."""
    total = weighted[bins[:, 0]]
    for column in range(1, bins.shape[1]):
        total += weighted[bins[:, column]]
    return total


@attrs.frozen(eq=False)
class _Width:
    """The groups of one width: their filters, and their bins as [groups, width] indices."""

    owners: npt.NDArray[np.int64]
    bins: npt.NDArray[np.int64]
    next_filters: npt.NDArray[np.int64]  # owners + 1, where that filter exists
    next_bins: npt.NDArray[np.int64]


@functools.lru_cache(maxsize=8)
def _filter_bands(n_mels: int) -> _FilterBands:
    filters = mel_filterbank(n_mels)
    bins = filters.shape[0]
    owner = np.zeros(bins, dtype=np.int64)
    first, second = np.zeros((bins, 1)), np.zeros((bins, 1))
    for k in range(bins):
        used = np.flatnonzero(filters[k])
        if used.size > 2 or (used.size == 2 and used[1] != used[0] + 1):
            raise AssertionError(f"FFT bin {k} feeds filters {used.tolist()}, not two neighbours")
        owner[k] = used[0] if used.size else (owner[k - 1] if k else 0)
        first[k] = filters[k, used[0]] if used.size else 0.0
        second[k] = filters[k, used[1]] if used.size == 2 else 0.0
    starts = [k for k in range(bins) if k == 0 or owner[k] != owner[k - 1]]
    ends = [*starts[1:], bins]
    by_width: dict[int, list[int]] = {}
    for start, end in zip(starts, ends, strict=True):
        by_width.setdefault(end - start, []).append(start)
    widths = []
    for width, firsts in sorted(by_width.items()):
        owners = owner[firsts]
        indices = np.array(firsts)[:, None] + np.arange(width)
        has_next = owners + 1 < n_mels
        widths.append(_Width(owners, indices, owners[has_next] + 1, indices[has_next]))
    first.setflags(write=False)
    second.setflags(write=False)
    return _FilterBands(tuple(widths), first, second, n_mels)


def _log10_mel(
    padded: npt.NDArray[np.float64], first: int, count: int, bands: _FilterBands
) -> npt.NDArray[np.float64]:
    """log10 of the mel power of frames [first, first + count), float64 [n_mels, count]."""
    frames = np.lib.stride_tricks.as_strided(
        padded[first * HOP_LENGTH :],
        shape=(count, N_FFT),
        strides=(HOP_LENGTH * padded.itemsize, padded.itemsize),
        writeable=False,
    )
    spectrum = np.fft.rfft(frames * _hann_window(), axis=1)
    power = np.ascontiguousarray((np.square(spectrum.real) + np.square(spectrum.imag)).T)
    return np.log10(np.maximum(bands.apply(power), _LOG_FLOOR))


def numpy_log_mel(
    samples: npt.ArrayLike | mx.array,
    n_mels: int = 128,
    *,
    frames_per_chunk: int = FRAMES_PER_CHUNK,
) -> npt.NDArray[np.float32]:
    """`log_mel_spectrogram` as a numpy array: float32 [n_mels, len(samples) // 160].

    numpy releases the GIL inside its FFT and matmul, so clips transform in parallel threads
    (`log_mel_batch`), and it brings its own BLAS wherever it is installed.
    """
    # The reference quantises its input to float32 first; so do we, then widen exactly.
    if isinstance(samples, mx.array):
        samples = np.array(samples.astype(mx.float32))
    clip = np.asarray(samples, dtype=np.float32)
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
    # numpy/torch "reflect" padding: the edge sample is not repeated.
    padded = np.pad(clip.astype(np.float64), N_FFT // 2, mode="reflect")
    bands = _filter_bands(n_mels)
    log_mel = np.empty((n_mels, n_frames), dtype=np.float32)
    loudest = -np.inf
    for first in range(0, n_frames, frames_per_chunk):
        count = min(frames_per_chunk, n_frames - first)
        chunk = _log10_mel(padded, first, count, bands)
        loudest = max(loudest, float(chunk.max()))
        # Kept as float32 so memory stays at the output's size; clamping needs the max of all.
        log_mel[:, first : first + count] = chunk
    np.maximum(log_mel, np.float32(loudest - _DYNAMIC_RANGE), out=log_mel)
    log_mel += np.float32(4.0)
    log_mel /= np.float32(4.0)
    return log_mel


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
    return mx.array(numpy_log_mel(samples, n_mels, frames_per_chunk=frames_per_chunk))


# A clip's log-mel: computed, or computing in a worker thread (`MlxRecognizer.recognize`).
GivenMel = np.ndarray | mx.array | Future[np.ndarray]


def mel_result(mel: GivenMel) -> np.ndarray | mx.array:
    """The log-mel itself, waiting for it while a worker thread is still computing it."""
    return mel.result() if isinstance(mel, Future) else mel


def mel_workers(clips: int) -> int:
    """Threads for `clips` log-mels: one per clip, at most one per core (and at most 16)."""
    return max(1, min(clips, os.cpu_count() or 1, 16))


def frames_per_chunk(workers: int) -> int:
    """The STFT chunk for log-mels computed in `workers` threads at once."""
    return MANY_THREADS_FRAMES_PER_CHUNK if workers >= MANY_THREADS else FRAMES_PER_CHUNK


def log_mel_batch(
    clips: Sequence[npt.ArrayLike], n_mels: int = 128, *, workers: int | None = None
) -> list[mx.array]:
    """`log_mel_spectrogram` of each clip, the clips in parallel threads (the host's cores
    are otherwise idle while a GPU encodes and decodes). The results equal one-by-one calls."""
    count = mel_workers(len(clips)) if workers is None else workers
    if count <= 1 or len(clips) <= 1:
        return [log_mel_spectrogram(clip, n_mels) for clip in clips]
    transform = functools.partial(
        numpy_log_mel, n_mels=n_mels, frames_per_chunk=frames_per_chunk(count)
    )
    with ThreadPoolExecutor(count, thread_name_prefix="qasr-mel") as pool:
        mels = list(pool.map(transform, clips))
    return [mx.array(mel) for mel in mels]
