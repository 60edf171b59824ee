"""The shipped contract suites catch adapters that break their port's promises.

Each broken adapter below is a fake with one realistic bug planted; `check_*` must fail on it
and name the check that caught it, while the honest fakes pass every check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TextIO

import attrs
import numpy as np
import pytest

from qasr.adapters.writers import writers_for
from qasr.domain import (
    AudioClip,
    FinishReason,
    Language,
    RecognitionOptions,
    Segment,
    SpeakerSpan,
    Transcript,
)
from qasr.errors import OutputFormatError
from qasr.ports import AudioInput
from qasr.testing import FakeAligner, FakeAudioSource, FakeDiarizer, FakeRecognizer, is_silent
from qasr.testing.contracts import (
    AudioSourceContract,
    ContractViolation,
    check_aligner,
    check_audio_source,
    check_diarizer,
    check_recognizer,
    check_writer,
)


def fails(run_checks: Callable[[], None], expected: str) -> str:
    """The report of a contract run that must fail, checked to contain `expected`."""
    with pytest.raises(ContractViolation) as caught:
        run_checks()
    assert expected in str(caught.value), str(caught.value)
    return str(caught.value)


# --- recognizers -------------------------------------------------------------------------------


class ReversesBatches(FakeRecognizer):
    def recognize(self, clips: Any, options: Any) -> list[Transcript]:
        return super().recognize(clips, options)[::-1]


class IgnoresAudio(FakeRecognizer):
    def recognize(self, clips: Any, options: Any) -> list[Transcript]:
        sounds = [
            AudioClip(np.full(clip.num_samples, 0.1 * (not is_silent(clip)))) for clip in clips
        ]
        return super().recognize(sounds, options)


class NeverStops(FakeRecognizer):
    def recognize(self, clips: Any, options: Any) -> list[Transcript]:
        return [
            attrs.evolve(result, finish_reason=FinishReason.LENGTH)
            for result in super().recognize(clips, options)
        ]


class HidesCuts(FakeRecognizer):
    def recognize(self, clips: Any, options: Any) -> list[Transcript]:
        return [
            attrs.evolve(result, finish_reason=FinishReason.STOP)
            for result in super().recognize(clips, options)
        ]


class HearsSilence(FakeRecognizer):
    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        loud = [AudioClip(clip.samples + 0.01) if is_silent(clip) else clip for clip in clips]
        return super().recognize(loud, options)


class ForgetsTheForcedLanguage(FakeRecognizer):
    def recognize(self, clips: Any, options: Any) -> list[Transcript]:
        plain = [attrs.evolve(option, language=None) for option in options]
        return super().recognize(clips, plain)


@pytest.mark.parametrize(
    ("recognizer", "caught_by"),
    [
        (ReversesBatches(), "test_one_transcript_per_clip_in_order_whatever_the_batch"),
        (IgnoresAudio(), "test_different_audio_gives_different_text"),
        (NeverStops(), "test_some_clips_end_by_themselves"),
        (HidesCuts(), "test_a_finished_clip_cut_short_says_length"),
        (HearsSilence(), "test_silence_has_no_text_and_no_language"),
        (ForgetsTheForcedLanguage(), "test_a_forced_language_is_reported"),
    ],
    ids=["reversed-batch", "deaf", "endless", "hidden-cut", "hears-silence", "forgetful"],
)
def test_the_recognizer_contract_catches(recognizer: Any, caught_by: str) -> None:
    fails(lambda: check_recognizer(recognizer, max_examples=10), caught_by)


def test_a_cut_that_says_stop_is_caught_on_drawn_clips_too() -> None:
    report = fails(
        lambda: check_recognizer(HidesCuts(), max_examples=20),
        "test_a_budget_cut_is_a_prefix_and_says_length",
    )
    assert "a budget cut must say LENGTH" in report


def test_the_honest_fakes_pass_every_check() -> None:
    check_recognizer(FakeRecognizer())
    check_aligner(FakeAligner())
    check_diarizer(FakeDiarizer())
    frames = (AudioSourceContract.sample_frames(), AudioSourceContract.SAMPLE_RATE_IN)
    name, missing = AudioSourceContract.SAMPLE_NAME, AudioSourceContract.MISSING_NAME
    check_audio_source(FakeAudioSource({name: frames}, missing={missing}))
    for writer in writers_for("all"):
        check_writer(writer, max_examples=10)


def test_a_waived_check_is_not_run() -> None:
    from qasr.testing.contracts.recognizer import RecognizerContract
    from qasr.testing.contracts.suite import run_suite

    class WaivesSilence(RecognizerContract):
        max_examples = 5
        test_silence_has_no_text_and_no_language = None  # type: ignore[assignment]

    run_suite(WaivesSilence, {"recognizer": HearsSilence()})


# --- aligners, diarizers -----------------------------------------------------------------------


@attrs.frozen
class ReversedAligner:
    def align(self, clip: AudioClip, text: str, language: Language | None) -> tuple[Segment, ...]:
        return FakeAligner().align(clip, text, language)[::-1]


@attrs.frozen
class OverrunningAligner:
    def align(self, clip: AudioClip, text: str, language: Language | None) -> tuple[Segment, ...]:
        return tuple(
            Segment(s.text, s.start, s.end + 0.5) for s in FakeAligner().align(clip, text, language)
        )


@pytest.mark.parametrize(
    ("aligner", "caught_by"),
    [
        (ReversedAligner(), "words out of order"),
        (OverrunningAligner(), "outside the clip"),
    ],
    ids=["reversed", "overrunning"],
)
def test_the_aligner_contract_catches(aligner: Any, caught_by: str) -> None:
    fails(lambda: check_aligner(aligner, max_examples=10), caught_by)


@attrs.frozen
class TalkativeDiarizer:
    def diarize(self, clip: AudioClip) -> tuple[SpeakerSpan, ...]:
        turns = FakeDiarizer().diarize(clip) or (SpeakerSpan("SPEAKER_00", 0, clip.duration),)
        return tuple(attrs.evolve(turn, text="hello") for turn in turns)


def test_the_diarizer_contract_catches_text_and_turns_in_silence() -> None:
    report = fails(lambda: check_diarizer(TalkativeDiarizer()), "the service attributes the words")
    assert "test_silence_has_no_turns" in report


# --- writers, audio sources --------------------------------------------------------------------


@attrs.frozen
class WritesThenRefuses:
    format_name: str = "half"
    extension: str = ".half"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        out.write(transcript.text)
        if not transcript.has_timestamps:
            raise OutputFormatError("needs word times")
        out.write("\n")


@attrs.frozen
class NoFinalNewline:
    format_name: str = "bare"
    extension: str = ".bare"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        out.write(transcript.text.replace("\n", " ") + ".")


def test_the_writer_contract_catches_partial_output_and_a_missing_newline() -> None:
    fails(lambda: check_writer(WritesThenRefuses()), "wrote output before raising")
    fails(lambda: check_writer(NoFinalNewline()), "output must end in a newline")


class EmptyIsFine(FakeAudioSource):
    def load(self, source: AudioInput) -> AudioClip:
        if isinstance(source, np.ndarray) and source.size == 0:
            return AudioClip(source)
        return super().load(source)


def test_the_audio_source_contract_catches_a_bad_mono_mix_and_an_empty_clip() -> None:
    frames, rate = AudioSourceContract.sample_frames(), AudioSourceContract.SAMPLE_RATE_IN
    name, missing = AudioSourceContract.SAMPLE_NAME, {AudioSourceContract.MISSING_NAME}
    left_only = FakeAudioSource({name: (frames[:, 0], rate)}, missing=missing)
    fails(lambda: check_audio_source(left_only), "off the 1000 Hz tone")
    accepts_empty = EmptyIsFine({name: (frames, rate)}, missing=missing)
    fails(lambda: check_audio_source(accepts_empty), "test_empty_input_is_an_audio_error")
