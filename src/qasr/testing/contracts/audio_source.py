"""The `AudioSource` port's contract (qasr.ports.AudioSource), as a suite a source subclasses.

>>> class TestMySource(AudioSourceContract):
...     def make_audio_source(self):
...         return MySource()

The suite writes its own sample file, a stereo 44.1 kHz WAV named `SAMPLE_NAME`; a source that
reads no files (a fake) is given its frames by `sample_frames()`.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pytest

from qasr.adapters.audio.wav import write_wav
from qasr.domain import SAMPLE_RATE, AudioClip
from qasr.errors import AudioError
from qasr.ports import AudioSource
from qasr.testing.contracts.suite import ContractSuite, run_suite

_SECONDS = 0.5
_TONE_HZ = 1000.0
_LEFT, _RIGHT = 0.5, 0.25  # channel amplitudes: the mono mix is their mean


class AudioSourceContract(ContractSuite):
    """Checks the promises of `AudioSource.load`: files, paths as text, arrays with and without
    their rate and clips all come back as mono float32 at 16 kHz (files named after themselves,
    the rest unnamed), resampled faithfully; missing and empty input is an `AudioError` naming
    it, never an empty clip. Override `make_audio_source` (or the class-scoped `audio_source`
    fixture)."""

    SAMPLE_NAME: ClassVar[str] = "tone.wav"
    MISSING_NAME: ClassVar[str] = "missing.wav"  # next to the sample; never created
    SAMPLE_RATE_IN: ClassVar[int] = 44_100

    def make_audio_source(self) -> AudioSource:
        raise NotImplementedError(
            f"{type(self).__name__}: override make_audio_source() or the `audio_source` fixture"
        )

    @classmethod
    def sample_frames(cls) -> npt.NDArray[np.float64]:
        """The sample file's frames [samples, 2]: a 1 kHz tone, the right channel at half level."""
        times = np.arange(round(_SECONDS * cls.SAMPLE_RATE_IN)) / cls.SAMPLE_RATE_IN
        tone = np.sin(2 * np.pi * _TONE_HZ * times)
        return np.stack([_LEFT * tone, _RIGHT * tone], axis=1)

    @classmethod
    def write_sample(cls, folder: Path) -> Path:
        path = folder / cls.SAMPLE_NAME
        write_wav(path, cls.sample_frames(), cls.SAMPLE_RATE_IN, "float32")
        return path

    @pytest.fixture(scope="class")
    def sample_wav(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="qasr-audio-contract-") as folder:
            yield self.write_sample(Path(folder))

    @pytest.fixture(scope="class")
    def audio_source(self) -> AudioSource:
        return self.make_audio_source()

    def test_it_is_an_audio_source(self, audio_source: AudioSource) -> None:
        assert isinstance(audio_source, AudioSource), "load(source) is missing"

    def test_a_file_loads_as_16_khz_mono_float32_named_after_the_file(
        self, audio_source: AudioSource, sample_wav: Path
    ) -> None:
        clip = audio_source.load(sample_wav)
        assert isinstance(clip, AudioClip)
        assert clip.sample_rate == SAMPLE_RATE
        assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
        assert clip.name == self.SAMPLE_NAME
        assert abs(clip.duration - _SECONDS) <= 1 / SAMPLE_RATE, clip.duration
        # The mono mix of the tone, sampled at 16 kHz: what any faithful resampler gives away
        # from the ends (where resamplers differ in how they pad).
        times = np.arange(clip.num_samples) / SAMPLE_RATE
        expected = (_LEFT + _RIGHT) / 2 * np.sin(2 * np.pi * _TONE_HZ * times)
        middle = slice(400, -400)
        error = float(np.max(np.abs(clip.samples[middle] - expected[middle])))
        assert error < 2e-3, f"the samples are {error:.2g} off the {_TONE_HZ:g} Hz tone"

    def test_a_string_path_works_like_a_path(
        self, audio_source: AudioSource, sample_wav: Path
    ) -> None:
        assert audio_source.load(str(sample_wav)) == audio_source.load(sample_wav)

    def test_a_1d_array_is_16_khz_samples_with_no_name(self, audio_source: AudioSource) -> None:
        samples = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
        clip = audio_source.load(samples)
        assert (clip.sample_rate, clip.name) == (SAMPLE_RATE, "")
        np.testing.assert_array_equal(clip.samples, samples)

    def test_an_array_with_its_rate_is_resampled(self, audio_source: AudioSource) -> None:
        clip = audio_source.load((np.zeros((8000, 2), dtype=np.int16), 8000))
        assert (clip.sample_rate, clip.num_samples) == (SAMPLE_RATE, SAMPLE_RATE)
        assert clip.samples.dtype == np.float32

    def test_a_16_khz_clip_comes_back_unchanged(self, audio_source: AudioSource) -> None:
        clip = AudioClip(np.full(160, 0.25, dtype=np.float32), name="given")
        assert audio_source.load(clip) == clip

    def test_missing_input_is_an_audio_error_naming_it(
        self, audio_source: AudioSource, sample_wav: Path
    ) -> None:
        with pytest.raises(AudioError, match=re.escape(self.MISSING_NAME)):
            audio_source.load(sample_wav.with_name(self.MISSING_NAME))

    def test_empty_input_is_an_audio_error_not_an_empty_clip(
        self, audio_source: AudioSource
    ) -> None:
        with pytest.raises(AudioError):
            audio_source.load(np.zeros(0, dtype=np.float32))


def check_audio_source(audio_source: AudioSource) -> None:
    """Run the whole contract on `audio_source` (its sample file in a temporary folder); raise
    `ContractViolation` listing what failed."""
    with tempfile.TemporaryDirectory(prefix="qasr-audio-contract-") as folder:
        sample = AudioSourceContract.write_sample(Path(folder))
        run_suite(AudioSourceContract, {"audio_source": audio_source, "sample_wav": sample})
