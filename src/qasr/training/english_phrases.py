"""The phrases that the everyday-English sentence shapes are built from, with agreement.

Noun phrases with a fitting article or determiner, subjects that carry what their verb must agree
with, objects, places, and verb forms by Penn Treebank tag (drawn from `qasr.training.lexicon`'s
open-class words, split by whether the verb takes an object). The sentence shapes that put them
together are in `qasr.training.english`.

Every function draws from the `rng` it is given and from nothing else, in a fixed order, so the
same generator state gives the same phrase.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection

import attrs

from qasr.errors import InvalidInputError
from qasr.training import spoken_numbers as numbers
from qasr.training.closed_classes import (
    BE,
    CLAUSE_VERBS,
    INTRANSITIVE,
    PLACE_PREPOSITIONS,
    PLACES,
    PLURAL_DETERMINERS,
    RELATIVES,
    SUBJECT_PRONOUNS,
    WANTING,
)
from qasr.training.lexicon import Lexicon, Word, everyday_lexicon

_VOWEL_SOUND_EXCEPTIONS = ("uni", "use", "usu", "eu", "one", "once", "ur")


def with_article(rng: random.Random, word: str) -> list[str]:
    """`a`/`an` by the sound that follows, or sometimes another singular determiner."""
    choice = rng.random()
    if choice < 0.45:
        return ["the", word]
    if choice < 0.65:
        return [rng.choice(("my", "your", "his", "her", "our", "their", "this", "that")), word]
    vowel = word[0] in "aeiou" and not word.startswith(_VOWEL_SOUND_EXCEPTIONS)
    return ["an" if vowel or word.startswith(("hour", "honest")) else "a", word]


def maybe(rng: random.Random, chance: float, make: Callable[[], list[str]]) -> list[str]:
    """`make()` with probability `chance`, else nothing (`make` draws only when it is called)."""
    return make() if rng.random() < chance else []


@attrs.define
class Clause:
    """A subject with what the verb after it must agree with."""

    words: list[str]
    subject: str  # a pronoun, or "it" for a singular noun phrase and "they" for a plural one

    @property
    def singular(self) -> bool:
        return self.subject in ("he", "she", "it")


class Phrases:
    """Phrases drawn from `lexicon`; refuses a lexicon that leaves a slot of the grammar empty."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or everyday_lexicon()
        self._pools: dict[tuple[str, str, bool | None], tuple[Word, ...]] = {}
        needed: list[tuple[str, str, bool | None]] = [
            ("nouns", "NN", None),
            ("nouns", "NNS", None),
            ("adjectives", "JJ", None),
        ]
        needed += [("verbs", tag, True) for tag in ("VB", "VBZ", "VBD", "VBG", "VBN")]
        needed += [("verbs", tag, False) for tag in ("VB", "VBZ", "VBD")]
        empty = [
            f"{kind} {tag}"
            for kind, tag, transitive in needed
            if not self.pool(kind, tag, transitive)
        ]
        for tag in ("VB", "VBZ", "VBD"):
            for lemmas in (WANTING, CLAUSE_VERBS):
                if not self.verbs_among(tag, lemmas):
                    empty.append(f"verbs {tag} of {sorted(lemmas)[0]}...")
        if empty or not self.lexicon.adverbs:
            raise InvalidInputError(
                f"the word list is too small for the grammar (no {', '.join(empty) or 'adverbs'})"
            )

    def pool(self, kind: str, tag: str, transitive: bool | None = None) -> tuple[Word, ...]:
        """Words of `kind` with the form `tag`; verbs also by whether they take an object."""
        key = (kind, tag, transitive)
        if key not in self._pools:
            pool = self.lexicon.having(kind, tag)
            if transitive is not None:
                pool = tuple(
                    word
                    for word in pool
                    if word.lemma not in CLAUSE_VERBS
                    and (word.lemma not in INTRANSITIVE) == transitive
                )
            self._pools[key] = pool
        return self._pools[key]

    def verbs_among(self, tag: str, lemmas: Collection[str]) -> list[Word]:
        """The verbs with the form `tag` whose lemma is one of `lemmas` ("want", "think"...)."""
        return [verb for verb in self.pool("verbs", tag) if verb.lemma in lemmas]

    def noun(self, rng: random.Random, tag: str) -> str:
        return rng.choice(self.pool("nouns", tag))[tag]

    def adjective(self, rng: random.Random) -> str:
        return rng.choice(self.pool("adjectives", "JJ"))["JJ"]

    def noun_phrase(self, rng: random.Random, plural: bool | None = None) -> list[str]:
        plural = rng.random() < 0.35 if plural is None else plural
        adjective = maybe(rng, 0.4, lambda: [self.adjective(rng)])
        if not plural:
            return with_article(rng, " ".join([*adjective, self.noun(rng, "NN")]))
        count = rng.random()
        if count < 0.3:
            determiner = [numbers.number_words(numbers.random_count(rng))]
        else:
            determiner = [rng.choice(PLURAL_DETERMINERS)]
        return [*determiner, *adjective, self.noun(rng, "NNS")]

    def name(self, rng: random.Random) -> list[str]:
        first = rng.choice(self.lexicon.first_names)
        return [first, rng.choice(self.lexicon.last_names)] if rng.random() < 0.3 else [first]

    def subject(self, rng: random.Random) -> Clause:
        kind = rng.random()
        if kind < 0.5:
            pronoun = rng.choice(SUBJECT_PRONOUNS)
            return Clause([pronoun], pronoun)
        if kind < 0.65:
            name = self.name(rng)
            return Clause(name, "he")  # he or she: only the agreement matters here
        if kind < 0.75:
            possessive = rng.choice(("my", "your", "our", "his", "her", "their"))
            return Clause([possessive, rng.choice(RELATIVES)], "he")
        plural = rng.random() < 0.4
        return Clause(self.noun_phrase(rng, plural), "they" if plural else "it")

    def object_phrase(self, rng: random.Random) -> list[str]:
        kind = rng.random()
        if kind < 0.15:
            return [rng.choice(("me", "you", "him", "her", "us", "them", "it"))]
        if kind < 0.25:
            return self.name(rng)
        return self.noun_phrase(rng)

    def place(self, rng: random.Random) -> list[str]:
        if rng.random() < 0.25:
            return [rng.choice(("in", "to", "from", "near")), rng.choice(PLACES)]
        return [rng.choice(PLACE_PREPOSITIONS), "the", self.noun(rng, "NN")]

    def verb(self, rng: random.Random, tag: str, transitive: bool = True) -> str:
        return rng.choice(self.pool("verbs", tag, transitive))[tag]

    def present_verb(self, rng: random.Random, clause: Clause, transitive: bool = True) -> str:
        return self.verb(rng, "VBZ" if clause.singular else "VB", transitive)

    def be(self, clause: Clause, past: bool = False) -> str:
        if clause.subject in BE:
            return BE[clause.subject][past]
        return ("was" if past else "is") if clause.singular else ("were" if past else "are")

    def adverb(self, rng: random.Random) -> list[str]:
        return [rng.choice(self.lexicon.adverbs)]
