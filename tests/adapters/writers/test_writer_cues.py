"""Grouping timed words into subtitle cues: coverage, limits, and where cues break."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from writer_strategies import timed_words

from qasr.adapters.writers.cues import (
    CueLimits,
    Word,
    cue_from_words,
    display_width,
    group_words,
    join_words,
    layout_lines,
    make_cues,
)
from qasr.errors import InvalidInputError

limits_strategy = st.builds(
    CueLimits,
    max_line_width=st.integers(8, 60),
    max_lines=st.integers(1, 3),
    max_duration=st.sampled_from([2.0, 7.0, 15.0]),
    max_gap=st.sampled_from([0.0, 0.5, 1.0, 5.0]),
    max_words=st.none() | st.integers(1, 25),
)


def words_of(text: str, step: float = 0.3, speaker: str | None = None) -> list[Word]:
    return [
        Word(token, index * step, index * step + step * 0.8, speaker)
        for index, token in enumerate(text.split())
    ]


@given(timed_words(), limits_strategy)
def test_every_word_lands_in_exactly_one_cue_in_order(words: list[Word], limits: CueLimits) -> None:
    groups = group_words(words, limits)
    assert [word for group in groups for word in group] == words
    for group in groups:
        cue = cue_from_words(group, limits)
        prefix = f"[{group[0].speaker}]" if group[0].speaker else ""
        shown = "".join(cue.text.split())
        assert shown == prefix + "".join("".join(word.text.split()) for word in group)
        assert cue.start == group[0].start
        assert cue.end == max(word.end for word in group) >= cue.start


@given(timed_words(), limits_strategy)
def test_cues_keep_every_limit_except_for_a_lone_overlong_word(
    words: list[Word], limits: CueLimits
) -> None:
    for group in group_words(words, limits):
        assert len({word.speaker for word in group}) == 1, "two speakers in one cue"
        for before, after in itertools.pairwise(group):
            assert after.start - before.end <= limits.max_gap, "a cue spans a long pause"
        if len(group) == 1:
            continue
        lines = layout_lines(group, limits)
        assert len(lines) <= limits.max_lines
        assert all(display_width(line) <= limits.max_line_width for line in lines)
        assert max(word.end for word in group) - group[0].start <= limits.max_duration
        assert limits.max_words is None or len(group) <= limits.max_words


def test_cjk_characters_count_double_and_combining_marks_count_zero() -> None:
    assert display_width("abc") == 3
    assert display_width("你好") == 4
    assert display_width("ＡＢ") == 4  # fullwidth Latin
    assert display_width("e\u0301") == 1  # e + combining acute
    assert display_width("안녕") == 4


def test_cjk_line_holds_half_as_many_characters() -> None:
    characters = [
        Word(char, i * 0.1, i * 0.1 + 0.1, space_before=False) for i, char in enumerate("我" * 30)
    ]
    limits = CueLimits(max_line_width=20, max_lines=1, max_words=None)
    groups = group_words(characters, limits)
    assert [len(group) for group in groups] == [10, 10, 10]
    assert make_cues(characters, limits)[0].text == "我" * 10


def test_spaceless_words_join_without_spaces() -> None:
    words = [Word("我", 0, 0.1), Word("们", 0.1, 0.2, space_before=False), Word("go", 0.2, 0.3)]
    assert join_words(words) == "我们 go"


def test_an_overlong_word_gets_its_own_cue_whole() -> None:
    long_word = "x" * 50
    words = words_of(f"a b {long_word} c d")
    cues = make_cues(words, CueLimits(max_line_width=42))
    assert [cue.text for cue in cues] == ["a b", long_word, "c d"]


def test_a_pause_longer_than_max_gap_starts_a_new_cue() -> None:
    words = [Word("one", 0.0, 0.3), Word("two", 0.4, 0.7), Word("three", 1.8, 2.0)]
    assert [len(group) for group in group_words(words, CueLimits(max_gap=1.0))] == [2, 1]
    assert [len(group) for group in group_words(words, CueLimits(max_gap=1.2))] == [3]


def test_a_cue_never_outlasts_max_duration() -> None:
    words = words_of("w " * 20, step=1.0)
    for group in group_words(words, CueLimits(max_duration=3.0)):
        assert group[-1].end - group[0].start <= 3.0


def test_a_cue_ends_after_a_sentence() -> None:
    words = words_of("The meeting starts at noon. Please bring the report with you.")
    cues = make_cues(words)
    assert [cue.text for cue in cues] == [
        "The meeting starts at noon.",
        "Please bring the report with you.",
    ]


def test_a_short_sentence_end_does_not_break_an_abbreviation() -> None:
    words = words_of("Mr. Smith arrived late yesterday evening.")
    assert make_cues(words)[0].text == "Mr. Smith arrived late yesterday evening."


def test_a_full_cue_breaks_after_a_clause_rather_than_mid_phrase() -> None:
    text = "after the long meeting in the city hall, we walked home along the river slowly"
    cues = make_cues(words_of(text), CueLimits(max_line_width=30, max_lines=2))
    assert cues[0].text.replace("\n", " ") == "after the long meeting in the city hall,"


def test_two_lines_are_balanced() -> None:
    words = words_of("one two three four five six seven eight nine ten eleven twelve")
    lines = layout_lines(words, CueLimits(max_line_width=42))
    assert len(lines) == 2
    assert abs(len(lines[0]) - len(lines[1])) <= 6


def test_speaker_label_prefixes_each_cue_and_speakers_never_mix() -> None:
    words = [*words_of("hello there", speaker="SPEAKER_00"), Word("hi", 1.0, 1.2, "SPEAKER_01")]
    cues = make_cues(words)
    assert [cue.text for cue in cues] == ["[SPEAKER_00] hello there", "[SPEAKER_01] hi"]


def test_max_words_limits_a_cue() -> None:
    groups = group_words(words_of("a b c d e f g"), CueLimits(max_words=3))
    assert [len(group) for group in groups] == [3, 3, 1]


def test_limits_reject_nonsense_with_a_qasr_error() -> None:
    with pytest.raises(InvalidInputError, match="max_line_width"):
        CueLimits(max_line_width=0)
    with pytest.raises(InvalidInputError, match="max_gap"):
        CueLimits(max_gap=-1)
