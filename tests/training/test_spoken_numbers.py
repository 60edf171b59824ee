"""Numbers in words: each writer read back by a parser written independently of it."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.training import spoken_numbers as numbers

_SMALL = {word: n for n, word in enumerate(numbers.ONES)} | {
    word: 10 * n for n, word in enumerate(numbers.TENS) if word
}


def parse_number(text: str) -> int:
    total = current = 0
    for word in text.split():
        if word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = (total + current) * 1000, 0
        else:
            current += _SMALL[word]
    return total + current


def parse_year(text: str) -> int:
    words = text.split()
    if words[:2] == ["two", "thousand"]:
        return parse_number(text)
    century, rest = _SMALL[words[0]], words[1:]  # "nineteen", "twenty": one word
    if rest == ["hundred"]:
        return century * 100
    return century * 100 + parse_number(" ".join(rest[1:] if rest[0] == "oh" else rest))


@given(st.integers(0, 999_999))
def test_number_words_read_back(n: int) -> None:
    assert parse_number(numbers.number_words(n)) == n


@given(st.integers(1100, 2099))
def test_year_words_read_back(year: int) -> None:
    words = numbers.year_words(year)
    assert parse_year(words) == year
    assert len(words.split()) <= 4  # said as two numbers, not "one thousand nine hundred ..."


def test_years_are_said_the_usual_way() -> None:
    assert numbers.year_words(1984) == "nineteen eighty four"
    assert numbers.year_words(1905) == "nineteen oh five"
    assert numbers.year_words(2007) == "two thousand seven"
    assert numbers.year_words(2024) == "twenty twenty four"
    with pytest.raises(ValueError):
        numbers.year_words(2100)


def test_ordinals() -> None:
    days = [numbers.ordinal_words(day) for day in range(1, 32)]
    assert days[0] == "first" and days[20] == "twenty first" and days[29] == "thirtieth"
    assert len(set(days)) == 31
    with pytest.raises(ValueError):
        numbers.ordinal_words(32)


def test_clock_words() -> None:
    assert numbers.clock_words(7, 30) == "seven thirty"
    assert numbers.clock_words(9, 5) == "nine oh five"
    assert numbers.clock_words(12, 0) == "twelve o'clock"
    with pytest.raises(ValueError):
        numbers.clock_words(13, 0)


@given(st.integers(0, 2**32))
def test_random_phrases_use_only_number_words(seed: int) -> None:
    rng = random.Random(seed)
    phrases = [numbers.random_time(rng), numbers.random_price(rng),
               numbers.number_words(numbers.random_count(rng))]  # fmt: skip
    phrases.append(numbers.random_date(rng).split(maxsplit=1)[1])
    for phrase in phrases:
        assert set(phrase.split()) <= numbers.NUMBER_VOCABULARY, phrase
