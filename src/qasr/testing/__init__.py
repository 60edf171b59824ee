"""Fakes of every port, for tests of code built on qasr: no model, no files, deterministic.

>>> from qasr.app import TranscriptionService
>>> from qasr.testing import FakeAudioSource, FakeRecognizer
>>> service = TranscriptionService(FakeAudioSource(), FakeRecognizer())
"""

from qasr.testing.clips import noisy_tone_clip, silent_clip, tone_clip
from qasr.testing.fake_audio import FakeAudioSource
from qasr.testing.fakes import (
    SILENCE_PEAK,
    FakeAligner,
    FakeDiarizer,
    FakeRecognizer,
    is_silent,
    text_units,
)

__all__ = [
    "SILENCE_PEAK",
    "FakeAligner",
    "FakeAudioSource",
    "FakeDiarizer",
    "FakeRecognizer",
    "is_silent",
    "noisy_tone_clip",
    "silent_clip",
    "text_units",
    "tone_clip",
]
