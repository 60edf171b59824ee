"""The built-in diarizer on espeak-ng dialogues, and its documented answers to bad input."""

from __future__ import annotations

import numpy as np
import pytest
from tests.adapters.diarization.conftest import needs

from qasr.adapters.audio.resample import resample
from qasr.domain import AudioClip
from qasr.domain.diarization_error import diarization_error
from qasr.errors import InvalidInputError

pytestmark = [needs("silero_vad"), needs("resemblyzer")]


@pytest.fixture(scope="module")
def diarizer():
    from qasr.adapters.diarization.builtin import BuiltinDiarizer

    return BuiltinDiarizer()


def test_two_voices_get_two_labels_in_the_right_turns(diarizer, two_speaker_dialogue) -> None:
    samples, reference = two_speaker_dialogue
    turns = diarizer.diarize(AudioClip(samples, 16_000, "dialogue"))
    assert {turn.speaker for turn in turns} == {"SPEAKER_00", "SPEAKER_01"}
    assert turns[0].speaker == "SPEAKER_00"  # numbered by who speaks first
    assert diarization_error(reference, turns, collar=0.25).rate < 0.05


def test_one_voice_gets_one_label(diarizer, one_speaker_monologue) -> None:
    samples, reference = one_speaker_monologue
    turns = diarizer.diarize(AudioClip(samples, 16_000))
    assert {turn.speaker for turn in turns} == {"SPEAKER_00"}
    assert diarization_error(reference, turns, collar=0.25).rate < 0.05


def test_another_sample_rate_is_resampled(diarizer, two_speaker_dialogue) -> None:
    samples, reference = two_speaker_dialogue
    turns = diarizer.diarize(AudioClip(resample(samples, 16_000, 8_000), 8_000))
    assert diarization_error(reference, turns, collar=0.25).rate < 0.05


def test_silence_and_clicks_have_no_turns(diarizer) -> None:
    assert diarizer.diarize(AudioClip(np.zeros(32_000, dtype=np.float32))) == ()
    assert diarizer.diarize(AudioClip(np.zeros(0, dtype=np.float32))) == ()


def test_speech_shorter_than_a_window_is_one_speaker(diarizer, two_speaker_dialogue) -> None:
    samples, reference = two_speaker_dialogue
    first = reference[0]
    piece = samples[int(first.start * 16_000) : int(first.start * 16_000) + 16_000]  # 1.0 s
    turns = diarizer.diarize(AudioClip(piece, 16_000))
    assert len(turns) >= 1 and {turn.speaker for turn in turns} == {"SPEAKER_00"}
    assert all(0.0 <= turn.start < turn.end <= 1.0 for turn in turns)


def test_more_speakers_than_the_speech_allows_are_not_invented(two_speaker_dialogue) -> None:
    from qasr.adapters.diarization.builtin import BuiltinDiarizer

    samples, _ = two_speaker_dialogue
    turns = BuiltinDiarizer(num_speakers=8).diarize(AudioClip(samples, 16_000))
    # A dialogue of a few sentences has fewer segments than 8: fewer voices come back.
    assert 2 <= len({turn.speaker for turn in turns}) < 8
    assert all(turn.end - turn.start > 0 for turn in turns)
    one = BuiltinDiarizer(num_speakers=1).diarize(AudioClip(samples, 16_000))
    assert {turn.speaker for turn in one} == {"SPEAKER_00"}


def test_impossible_bounds_fail_before_any_audio() -> None:
    from qasr.adapters.diarization.builtin import BuiltinDiarizer

    with pytest.raises(InvalidInputError, match="larger than max_speakers"):
        BuiltinDiarizer(min_speakers=3, max_speakers=2)
