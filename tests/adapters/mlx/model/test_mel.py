"""The log-mel frontend's contract: shapes, limits, the properties of Whisper's features, and an
independent float64 numpy reference (its own filterbank, `np.fft.rfft` STFT), so these unit
tests do not take qasr's filterbank as their own oracle. The official comparison is in
tests/parity/test_mel_parity.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.mel import (
    MIN_SAMPLES,
    N_FFT,
    _filter_bands,
    frames_per_chunk,
    log_mel_batch,
    log_mel_spectrogram,
    mel_filterbank,
)
from qasr.errors import InvalidInputError

RATE = 16_000


def noise(n_samples: int, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal(n_samples)).astype(np.float32)


@pytest.mark.parametrize("n_samples", [201, 320, 1600, 16_037])
def test_one_frame_per_hop_and_the_last_dropped(n_samples):
    features = log_mel_spectrogram(noise(n_samples))
    assert features.shape == (128, n_samples // 160)
    assert features.dtype == mx.float32


def test_other_mel_counts():
    assert log_mel_spectrogram(noise(1600), n_mels=80).shape == (80, 10)


@pytest.mark.parametrize("n_samples", [0, 1, 160, MIN_SAMPLES - 1])
def test_clips_shorter_than_the_official_minimum_are_refused(n_samples):
    with pytest.raises(InvalidInputError, match="pad short clips"):
        log_mel_spectrogram(np.zeros(n_samples, np.float32))


def test_multichannel_input_is_refused():
    with pytest.raises(InvalidInputError, match="mono"):
        log_mel_spectrogram(np.zeros((2, 1600), np.float32))


def test_silence_sits_on_the_floor():
    # log10(1e-10) = -10 everywhere, the max is -10, so every value is (-10 + 4) / 4.
    features = np.array(log_mel_spectrogram(np.zeros(3200, np.float32)))
    assert np.all(features == -1.5)


@settings(max_examples=20, deadline=None)
@given(
    n_samples=st.integers(MIN_SAMPLES, 8000), seed=st.integers(0, 2**16), gain=st.floats(1e-4, 10)
)
def test_dynamic_range_is_eight_decades_below_the_clip_max(n_samples, seed, gain):
    features = np.array(log_mel_spectrogram(gain * noise(n_samples, seed)))
    assert features.min() >= features.max() - 2.0 - 1e-6  # 8 decades / 4


def test_the_floor_is_set_by_the_loudest_part_of_the_whole_clip():
    quiet, loud = 1e-4 * noise(16_000, 1), noise(16_000, 2)
    together = np.array(log_mel_spectrogram(np.concatenate([quiet, loud])))
    alone = np.array(log_mel_spectrogram(quiet))
    assert together[:, :50].min() > alone.min() + 0.5  # the quiet half is clamped harder
    np.testing.assert_allclose(together[:, :50].min(), together.max() - 2.0, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(n_frames=st.integers(2, 300), frames_per_chunk=st.integers(1, 64))
def test_chunking_does_not_change_the_features(n_frames, frames_per_chunk):
    samples = noise(n_frames * 160 + 37, n_frames)
    whole = np.array(log_mel_spectrogram(samples))
    chunked = np.array(log_mel_spectrogram(samples, frames_per_chunk=frames_per_chunk))
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-6)


def test_a_tone_lands_in_the_mel_bin_of_its_frequency():
    tone = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(RATE) / RATE).astype(np.float32)
    features = np.array(log_mel_spectrogram(tone))
    fft_bin = round(1000.0 / (RATE / 400))
    assert np.all(features[:, 10:-10].argmax(axis=0) == mel_filterbank(128)[fft_bin].argmax())


def test_numpy_float64_and_mlx_input_give_the_same_features():
    samples = noise(4000)
    reference = np.array(log_mel_spectrogram(samples))
    assert np.array_equal(np.array(log_mel_spectrogram(samples.astype(np.float64))), reference)
    assert np.array_equal(np.array(log_mel_spectrogram(mx.array(samples))), reference)


def test_filterbank_has_slaney_unit_area_filters():
    filters = mel_filterbank(128)
    assert filters.shape == (201, 128)
    assert np.all(filters >= 0) and np.all(filters.max(axis=0) > 0)
    hz_per_bin = RATE / 400
    # Wide filters are sampled finely enough for their sum to approximate the area.
    wide = (filters > 0).sum(axis=0) >= 5
    assert wide.sum() > 30
    np.testing.assert_allclose(filters[:, wide].sum(axis=0) * hz_per_bin, 1.0, atol=0.05)
    assert not filters.flags.writeable


# An independent reference ----------------------------------------------------------------------


def reference_slaney_filters(n_mels: int = 128, n_fft: int = 400, rate: int = RATE) -> np.ndarray:
    """Slaney's auditory toolbox filters, float64 [n_fft // 2 + 1, n_mels], written from the
    definition: mel = 3 f / 200 below 1 kHz, 15 + 27 log_6.4(f / 1 kHz) above; triangles
    between neighbouring edges, linear in Hz (`np.interp`), scaled to unit area."""

    def to_mel(hz: float) -> float:
        return 3 * hz / 200 if hz < 1000 else 15 + 27 * np.log(hz / 1000) / np.log(6.4)

    def to_hz(mel: float) -> float:
        return 200 * mel / 3 if mel < 15 else 1000 * 6.4 ** ((mel - 15) / 27)

    edges = [to_hz(m) for m in np.linspace(to_mel(0.0), to_mel(rate / 2), n_mels + 2)]
    fft_hz = np.arange(n_fft // 2 + 1) * rate / n_fft
    filters = np.empty((len(fft_hz), n_mels))
    for m in range(n_mels):
        low, centre, high = edges[m : m + 3]
        filters[:, m] = np.interp(fft_hz, [low, centre, high], [0.0, 1.0, 0.0]) * 2 / (high - low)
    return filters


def reference_log_mel(samples: np.ndarray, n_mels: int = 128) -> np.ndarray:
    """Whisper's features in float64 numpy: centred STFT (reflect padding, periodic Hann window,
    `rfft`), power, mel, log10 floored at 1e-10, clamped 8 decades below the clip's maximum,
    then (x + 4) / 4; the last frame is dropped."""
    clip = np.asarray(samples, np.float32).astype(np.float64)
    padded = np.pad(clip, 200, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, 400)[::160][:-1]
    window = np.hanning(401)[:-1]  # periodic: the symmetric window one longer, last dropped
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    log_mel = np.log10(np.maximum(power @ reference_slaney_filters(n_mels), 1e-10)).T
    return (np.maximum(log_mel, log_mel.max() - 8.0) + 4.0) / 4.0


def test_filterbank_equals_the_reference_filters() -> None:
    np.testing.assert_allclose(mel_filterbank(128), reference_slaney_filters(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(mel_filterbank(80), reference_slaney_filters(80), rtol=0, atol=1e-12)


def test_filterbank_equals_librosas_slaney_filters() -> None:
    librosa = pytest.importorskip("librosa")
    theirs = librosa.filters.mel(
        sr=RATE,
        n_fft=400,
        n_mels=128,
        fmin=0.0,
        fmax=RATE / 2,
        htk=False,
        norm="slaney",
        dtype=np.float64,
    )
    np.testing.assert_allclose(mel_filterbank(128), theirs.T, rtol=0, atol=1e-12)


def _chirp(n_samples: int) -> np.ndarray:
    t = np.arange(n_samples) / RATE
    return (0.4 * np.sin(2 * np.pi * (50 + 3000 * t) * t)).astype(np.float32)


@pytest.mark.parametrize(
    "samples",
    [noise(16_037, 3), _chirp(24_000), 1e-3 * noise(MIN_SAMPLES), 0.9 * noise(4_000, 4) ** 3],
    ids=["noise", "chirp", "shortest-quiet", "peaky"],
)
def test_features_equal_the_float64_reference(samples: np.ndarray) -> None:
    # qasr computes in float64 too and returns float32: the difference is float32 rounding.
    ours = np.array(log_mel_spectrogram(samples))
    np.testing.assert_allclose(ours, reference_log_mel(samples), rtol=0, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(
    lengths=st.lists(st.integers(MIN_SAMPLES, 40_000), min_size=0, max_size=5),
    workers=st.sampled_from([None, 1, 2, 3, 8]),
)
def test_a_batch_in_threads_equals_the_clips_one_by_one(lengths, workers):
    """Eight threads take larger STFT chunks than one clip alone: the features are the same."""
    clips = [noise(length, seed) for seed, length in enumerate(lengths)]
    batch = log_mel_batch(clips, workers=workers)
    assert len(batch) == len(clips)
    for clip, mel in zip(clips, batch, strict=True):
        np.testing.assert_array_equal(np.array(mel), np.array(log_mel_spectrogram(clip)))


def test_many_threads_take_larger_chunks_than_few() -> None:
    """Small chunks stay in a core's cache; many threads of them queue on the GIL instead."""
    sizes = [frames_per_chunk(workers) for workers in range(1, 17)]
    assert sizes == sorted(sizes)
    assert sizes[0] < sizes[-1]


