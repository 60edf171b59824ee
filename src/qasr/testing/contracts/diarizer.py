"""The `Diarizer` port's contract (qasr.ports.Diarizer), as a suite an adapter subclasses.

>>> class TestMyDiarizer(DiarizerContract):
...     def make_diarizer(self):
...         return MyDiarizer()
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from qasr.domain import AudioClip
from qasr.ports import Diarizer
from qasr.testing.clips import silent_clip
from qasr.testing.contracts.suite import ContractSuite, run_suite
from qasr.testing.strategies import audio_clips


class DiarizerContract(ContractSuite):
    """Checks the promises of `Diarizer.diarize`: labelled turns in order of start within the
    clip with empty text, the same labels for the same clip, no turns in silence. Override
    `make_diarizer` (or the class-scoped `diarizer` fixture)."""

    max_examples: ClassVar[int] = 30

    def make_diarizer(self) -> Diarizer:
        raise NotImplementedError(
            f"{type(self).__name__}: override make_diarizer() or the `diarizer` fixture"
        )

    @pytest.fixture(scope="class")
    def diarizer(self) -> Diarizer:
        return self.make_diarizer()

    def test_it_is_a_diarizer(self, diarizer: Diarizer) -> None:
        assert isinstance(diarizer, Diarizer), "diarize(clip) is missing"

    def test_turns_are_ordered_within_the_clip_and_leave_text_empty(
        self, diarizer: Diarizer
    ) -> None:
        @self.for_all(clip=audio_clips(max_seconds=8.0))
        def check(clip: AudioClip) -> None:
            turns = diarizer.diarize(clip)
            starts = [turn.start for turn in turns]
            assert starts == sorted(starts), f"turns out of order: {starts}"
            assert all(0 <= t.start <= t.end <= clip.duration + 1e-6 for t in turns), (
                f"a turn lies outside the clip of {clip.duration} s"
            )
            assert all(turn.speaker for turn in turns), "a turn without a speaker label"
            assert all(turn.text == "" for turn in turns), "the service attributes the words"

        check()

    def test_the_same_clip_gets_the_same_labels(self, diarizer: Diarizer) -> None:
        @self.for_all(clip=audio_clips(max_seconds=8.0))
        def check(clip: AudioClip) -> None:
            assert diarizer.diarize(clip) == diarizer.diarize(clip)

        check()

    def test_silence_has_no_turns(self, diarizer: Diarizer) -> None:
        assert diarizer.diarize(silent_clip(2.0)) == ()


def check_diarizer(diarizer: Diarizer, *, max_examples: int = 30) -> None:
    """Run the whole contract on `diarizer`; raise `ContractViolation` listing what failed."""
    suite = type("DiarizerCheck", (DiarizerContract,), {"max_examples": max_examples})
    run_suite(suite, {"diarizer": diarizer})
