"""The log-mel frontend's contract: shapes, limits, and the properties of Whisper's features."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.mel import MIN_SAMPLES, log_mel_spectrogram, mel_filterbank
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