def test_a_bad_clip_in_a_batch_fails_as_it_would_alone():
    with pytest.raises(InvalidInputError, match="pad short clips"):
        log_mel_batch([noise(1600), np.zeros(10, np.float32)], workers=2)


@settings(max_examples=10, deadline=None)
@given(n_samples=st.integers(MIN_SAMPLES, 30_000), block=st.integers(1, 200))
def test_the_blocks_the_frames_are_taken_in_do_not_change_them(n_samples, block):
    clip = noise(n_samples, 7)
    whole = np.array(log_mel_spectrogram(clip))
    blocks = np.array(log_mel_spectrogram(clip, frames_per_chunk=block))
    np.testing.assert_array_equal(blocks, whole)


@settings(max_examples=40, deadline=None)
@given(
    n_mels=st.sampled_from([80, 128]),
    frames=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    decades=st.integers(0, 12),
)
def test_the_filter_bands_equal_the_dense_filterbank_product(n_mels, frames, seed, decades):
    # Power spanning many decades per frame, as quiet bins of loud frames do.
    rng = np.random.default_rng(seed)
    power = rng.uniform(0, 1, (N_FFT // 2 + 1, frames)) * 10.0 ** rng.uniform(-decades, 0, (1, 1))
    power *= 10.0 ** rng.integers(-decades, 1, (N_FFT // 2 + 1, 1))
    dense = mel_filterbank(n_mels).T @ power
    bands = _filter_bands(n_mels).apply(power)
    assert bands.shape == (n_mels, frames)
    scale = np.abs(mel_filterbank(n_mels)).T @ np.abs(power)  # each sum's own magnitude
    assert np.all(np.abs(bands - dense) <= 1e-14 * scale + 1e-300)
    # A frame's sums do not depend on the frames beside it.
    assert np.array_equal(_filter_bands(n_mels).apply(power[:, :1]), bands[:, :1])
