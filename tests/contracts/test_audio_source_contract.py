"""Our audio sources through the shipped `AudioSourceContract` (qasr.testing.contracts)."""

from __future__ import annotations

import shutil

import pytest

from qasr.adapters.audio import DefaultAudioSource, FfmpegAudioSource, WavAudioSource
from qasr.ports import AudioSource
from qasr.testing import FakeAudioSource
from qasr.testing.contracts import AudioSourceContract


class TestDefaultAudioSource(AudioSourceContract):
    def make_audio_source(self) -> AudioSource:
        return DefaultAudioSource()


class TestWavAudioSource(AudioSourceContract):
    def make_audio_source(self) -> AudioSource:
        return WavAudioSource()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
class TestFfmpegAudioSource(AudioSourceContract):
    def make_audio_source(self) -> AudioSource:
        return FfmpegAudioSource()


class TestFakeAudioSource(AudioSourceContract):
    def make_audio_source(self) -> AudioSource:
        frames = (self.sample_frames(), self.SAMPLE_RATE_IN)
        return FakeAudioSource({self.SAMPLE_NAME: frames}, missing={self.MISSING_NAME})
