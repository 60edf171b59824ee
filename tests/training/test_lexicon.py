"""The shipped word and name lists: what the grammar relies on them to hold."""

from __future__ import annotations

import re

import pytest

from qasr.errors import InvalidInputError
from qasr.training.lexicon import MIN_WORDS, everyday_lexicon


def test_the_word_list_is_the_5000_most_frequent_written_words() -> None:
    lexicon = everyday_lexicon()
    assert len(lexicon.words) == len(set(lexicon.words)) == 5000
    assert lexicon.words[:5] == ("the", "to", "and", "of", "a")  # rank order
    assert all(re.fullmatch(r"[a-z']+", word) for word in lexicon.words)


def test_every_form_is_a_listed_word_under_a_known_tag() -> None:
    lexicon = everyday_lexicon()
    listed = set(lexicon.words)
    tags = {"nouns": {"NN", "NNS"}, "verbs": {"VB", "VBZ", "VBD", "VBN", "VBG"},
            "adjectives": {"JJ", "JJR", "JJS"}}  # fmt: skip
    for kind, allowed in tags.items():
        pool = getattr(lexicon, kind)
        assert len(pool) > 100
        for word in pool:
            assert set(word.forms) <= allowed and set(word.forms.values()) <= listed
    assert set(lexicon.adverbs) <= listed and all(a.endswith("ly") for a in lexicon.adverbs)
    assert lexicon.having("verbs", "VBD", "VBG")  # "went" and "going" belong to one lemma
    assert {word.lemma for word in lexicon.having("verbs", "VBD")} >= {"go", "see", "take"}


def test_names_are_capitalised_and_most_common_first() -> None:
    lexicon = everyday_lexicon()
    for names in (lexicon.first_names, lexicon.last_names):
        assert len(names) == len(set(names)) >= 100
        assert all(name[0].isupper() and name.isalpha() for name in names)
    assert lexicon.last_names[0] == "Smith"


def test_a_limited_lexicon_keeps_only_the_most_frequent_forms() -> None:
    small = everyday_lexicon().limited(words=MIN_WORDS, names=10)
    kept = set(small.words)
    assert len(kept) == MIN_WORDS and len(small.first_names) == len(small.last_names) == 10
    for pool in (small.nouns, small.verbs, small.adjectives):
        assert pool and all(set(word.forms.values()) <= kept for word in pool)
    with pytest.raises(InvalidInputError, match="--words"):
        everyday_lexicon().limited(words=MIN_WORDS - 1)
    with pytest.raises(InvalidInputError, match="--names"):
        everyday_lexicon().limited(names=0)
