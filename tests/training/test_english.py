"""Everyday-English sentences: written form, vocabulary, agreement, determinism, coverage."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.training import closed_classes as closed
from qasr.training import english, english_phrases
from qasr.training import spoken_numbers as numbers
from qasr.training.lexicon import everyday_lexicon


@pytest.fixture(scope="module")
def grammar() -> english.EverydayEnglish:
    return english.EverydayEnglish()


_GRAMMAR = english.EverydayEnglish()
_LEXICON = everyday_lexicon()
_KNOWN = {*_LEXICON.words, "i", "i'm"} | numbers.NUMBER_VOCABULARY
_KNOWN |= {name.lower() for name in (*_LEXICON.first_names, *_LEXICON.last_names)}
_KNOWN |= {word.lower() for phrase in (*numbers.MONTHS, *numbers.DAYS, *closed.PLACES)
           for word in phrase.split()}  # fmt: skip
_CAPITALISED = {"I", "I'm", *_LEXICON.first_names, *_LEXICON.last_names, *numbers.MONTHS}
_CAPITALISED |= {*numbers.DAYS} | {word for place in closed.PLACES for word in place.split()}


@settings(max_examples=300)
@given(st.integers(0, 2**32))
def test_a_sentence_is_written_as_the_model_should_write_it(seed: int) -> None:
    text = _GRAMMAR.sentence(random.Random(seed))
    assert re.fullmatch(r"[A-Z][A-Za-z' ]*[a-z'][.?]", text), text
    words = text[:-1].split()
    assert english.MIN_WORDS <= len(words) <= english.MAX_WORDS
    assert all(word.lower() in _KNOWN for word in words), text  # every spoken word is written
    assert all(word[0].islower() or word in _CAPITALISED for word in words[1:]), text


def test_the_same_generator_state_gives_the_same_sentences(
    grammar: english.EverydayEnglish,
) -> None:
    def sentences(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [grammar.sentence(rng) for _ in range(50)]

    assert sentences(4) == sentences(4) == [english.EverydayEnglish().sentence(r) for r in
                                            [random.Random(4)] for _ in range(50)][:50]  # fmt: skip
    assert sentences(4) != sentences(5)


def test_sentences_cover_most_of_the_word_list(grammar: english.EverydayEnglish) -> None:
    rng = random.Random(0)
    spoken = {
        word.strip(".?").lower() for _ in range(6000) for word in grammar.sentence(rng).split()
    }
    open_class = {form for pool in (_LEXICON.nouns, _LEXICON.verbs, _LEXICON.adjectives)
                  for word in pool for form in word.forms.values()}  # fmt: skip
    assert len(spoken & open_class) > 0.6 * len(open_class)
    assert len(spoken & set(_LEXICON.words)) > 2500
    assert len({grammar.sentence(rng) for _ in range(500)}) > 495  # hardly any repeats


def test_subjects_agree_with_their_verbs(grammar: english.EverydayEnglish) -> None:
    rng = random.Random(1)
    third_person = {w["VBZ"] for w in _LEXICON.having("verbs", "VBZ")}
    plain = {w["VB"] for w in _LEXICON.having("verbs", "VB")} - third_person
    checked = 0
    for _ in range(3000):
        words = grammar.sentence(rng)[:-1].split()
        if words[0] in ("I", "We", "They", "You") and words[1] in third_person | plain:
            assert words[1] not in third_person or words[1] in plain, words
            checked += 1
        if words[0] in ("He", "She") and words[1] in {"is", "are", "am", "was", "were"}:
            assert words[1] in ("is", "was"), words
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("noun", "article"),
    [("apple", "an"), ("hour", "an"), ("car", "a"), ("university", "a"), ("one", "a")],
)
def test_the_indefinite_article_follows_the_sound(noun: str, article: str) -> None:
    rng = random.Random(0)
    seen = {tuple(english_phrases.with_article(rng, noun)) for _ in range(200)}
    assert (article, noun) in seen
    assert ({"a", "an"} - {article}).isdisjoint(first for first, _ in seen)


def test_a_small_word_list_limits_the_open_classes() -> None:
    top = set(_LEXICON.words[:1000])
    names = _CAPITALISED - {"I", "I'm"}

    def rare_share(grammar: english.EverydayEnglish) -> float:
        rng = random.Random(2)
        words = [word for _ in range(400) for word in grammar.sentence(rng)[:-1].split()]
        rare = [w for w in words if w.lower() not in top | numbers.NUMBER_VOCABULARY
                and w not in names]  # fmt: skip
        return len(rare) / len(words)

    # What stays is the grammar's own phrases ("my cousin", "last week", "costs").
    assert rare_share(english.EverydayEnglish(_LEXICON.limited(words=1000))) < 0.06
    assert rare_share(english.EverydayEnglish(_LEXICON)) > 0.2
