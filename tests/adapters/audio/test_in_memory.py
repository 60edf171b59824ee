"""Arrays, (array, rate) pairs and clips given directly, and what paths must not be."""

from __future__ import annotations

import numpy as np
import pytest
from audio_signals import peak_frequency, sine
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from qasr.adapters.audio import load_audio, pcm_to_float
from qasr.domain import AudioClip
from qasr.errors import AudioError


@pytest.mark.parametrize(
    "dtype, codes, expected",
    [
        (np.int16, [-32768, 0, 16384, 32767], [-1.0, 0.0, 0.5, 32767 / 32768]),
        (np.int32, [-(2**31), 0, 2**30], [-1.0, 0.0, 0.5]),
        (np.uint8, [0, 128, 192, 255], [-1.0, 0.0, 0.5, 127 / 128]),
        (np.int8, [-128, 0, 64], [-1.0, 0.0, 0.5]),
        (np.float64, [-0.25, 0.1], [-0.25, np.float32(0.1)]),
    ],
)
def test_integer_pcm_is_scaled_by_its_full_range(dtype, codes, expected):
    samples = load_audio(np.array(codes, dtype=dtype))
    assert samples.dtype == np.float32
    np.testing.assert_array_equal(samples, np.array(expected, dtype=np.float32))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.int16, hnp.array_shapes(min_dims=1, max_dims=1, max_side=50)))
def test_int16_scaling_is_exact_and_in_range(codes):
    floats = pcm_to_float(codes)
    assert np.all((floats >= -1) & (floats < 1))
    np.testing.assert_array_equal(np.round(floats * 32768).astype(np.int16), codes)


def test_a_1d_array_is_taken_as_16_khz_and_copied():
    samples = np.linspace(-0.5, 0.5, 320, dtype=np.float32)
    loaded = load_audio(samples)
    np.testing.assert_array_equal(loaded, samples)
    loaded[0] = 1.0
    assert samples[0] == -0.5


def test_2d_arrays_are_frames_by_channels_averaged():
    left, right = np.full(100, 0.5), np.full(100, -0.25)
    np.testing.assert_allclose(load_audio(np.stack([left, right], axis=1)), 0.125)


def test_channels_first_arrays_are_refused_not_guessed():
    with pytest.raises(AudioError, match=r"\(frames, channels\).*samples\.T"):
        load_audio(np.zeros((2, 16000)))


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_pairs_are_resampled(rate):
    samples = load_audio((sine(1000, 0.5, rate), rate))
    assert len(samples) == 8000
    assert peak_frequency(samples, 16000) == pytest.approx(1000, abs=0.5)


def test_a_clip_at_another_rate_is_resampled_and_keeps_its_name():
    clip = AudioClip(sine(500, 1.0, 8000), 8000, name="call.wav")
    from qasr.adapters.audio import DefaultAudioSource

    loaded = DefaultAudioSource().load(clip)
    assert (loaded.sample_rate, loaded.num_samples, loaded.name) == (16000, 16000, "call.wav")


@pytest.mark.parametrize(
    "bad, problem",
    [
        (np.zeros(0), "contains no audio"),
        (np.zeros((0, 2)), "contains no audio"),
        (np.zeros((4, 2, 2)), "1-D .* or 2-D"),
        (np.array(0.5), "1-D .* or 2-D"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.array([0.0, np.inf]), "NaN or infinite"),
        (np.zeros(4, dtype=np.int64), "dtype int64"),
        (np.zeros(4, dtype=np.complex64), "dtype complex64"),
        ([0.0, 0.1], "unsupported audio input of type list"),
        ((np.zeros(10), 0), "positive"),
        ((np.zeros(10), 44100.0), "integer"),
        ((np.zeros(10), 16000, "x"), "\\(array, sample_rate\\)"),
    ],
)
def test_bad_arrays_are_clear_errors(bad, problem):
    with pytest.raises(AudioError, match=problem):
        load_audio(bad)


def test_missing_paths_directories_and_empty_files(tmp_path):
    with pytest.raises(AudioError, match=r"no such file: .*nothing\.wav"):
        load_audio(tmp_path / "nothing.wav")
    with pytest.raises(AudioError, match="is a directory"):
        load_audio(tmp_path)
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.mp3: contains no audio"):
        load_audio(str(tmp_path / "empty.mp3"))
    with pytest.raises(AudioError, match="URLs are not fetched"):
        load_audio("https://example.com/a.wav")
