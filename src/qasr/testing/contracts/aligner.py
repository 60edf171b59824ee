"""The `Aligner` port's contract (qasr.ports.Aligner), as a suite an adapter subclasses.

>>> class TestMyAligner(AlignerContract):
...     def make_aligner(self):
...         return MyAligner()
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import strategies as st

from qasr.domain import AudioClip, Language, Segment, find_language
from qasr.ports import Aligner
from qasr.testing.clips import noisy_tone_clip
from qasr.testing.contracts.suite import ContractSuite, run_suite
from qasr.testing.strategies import audio_clips, cjk_texts, latin_texts

_LANGUAGES = st.sampled_from([None, *map(find_language, ["English", "German", "Chinese"])])


class AlignerContract(ContractSuite):
    """Checks the promises of `Aligner.align`: non-empty words in text order, starts that never
    go back, every span within the clip, CJK timed character by character, no words for empty
    text. Override `make_aligner` (or the class-scoped `aligner` fixture)."""

    max_examples: ClassVar[int] = 30

    def make_aligner(self) -> Aligner:
        raise NotImplementedError(
            f"{type(self).__name__}: override make_aligner() or the `aligner` fixture"
        )

    @pytest.fixture(scope="class")
    def aligner(self) -> Aligner:
        return self.make_aligner()

    def test_it_is_an_aligner(self, aligner: Aligner) -> None:
        assert isinstance(aligner, Aligner), "align(clip, text, language) is missing"

    def test_words_come_in_text_order_within_the_clip(self, aligner: Aligner) -> None:
        @self.for_all(clip=audio_clips(), text=latin_texts(), language=_LANGUAGES)
        def check(clip: AudioClip, text: str, language: Language | None) -> None:
            check_segments(aligner, clip, text, language)

        check()

    def test_cjk_text_is_timed_character_by_character(self, aligner: Aligner) -> None:
        chinese = find_language("Chinese")

        @self.for_all(clip=audio_clips(), text=cjk_texts())
        def check(clip: AudioClip, text: str) -> None:
            segments = check_segments(aligner, clip, text, chinese)
            assert [segment.text for segment in segments] == list(text)

        check()

    def test_empty_text_has_no_segments(self, aligner: Aligner) -> None:
        clip = noisy_tone_clip(1.0)
        for text in ("", "   ", "\n\t"):
            assert aligner.align(clip, text, find_language("English")) == (), repr(text)


def check_segments(
    aligner: Aligner, clip: AudioClip, text: str, language: Language | None
) -> tuple[Segment, ...]:
    segments = aligner.align(clip, text, language)
    assert segments, "a non-empty text gets at least one segment"
    assert all(segment.text.strip() for segment in segments), "a segment without a word"
    assert _in_text_order([segment.text for segment in segments], text), "words out of order"
    starts = [segment.start for segment in segments]
    assert starts == sorted(starts), f"starts go back in time: {starts}"
    assert all(0 <= s.start <= s.end <= clip.duration + 1e-6 for s in segments), (
        f"a segment lies outside the clip of {clip.duration} s"
    )
    return segments


def _in_text_order(pieces: list[str], text: str) -> bool:
    position = 0
    for piece in pieces:
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def check_aligner(aligner: Aligner, *, max_examples: int = 30) -> None:
    """Run the whole contract on `aligner`; raise `ContractViolation` listing what failed."""
    suite = type("AlignerCheck", (AlignerContract,), {"max_examples": max_examples})
    run_suite(suite, {"aligner": aligner})
