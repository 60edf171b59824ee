"""Stitching rules: text joins, the language vote, finish reasons and speaker words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.app.use_cases.merging import attribute_words, shift_segments, vote_language, worst_finish
from qasr.domain import FinishReason, Segment, SpeakerSpan, find_language

ENGLISH = find_language("en")


def turns(*spans: tuple[str, float, float]) -> tuple[SpeakerSpan, ...]:
    return tuple(SpeakerSpan(who, start, end) for who, start, end in spans)


def test_a_word_goes_to_the_turn_that_holds_its_middle() -> None:
    spans = turns(("A", 0, 2), ("B", 2, 4))
    words = [Segment("hi", 0.5, 1.0), Segment("there", 1.6, 2.2), Segment("you", 2.5, 3.0)]
    assert [t.text for t in attribute_words(spans, words, ENGLISH)] == ["hi there", "you"]


def test_a_word_in_a_gap_goes_to_the_nearest_turn() -> None:
    spans = turns(("A", 0, 1), ("B", 3, 4))
    words = [Segment("early", 1.1, 1.3), Segment("late", 2.6, 2.9)]
    assert [t.text for t in attribute_words(spans, words, ENGLISH)] == ["early", "late"]


def test_overlapping_turns_take_the_word_they_overlap_most() -> None:
    spans = turns(("A", 0, 2.2), ("B", 1.0, 4))
    word = Segment("both", 1.5, 3.0)  # middle 2.25 is only in B; B overlaps more anyway
    assert [t.text for t in attribute_words(spans, [word], ENGLISH)] == ["", "both"]


def test_spaceless_words_join_without_spaces() -> None:
    spans = turns(("A", 0, 2))
    words = [Segment("你", 0, 0.5), Segment("好", 0.5, 1)]
    assert attribute_words(spans, words, find_language("zh"))[0].text == "你好"


def test_no_turns_means_no_speakers() -> None:
    assert attribute_words((), [Segment("a", 0, 1)], ENGLISH) == ()


@given(
    st.lists(st.floats(0, 100, allow_subnormal=False), min_size=1, max_size=8),
    st.lists(
        st.tuples(st.floats(0, 100, allow_subnormal=False), st.floats(0, 5, allow_subnormal=False)),
        max_size=30,
    ),
)
def test_every_word_lands_in_exactly_one_turn(cuts: list[float], word_spans: list) -> None:
    edges = sorted(set(cuts))
    spans = turns(*((f"S{i}", s, s + 1.0) for i, s in enumerate(edges)))
    words = sorted((Segment(f"w{i}", s, s + d) for i, (s, d) in enumerate(word_spans)),
                   key=lambda w: w.start)  # fmt: skip
    filled = attribute_words(spans, words, ENGLISH)
    spoken = [w for turn in filled for w in turn.text.split()]
    assert sorted(spoken) == sorted(w.text for w in words)
    assert [(t.speaker, t.start, t.end) for t in filled] == [
        (t.speaker, t.start, t.end) for t in spans
    ]


@given(st.lists(st.sampled_from([None, "en", "zh", "ja"]), max_size=12))
def test_the_vote_is_a_most_common_detected_language(codes: list) -> None:
    winner = vote_language([find_language(c) if c else None for c in codes])
    detected = [find_language(c) for c in codes if c]
    if not detected:
        assert winner is None
    else:
        assert detected.count(winner) == max(detected.count(x) for x in detected)


@pytest.mark.parametrize(
    ("reasons", "worst"),
    [
        ([], FinishReason.STOP),
        ([FinishReason.STOP, FinishReason.REPETITION], FinishReason.REPETITION),
        ([FinishReason.LENGTH, FinishReason.REPETITION], FinishReason.LENGTH),
    ],
)
def test_the_worst_finish_wins(reasons: list, worst: FinishReason) -> None:
    assert worst_finish(reasons) is worst


@given(st.floats(0, 1e4, allow_subnormal=False))
def test_shifting_keeps_durations(offset: float) -> None:
    words = (Segment("a", 0, 0.5), Segment("b", 0.5, 1.25))
    moved = shift_segments(words, offset)
    assert [w.start for w in moved] == [offset + 0, offset + 0.5]
    assert [w.text for w in moved] == ["a", "b"]
    assert [w.duration for w in moved] == pytest.approx([0.5, 0.75])
