"""The promises of qasr.testing.FakeAudioSource beyond the port's contract."""

from __future__ import annotations

import numpy as np
import pytest
from audio_signals import peak_frequency

from qasr.errors import AudioError
from qasr.testing import FakeAudioSource


def test_unknown_names_get_a_tone_fixed_by_name_and_seed():
    first, again = FakeAudioSource().load("a/talk.mp3"), FakeAudioSource().load("b/talk.mp3")
    assert first == again and first.name == "talk.mp3" and first.duration == 1.0
    assert FakeAudioSource(seed=1).load("talk.mp3") != first
    assert 200 <= peak_frequency(first.samples, 16000) <= 1000


def test_given_files_missing_names_and_the_record_of_requests():
    source = FakeAudioSource({"x.wav": np.full(800, 0.1)}, missing={"gone.wav"})
    np.testing.assert_allclose(source.load("dir/x.wav").samples, 0.1)
    with pytest.raises(AudioError, match=r"no such file: dir/gone\.wav"):
        source.load("dir/gone.wav")
    assert source.loaded == ["dir/x.wav", "dir/gone.wav"]


def test_strict_mode_refuses_unknown_names():
    with pytest.raises(AudioError, match="no such file"):
        FakeAudioSource(synthesize_unknown=False).load("anything.wav")
    with pytest.raises(ValueError, match="tone_seconds"):
        FakeAudioSource(tone_seconds=0)
