"""The AudioSource port's contract, checked for every adapter and the fake alike.

A new audio source proves itself by being added to `SOURCES`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qasr.adapters.audio import (
    DefaultAudioSource,
    FfmpegAudioSource,
    WavAudioSource,
    resample,
    write_wav,
)
from qasr.domain import AudioClip
from qasr.errors import AudioError
from qasr.ports import AudioSource
from qasr.testing import FakeAudioSource

RATE = 44100
SECONDS = 0.5
TONE_HZ = 1000.0


def stereo_tone() -> np.ndarray:
    times = np.arange(round(SECONDS * RATE)) / RATE
    left = 0.5 * np.sin(2 * np.pi * TONE_HZ * times)
    return np.stack([left, 0.5 * left], axis=1)  # mono mix: 0.375 x the sine


def fake_with(path: Path, frames: np.ndarray) -> FakeAudioSource:
    return FakeAudioSource({path.name: (frames, RATE)}, missing={"missing.wav"})


def needs_ffmpeg(make: Callable[[Path, np.ndarray], AudioSource]) -> object:
    skip = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
    return pytest.param(make, marks=skip, id=make.__name__)


def default_source(path: Path, frames: np.ndarray) -> AudioSource:
    return DefaultAudioSource()


def wav_source(path: Path, frames: np.ndarray) -> AudioSource:
    return WavAudioSource()


def ffmpeg_source(path: Path, frames: np.ndarray) -> AudioSource:
    return FfmpegAudioSource()


def fake_source(path: Path, frames: np.ndarray) -> AudioSource:
    return fake_with(path, frames)


SOURCES = [
    pytest.param(default_source, id="default"),
    pytest.param(wav_source, id="wav"),
    needs_ffmpeg(ffmpeg_source),
    pytest.param(fake_source, id="fake"),
]


@pytest.fixture(params=SOURCES)
def case(request, tmp_path) -> tuple[AudioSource, Path]:
    path = tmp_path / "tone.wav"
    frames = stereo_tone()
    write_wav(path, frames, RATE, "float32")
    return request.param(path, frames), path


def test_is_an_audio_source(case):
    source, _ = case
    assert isinstance(source, AudioSource)


def test_a_file_loads_as_16_khz_mono_float32_named_after_the_file(case):
    source, path = case
    clip = source.load(path)
    assert isinstance(clip, AudioClip)
    assert clip.sample_rate == 16000
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert clip.name == "tone.wav"
    assert abs(clip.duration - SECONDS) <= 1 / 16000
    expected = resample(stereo_tone().mean(axis=1), RATE)
    # ffmpeg's own resampler differs from ours by a little; the content must be the same tone.
    middle = slice(400, -400)
    np.testing.assert_allclose(clip.samples[middle], expected[middle], atol=2e-3)


def test_a_string_path_works_like_a_path(case):
    source, path = case
    assert source.load(str(path)).name == "tone.wav"


def test_a_1d_array_is_16_khz_samples_with_no_name(case):
    source, _ = case
    samples = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
    clip = source.load(samples)
    assert (clip.sample_rate, clip.name) == (16000, "")
    np.testing.assert_array_equal(clip.samples, samples)


def test_an_array_with_its_rate_is_resampled(case):
    source, _ = case
    clip = source.load((np.zeros((8000, 2), dtype=np.int16), 8000))
    assert (clip.sample_rate, clip.num_samples) == (16000, 16000)
    assert clip.samples.dtype == np.float32


def test_a_16_khz_clip_comes_back_unchanged(case):
    source, _ = case
    clip = AudioClip(np.full(160, 0.25, dtype=np.float32), name="given")
    assert source.load(clip) == clip


def test_missing_input_is_an_audio_error_naming_it(case):
    source, path = case
    missing = path.with_name("missing.wav")
    with pytest.raises(AudioError, match=r"missing\.wav"):
        source.load(missing)


def test_empty_input_is_an_audio_error_not_an_empty_clip(case):
    source, _ = case
    with pytest.raises(AudioError):
        source.load(np.zeros(0, dtype=np.float32))
