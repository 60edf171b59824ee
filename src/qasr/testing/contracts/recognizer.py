"""The `Recognizer` port's contract (qasr.ports.Recognizer), as a suite an adapter subclasses.

>>> class TestMyRecognizer(RecognizerContract):
...     def make_recognizer(self):
...         return MyRecognizer()
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st

from qasr.domain import AudioClip, FinishReason, RecognitionOptions, Transcript, find_language
from qasr.ports import Recognizer
from qasr.testing.clips import silent_clip, tone_clip
from qasr.testing.contracts.suite import ContractSuite, run_suite
from qasr.testing.strategies import audio_clips, recognition_options


class RecognizerContract(ContractSuite):
    """Checks the promises of `Recognizer.recognize`: one transcript per clip in order, clips
    independent of their batch, forced languages reported, budgets that cut a prefix and say
    LENGTH, silence heard as no text and no language, and an answer that depends on the audio
    and can end by itself.

    Override `make_recognizer` (or, to use other fixtures, the class-scoped `recognizer`
    fixture). `sample_clips` are clips it must tell apart, and finish at least one of within
    `token_budget` tokens: tones by default; give speech if yours hears tones as silence.
    """

    max_examples: ClassVar[int] = 10
    # Every call gets a budget: a random-weight model would otherwise decode hundreds of tokens.
    token_budget: ClassVar[int] = 12

    def make_recognizer(self) -> Recognizer:
        raise NotImplementedError(
            f"{type(self).__name__}: override make_recognizer() or the `recognizer` fixture"
        )

    @pytest.fixture(scope="class")
    def recognizer(self) -> Recognizer:
        return self.make_recognizer()

    def sample_clips(self) -> list[AudioClip]:
        """Tones of one length (1.5 s), so that only their pitch tells them apart."""
        return [tone_clip(1.5, hz) for hz in (220.0, 330.0, 500.0, 700.0, 1000.0, 1500.0)]

    def budget(self, tokens: int | None = None, **options: Any) -> RecognitionOptions:
        return RecognitionOptions(max_new_tokens=tokens or self.token_budget, **options)

    def test_it_is_a_recognizer(self, recognizer: Recognizer) -> None:
        assert isinstance(recognizer, Recognizer), "recognize(clips, options) is missing"

    def test_an_empty_call_returns_an_empty_list(self, recognizer: Recognizer) -> None:
        assert recognizer.recognize([], []) == []

    def test_one_transcript_per_clip_in_order_whatever_the_batch(
        self, recognizer: Recognizer
    ) -> None:
        requests = st.tuples(
            audio_clips(max_seconds=2.0), recognition_options(max_new_tokens=self.token_budget)
        )

        @self.for_all(batch=st.lists(requests, min_size=1, max_size=3))
        def check(batch: list[tuple[AudioClip, RecognitionOptions]]) -> None:
            clips, options = [clip for clip, _ in batch], [option for _, option in batch]
            together = recognizer.recognize(clips, options)
            assert len(together) == len(clips)
            assert all(isinstance(result, Transcript) for result in together)
            alone = [recognizer.recognize([clip], [option])[0] for clip, option in batch]
            assert [_answer(result) for result in together] == [
                _answer(result) for result in alone
            ], "a clip's transcript depends on the other clips (or options) of its batch"

        check()

    def test_a_forced_language_is_reported(self, recognizer: Recognizer) -> None:
        for name in ("German", "Chinese", "Cantonese"):
            [result] = recognizer.recognize([tone_clip(1.0)], [self.budget(language=name)])
            assert result.language == find_language(name), f"forced {name}, got {result.language}"

    def test_different_audio_gives_different_text(self, recognizer: Recognizer) -> None:
        clips = self.sample_clips()
        texts = [
            result.text for result in recognizer.recognize(clips, [self.budget()] * len(clips))
        ]
        assert len(set(texts)) > 1, f"every sample clip gave the same text {texts[0]!r}"

    def test_some_clips_end_by_themselves(self, recognizer: Recognizer) -> None:
        clips = self.sample_clips()
        results = recognizer.recognize(clips, [self.budget()] * len(clips))
        reasons = [result.finish_reason for result in results]
        assert FinishReason.STOP in reasons, (
            f"no sample clip ended within {self.token_budget} tokens: {reasons}"
        )

    def test_a_budget_cut_is_a_prefix_and_says_length(self, recognizer: Recognizer) -> None:
        @self.for_all(clip=audio_clips(max_seconds=2.0), tokens=st.integers(1, 3))
        def check(clip: AudioClip, tokens: int) -> None:
            [full] = recognizer.recognize([clip], [self.budget()])
            [cut] = recognizer.recognize([clip], [self.budget(tokens)])
            _check_cut(full, cut)

        check()

    def test_a_finished_clip_cut_short_says_length(self, recognizer: Recognizer) -> None:
        clips = self.sample_clips()
        fulls = recognizer.recognize(clips, [self.budget()] * len(clips))
        checked = 0
        for clip, full in zip(clips, fulls, strict=True):
            if full.finish_reason is not FinishReason.STOP:
                continue
            [cut] = recognizer.recognize([clip], [self.budget(1)])
            checked += _check_cut(full, cut)
        assert checked, "no sample clip ended by itself after more than one token"

    def test_silence_has_no_text_and_no_language(self, recognizer: Recognizer) -> None:
        for seconds in (0.5, 1.0, 2.5):
            [result] = recognizer.recognize([silent_clip(seconds)], [self.budget()])
            assert (result.text, result.language) == ("", None), f"{seconds} s of silence"


def _answer(result: Transcript) -> tuple[object, ...]:
    return result.text, result.language, result.finish_reason


def _check_cut(full: Transcript, cut: Transcript) -> bool:
    """Whether the cut shortened a text that ended by itself (and so had to say LENGTH)."""
    assert full.text.startswith(cut.text.rstrip()), f"{cut.text!r} is no prefix of {full.text!r}"
    shortened = cut.text.strip() != full.text.strip() and full.finish_reason is FinishReason.STOP
    if shortened:
        assert cut.finish_reason is FinishReason.LENGTH, "a budget cut must say LENGTH"
    return shortened


def check_recognizer(recognizer: Recognizer, *, max_examples: int = 10) -> None:
    """Run the whole contract on `recognizer`; raise `ContractViolation` listing what failed."""
    suite = type("RecognizerCheck", (RecognizerContract,), {"max_examples": max_examples})
    run_suite(suite, {"recognizer": recognizer})
