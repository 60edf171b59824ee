"""The recognizer's reading of the model's raw output: a language slot holding words is no
language (a weak model writes them), never an error that stops a long recording."""

from __future__ import annotations

from qasr.adapters.mlx.text.output import known_language, parsed_transcript
from qasr.domain import AudioClip, FinishReason, RecognitionOptions, find_language
from qasr.testing import silent_clip

CLIP: AudioClip = silent_clip(1.0)


def test_a_named_language_is_found_and_words_in_its_place_are_none() -> None:
    assert known_language("English") == find_language("English")
    assert known_language("English exercise me") is None
    assert known_language("") is None


def test_words_in_the_language_slot_keep_the_text_and_drop_the_language() -> None:
    raw = "language English exercise me<asr_text>hello there"
    transcript = parsed_transcript(CLIP, RecognitionOptions(), raw, FinishReason.STOP)
    assert (transcript.text, transcript.language) == ("hello there", None)
    plain = parsed_transcript(
        CLIP, RecognitionOptions(), "language English<asr_text>hello there", FinishReason.STOP
    )
    assert (plain.text, plain.language) == ("hello there", find_language("English"))
