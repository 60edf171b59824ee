"""The everyday-English word lists: wordfreq's 5,000 most frequent words with their parts of
speech and inflected forms, and common first and last names (package data under `assets/`).

`assets/everyday_en_words.tsv` and `assets/everyday_en_names.tsv` are built once by
scripts/everyday_english_lexicon.py (their headers say from what, and under which licences), so
making a corpus needs none of the packages they were extracted from.
"""

from __future__ import annotations

import functools
from importlib.resources import files

import attrs

from qasr.errors import InvalidInputError

MIN_WORDS = 1000  # fewer leave some of the grammar's slots (e.g. "thinks", "wanted") empty


@attrs.frozen(eq=False)
class Word:
    """One lemma's forms that are among the 5,000 words, by Penn Treebank tag."""

    lemma: str
    forms: dict[str, str]

    def __getitem__(self, tag: str) -> str:
        return self.forms[tag]


@attrs.frozen(eq=False)  # compared by identity: it is read once and shared
class Lexicon:
    words: tuple[str, ...]  # the frequency list, in rank order
    nouns: tuple[Word, ...]
    verbs: tuple[Word, ...]
    adjectives: tuple[Word, ...]
    adverbs: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]

    def limited(self, words: int | None = None, names: int | None = None) -> Lexicon:
        """Only the open-class forms among the `words` most frequent, and the `names` most
        common first and last names: a smaller corpus that still covers its vocabulary."""
        if words is not None and not MIN_WORDS <= words <= len(self.words):
            raise InvalidInputError(f"--words must be between {MIN_WORDS} and {len(self.words)}")
        if names is not None and not 1 <= names <= len(self.first_names):
            raise InvalidInputError(f"--names must be between 1 and {len(self.first_names)}")
        kept = set(self.words[:words])

        def keep(pool: tuple[Word, ...]) -> tuple[Word, ...]:
            forms = [(word, {t: f for t, f in word.forms.items() if f in kept}) for word in pool]
            return tuple(Word(word.lemma, found) for word, found in forms if found)

        return Lexicon(
            words=self.words[:words],
            nouns=keep(self.nouns),
            verbs=keep(self.verbs),
            adjectives=keep(self.adjectives),
            adverbs=tuple(adverb for adverb in self.adverbs if adverb in kept),
            first_names=self.first_names[:names],
            last_names=self.last_names[:names],
        )

    def having(self, kind: str, *tags: str) -> tuple[Word, ...]:
        """The `kind` ("nouns", "verbs", "adjectives") that have every one of `tags`."""
        pool: tuple[Word, ...] = getattr(self, kind)
        return tuple(word for word in pool if all(tag in word.forms for tag in tags))


def _asset(name: str) -> list[list[str]]:
    text = files("qasr.training").joinpath("assets").joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@functools.cache
def everyday_lexicon() -> Lexicon:
    """The shipped word and name lists (read once per process)."""
    rows = _asset("everyday_en_words.tsv")
    groups: dict[str, dict[str, dict[str, str]]] = {"N": {}, "V": {}, "J": {}}
    adverbs = []
    for word, readings in rows:
        for reading in filter(None, readings.split(",")):
            tag, lemma = reading.split(":")
            if tag == "RB":
                adverbs.append(word)
            else:
                groups[tag[0]].setdefault(lemma, {})[tag] = word

    def words(kind: str) -> tuple[Word, ...]:
        return tuple(Word(lemma, forms) for lemma, forms in sorted(groups[kind].items()))

    names = _asset("everyday_en_names.tsv")
    return Lexicon(
        words=tuple(word for word, _ in rows),
        nouns=words("N"),
        verbs=words("V"),
        adjectives=words("J"),
        adverbs=tuple(adverbs),
        first_names=tuple(name for kind, name in names if kind == "first"),
        last_names=tuple(name for kind, name in names if kind == "last"),
    )
