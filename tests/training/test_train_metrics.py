"""WER and CER on hand-checked examples, and the edit distance's invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.errors import InvalidInputError
from qasr.training.metrics import (
    character_error_rate,
    character_errors,
    edit_distance,
    normalize_transcript,
    word_error_rate,
    word_errors,
)


def test_edit_distance_by_hand() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("abc", "") == 3
    assert edit_distance(["a", "b"], ["a", "b"]) == 0


def test_word_error_rate_by_hand() -> None:
    # "sat" -> "sit" is one substitution, the second "the" is deleted: 2 errors in 6 words.
    assert word_error_rate(["the cat sat on the mat"], ["the cat sit on mat"]) == pytest.approx(
        2 / 6
    )
    # Case and punctuation do not count.
    assert word_error_rate(["Hello, World!"], ["hello world"]) == 0.0
    # One insertion in 2 words, corpus-level: the errors and the lengths add up.
    rate = word_errors(["a b", "c d e f"], ["a x b", "c d e f"])
    assert (rate.errors, rate.reference_length) == (1, 6)


def test_character_error_rate_by_hand() -> None:
    assert character_error_rate(["abcd"], ["abxd"]) == pytest.approx(1 / 4)
    assert character_error_rate(["今天天气好"], ["今天天气很好"]) == pytest.approx(1 / 5)
    # Whitespace is not a character here: spaced and unspaced CJK score alike.
    assert character_errors(["今天 天气"], ["今天天气"]).errors == 0


def test_normalisation_and_mismatched_lists() -> None:
    assert normalize_transcript("  It's   A TEST... ok?") == "it s a test ok"
    with pytest.raises(InvalidInputError):
        word_error_rate(["a"], [])


words = st.lists(st.sampled_from("abcde"), max_size=8)


@given(words, words)
def test_edit_distance_is_a_bounded_symmetric_distance(a: list[str], b: list[str]) -> None:
    distance = edit_distance(a, b)
    assert distance == edit_distance(b, a)
    assert abs(len(a) - len(b)) <= distance <= max(len(a), len(b))
    assert (distance == 0) == (a == b)
