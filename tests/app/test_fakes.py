"""Behaviour of the public fakes beyond the port contracts (tests/contracts checks those)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.app.app_doubles import tone

from qasr.domain import AudioClip, FinishReason, RecognitionOptions, find_language
from qasr.testing import FakeAligner, FakeDiarizer, FakeRecognizer, text_units


def test_the_fake_recogniser_gives_the_same_text_for_the_same_audio() -> None:
    clip = AudioClip(tone(2.0))
    [a] = FakeRecognizer().recognize([clip], [RecognitionOptions()])
    [b] = FakeRecognizer().recognize([AudioClip(tone(2.0))], [RecognitionOptions()])
    [c] = FakeRecognizer().recognize([AudioClip(tone(2.0) * 0.9)], [RecognitionOptions()])
    assert a == b and a.text != c.text
    assert len(a.text.split()) == 4  # 2 words a second


def test_a_forced_spaceless_language_gets_cjk_text() -> None:
    options = RecognitionOptions(language="Cantonese")
    [result] = FakeRecognizer().recognize([AudioClip(tone(1.0))], [options])
    assert result.language == find_language("yue")
    assert " " not in result.text and len(text_units(result.text)) == 2


def test_the_detected_language_is_configurable() -> None:
    [result] = FakeRecognizer(language="ja").recognize(
        [AudioClip(tone(1.0))], [RecognitionOptions()]
    )
    assert result.language == find_language("Japanese")


@given(st.integers(1, 12))
def test_a_small_budget_cuts_the_text_and_says_length(budget: int) -> None:
    clip = AudioClip(tone(3.0))  # six words
    [full] = FakeRecognizer().recognize([clip], [RecognitionOptions()])
    [cut] = FakeRecognizer().recognize([clip], [RecognitionOptions(max_new_tokens=budget)])
    words = full.text.split()
    assert cut.text.split() == words[:budget]
    assert (cut.finish_reason is FinishReason.LENGTH) == (budget < len(words))


def test_mismatched_options_are_refused() -> None:
    with pytest.raises(ValueError, match="one each"):
        FakeRecognizer().recognize([AudioClip(tone(1.0))], [])


def test_the_fake_aligner_spreads_units_evenly() -> None:
    segments = FakeAligner().align(AudioClip(np.zeros(16_000)), "hi 你好 there", None)
    assert [s.text for s in segments] == ["hi", "你", "好", "there"]
    assert [s.start for s in segments] == pytest.approx([0, 0.25, 0.5, 0.75])
    assert segments[-1].end == 1.0


def test_the_fake_diarizer_alternates_fixed_turns() -> None:
    turns = FakeDiarizer(turn_seconds=1.0, speakers=3).diarize(AudioClip(tone(4.5)))
    assert [t.speaker for t in turns] == [
        "SPEAKER_00",
        "SPEAKER_01",
        "SPEAKER_02",
        "SPEAKER_00",
        "SPEAKER_01",
    ]
    assert turns[-1].end == pytest.approx(4.5)


def test_the_fake_diarizer_needs_a_positive_turn() -> None:
    with pytest.raises(ValueError):
        FakeDiarizer(turn_seconds=0)
