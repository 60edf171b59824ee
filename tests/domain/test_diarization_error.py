"""The DER scorer against cases worked out by hand."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from qasr.domain import SpeakerSpan
from qasr.domain.diarization_error import diarization_error
from qasr.testing.strategies import speaker_spans


def turns(*spec: tuple[str, float, float]) -> list[SpeakerSpan]:
    return [SpeakerSpan(speaker, start, end) for speaker, start, end in spec]


def test_a_perfect_answer_with_other_labels_has_no_error() -> None:
    reference = turns(("A", 0, 2), ("B", 2, 5), ("A", 5, 6))
    hypothesis = turns(("x", 0, 2), ("y", 2, 5), ("x", 5, 6))
    error = diarization_error(reference, hypothesis)
    assert (error.missed, error.false_alarm, error.confusion, error.rate) == (0, 0, 0, 0)
    assert error.reference_speech == 6


def test_missed_false_alarm_and_confusion_by_hand() -> None:
    # Reference: A 0-4, B 4-8. Hypothesis: x 1-4 (A, 1 s missed), y 4-6 (B), x 6-9: B's 6-8 goes
    # to x, which is mapped to A (3 s with A beats 2 s with B): 2 s confusion; 8-9 false alarm.
    reference = turns(("A", 0, 4), ("B", 4, 8))
    hypothesis = turns(("x", 1, 4), ("y", 4, 6), ("x", 6, 9))
    error = diarization_error(reference, hypothesis)
    assert error.missed == pytest.approx(1.0)
    assert error.false_alarm == pytest.approx(1.0)
    assert error.confusion == pytest.approx(2.0)
    assert error.rate == pytest.approx(4.0 / 8.0)


def test_overlapped_reference_speech_counts_once_per_speaker() -> None:
    # A 0-4 and B 3-6 overlap for 1 s; one hypothesis speaker at a time misses it.
    reference = turns(("A", 0, 4), ("B", 3, 6))
    hypothesis = turns(("x", 0, 4), ("y", 4, 6))
    error = diarization_error(reference, hypothesis)
    assert error.reference_speech == pytest.approx(7.0)
    assert error.missed == pytest.approx(1.0) and error.confusion == pytest.approx(0.0)


def test_a_collar_forgives_boundaries_and_is_not_scored() -> None:
    # The hypothesis is 0.2 s late at every boundary; a 0.25 s collar removes all of it.
    reference = turns(("A", 1, 3), ("B", 4, 6))
    hypothesis = turns(("x", 1.2, 3.2), ("y", 4.2, 6.2))
    assert diarization_error(reference, hypothesis).rate == pytest.approx(0.8 / 4)
    collared = diarization_error(reference, hypothesis, collar=0.25)
    assert collared.rate == 0.0
    assert collared.reference_speech == pytest.approx(4 - 4 * 0.25)  # half of each zone is speech


def test_one_speaker_for_everyone_is_confusion() -> None:
    reference = turns(("A", 0, 1), ("B", 1, 2), ("C", 2, 3), ("D", 3, 4))
    error = diarization_error(reference, turns(("x", 0, 4)))
    assert error.confusion == pytest.approx(3.0) and error.rate == pytest.approx(0.75)


def test_nothing_to_score() -> None:
    assert diarization_error([], []).rate == 0.0
    assert diarization_error([], turns(("x", 0, 1))).rate == float("inf")


@given(speaker_spans(), speaker_spans())
# Found by Hypothesis: a turn too short to change a float sum beside a 1 s one.
@example(ref=turns(("A", 0, 0), ("B", 0, 1), ("A", 0, 7.100654816228323e-40)), hyp=[])
def test_the_parts_are_non_negative_and_an_answer_scores_itself_perfectly(ref, hyp) -> None:
    error = diarization_error(ref, hyp)
    assert min(error.missed, error.false_alarm, error.confusion) >= -1e-9
    assert diarization_error(ref, ref).rate == 0.0
