"""Sentences of everyday English: a small grammar over the 5,000 most frequent English words.

The open-class words (nouns, verbs, adjectives, -ly adverbs) and their inflected forms, and the
names, come from `qasr.training.lexicon` (wordfreq's 5,000 most frequent English words, tagged).
The closed classes (pronouns, determiners, prepositions, auxiliaries) are in
`qasr.training.closed_classes`; the sentence shapes are written here.

A sentence is one of a few dozen shapes (statements in present, past, future and perfect,
questions, requests, there-is, comparisons, dates, times, prices, two clauses joined), with
agreement between subject and verb, so word order is natural even where the meaning is odd
("my sister painted a narrow bridge yesterday"). Open-class words are drawn uniformly, so every
word of the list turns up in a corpus of a few thousand sentences, not only the commonest.

Written form, the one the model learns to output: the first word capitalised, "I", names, days,
months and places capitalised, contractions with an apostrophe ("don't"), numbers in words,
and a final "." or "?". No other punctuation: espeak-ng reads nothing else aloud differently.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

from qasr.errors import InvalidInputError
from qasr.training import spoken_numbers as numbers
from qasr.training.closed_classes import (
    BE,
    CLAUSE_VERBS,
    CONJUNCTIONS,
    CONTRACTED_BE,
    FREQUENCY,
    FUTURE_TIMES,
    INTENSIFIERS,
    INTRANSITIVE,
    MODALS,
    PAST_TIMES,
    PLACE_PREPOSITIONS,
    PLACES,
    PLURAL_DETERMINERS,
    PRESENT_TIMES,
    RELATIVES,
    SUBJECT_PRONOUNS,
    WANTING,
)
from qasr.training.lexicon import Lexicon, Word, everyday_lexicon

MIN_WORDS, MAX_WORDS = 4, 16  # ~2-8 s at the corpus's 130-200 words per minute
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


@attrs.define
class _Clause:
    """A subject with what the verb after it must agree with."""

    words: list[str]
    subject: str  # a pronoun, or "it" for a singular noun phrase and "they" for a plural one

    @property
    def singular(self) -> bool:
        return self.subject in ("he", "she", "it")


class EverydayEnglish:
    """`sentence(rng)`: one sentence; the same `rng` state gives the same sentence."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or everyday_lexicon()
        self._pools: dict[tuple[str, str, bool | None], tuple[Word, ...]] = {}
        self._shapes: list[tuple[float, Callable[[random.Random], list[str]]]] = [
            (3.0, self._present),
            (3.0, self._past),
            (1.5, self._future),
            (2.0, self._modal),
            (1.5, self._wanting),
            (1.5, self._progressive),
            (1.0, self._perfect),
            (2.0, self._description),
            (1.0, self._comparison),
            (1.0, self._there_is),
            (1.0, self._intransitive),
            (2.5, self._question),
            (1.0, self._request),
            (1.0, self._opinion),
            (1.5, self._two_clauses),
            (2.0, self._numbers),
        ]
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
            if not self._pool(kind, tag, transitive)
        ]
        for tag in ("VB", "VBZ", "VBD"):
            for lemmas in (WANTING, CLAUSE_VERBS):
                if not [verb for verb in self._pool("verbs", tag) if verb.lemma in lemmas]:
                    empty.append(f"verbs {tag} of {sorted(lemmas)[0]}...")
        if empty or not self.lexicon.adverbs:
            raise InvalidInputError(
                f"the word list is too small for the grammar (no {', '.join(empty) or 'adverbs'})"
            )

    def _pool(self, kind: str, tag: str, transitive: bool | None = None) -> tuple[Word, ...]:
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

    def sentence(self, rng: random.Random) -> str:
        weights = [weight for weight, _ in self._shapes]
        while True:
            (shape,) = rng.choices([shape for _, shape in self._shapes], weights)
            words = " ".join(shape(rng)).split()
            if MIN_WORDS <= len(words) - (words[-1] == "?") <= MAX_WORDS:
                break
        ending = words.pop() if words[-1] == "?" else "."
        words[0] = words[0][0].upper() + words[0][1:]
        return " ".join(words) + ending

    # Phrases.
    def _noun(self, rng: random.Random, tag: str) -> str:
        return rng.choice(self._pool("nouns", tag))[tag]

    def _adjective(self, rng: random.Random) -> str:
        return rng.choice(self._pool("adjectives", "JJ"))["JJ"]

    def _noun_phrase(self, rng: random.Random, plural: bool | None = None) -> list[str]:
        plural = rng.random() < 0.35 if plural is None else plural
        adjective = self._maybe(rng, 0.4, lambda: [self._adjective(rng)])
        if not plural:
            return with_article(rng, " ".join([*adjective, self._noun(rng, "NN")]))
        count = rng.random()
        if count < 0.3:
            determiner = [numbers.number_words(numbers.random_count(rng))]
        else:
            determiner = [rng.choice(PLURAL_DETERMINERS)]
        return [*determiner, *adjective, self._noun(rng, "NNS")]

    def _name(self, rng: random.Random) -> list[str]:
        first = rng.choice(self.lexicon.first_names)
        return [first, rng.choice(self.lexicon.last_names)] if rng.random() < 0.3 else [first]

    def _subject(self, rng: random.Random) -> _Clause:
        kind = rng.random()
        if kind < 0.5:
            pronoun = rng.choice(SUBJECT_PRONOUNS)
            return _Clause([pronoun], pronoun)
        if kind < 0.65:
            name = self._name(rng)
            return _Clause(name, "he")  # he or she: only the agreement matters here
        if kind < 0.75:
            possessive = rng.choice(("my", "your", "our", "his", "her", "their"))
            return _Clause([possessive, rng.choice(RELATIVES)], "he")
        plural = rng.random() < 0.4
        return _Clause(self._noun_phrase(rng, plural), "they" if plural else "it")

    def _object(self, rng: random.Random) -> list[str]:
        kind = rng.random()
        if kind < 0.15:
            return [rng.choice(("me", "you", "him", "her", "us", "them", "it"))]
        if kind < 0.25:
            return self._name(rng)
        return self._noun_phrase(rng)

    def _place(self, rng: random.Random) -> list[str]:
        if rng.random() < 0.25:
            return [rng.choice(("in", "to", "from", "near")), rng.choice(PLACES)]
        return [rng.choice(PLACE_PREPOSITIONS), "the", self._noun(rng, "NN")]

    def _maybe(self, rng: random.Random, chance: float, make: Callable[[], list[str]]) -> list[str]:
        return make() if rng.random() < chance else []

    def _verb(self, rng: random.Random, tag: str, transitive: bool = True) -> str:
        return rng.choice(self._pool("verbs", tag, transitive))[tag]

    def _present_verb(self, rng: random.Random, clause: _Clause, transitive: bool = True) -> str:
        return self._verb(rng, "VBZ" if clause.singular else "VB", transitive)

    def _be(self, clause: _Clause, past: bool = False) -> str:
        if clause.subject in BE:
            return BE[clause.subject][past]
        return ("was" if past else "is") if clause.singular else ("were" if past else "are")

    def _adverb(self, rng: random.Random) -> list[str]:
        return [rng.choice(self.lexicon.adverbs)]

    # Sentence shapes.
    def _present(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        if rng.random() < 0.2:
            verb = ["doesn't" if subject.singular else "don't", self._verb(rng, "VB")]
        else:
            frequency = self._maybe(rng, 0.3, lambda: [rng.choice(FREQUENCY)])
            verb = [*frequency, self._present_verb(rng, subject)]
        return [
            *subject.words,
            *verb,
            *self._object(rng),
            *self._maybe(rng, 0.3, lambda: self._place(rng)),
            *self._maybe(rng, 0.3, lambda: [rng.choice(PRESENT_TIMES)]),
        ]

    def _past(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        verb = (
            ["didn't", self._verb(rng, "VB")] if rng.random() < 0.15 else [self._verb(rng, "VBD")]
        )
        return [
            *subject.words,
            *verb,
            *self._object(rng),
            *self._maybe(rng, 0.3, lambda: self._adverb(rng)),
            *self._maybe(rng, 0.3, lambda: self._place(rng)),
            *self._maybe(rng, 0.5, lambda: [rng.choice(PAST_TIMES)]),
        ]

    def _future(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        will = rng.choice((["will"], ["won't"], [self._be(subject), "going", "to"]))
        return [
            *subject.words,
            *will,
            self._verb(rng, "VB"),
            *self._object(rng),
            *self._maybe(rng, 0.6, lambda: [rng.choice(FUTURE_TIMES)]),
        ]

    def _modal(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        negation = self._maybe(rng, 0.2, lambda: ["not"])
        return [
            *subject.words,
            rng.choice(MODALS),
            *negation,
            self._verb(rng, "VB"),
            *self._object(rng),
            *self._maybe(rng, 0.3, lambda: self._adverb(rng)),
        ]

    def _wanting(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        tag = rng.choice(("VBZ" if subject.singular else "VB", "VBD"))
        wanting = [verb for verb in self._pool("verbs", tag) if verb.lemma in WANTING]
        return [
            *subject.words,
            rng.choice(wanting)[tag],
            "to",
            self._verb(rng, "VB"),
            *self._object(rng),
            *self._maybe(rng, 0.3, lambda: [rng.choice(FUTURE_TIMES)]),
        ]

    def _progressive(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        past = rng.random() < 0.4
        be = self._be(subject, past)
        if not past and subject.subject in CONTRACTED_BE and rng.random() < 0.5:
            head = [CONTRACTED_BE[subject.subject]]
        else:
            head = [*subject.words, be]
        when = (
            []
            if not past
            else self._maybe(rng, 0.5, lambda: ["when", *self._name(rng), self._verb(rng, "VBD")])
        )
        if when:
            when += self._object(rng)
        return [
            *head,
            self._verb(rng, "VBG"),
            *self._object(rng),
            *self._maybe(rng, 0.3, lambda: self._place(rng)),
            *when,
        ]

    def _perfect(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        have = "has" if subject.singular else "have"
        adverb = self._maybe(rng, 0.4, lambda: [rng.choice(("already", "just", "never"))])
        return [
            *subject.words,
            have,
            *adverb,
            self._verb(rng, "VBN"),
            *self._object(rng),
            *self._maybe(rng, 0.2, lambda: ["before"]),
        ]

    def _description(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        intensity = self._maybe(rng, 0.4, lambda: [rng.choice(INTENSIFIERS)])
        adjective = self._adjective(rng)
        tail = self._maybe(rng, 0.3, lambda: [rng.choice(PRESENT_TIMES + PAST_TIMES[:3])])
        return [*subject.words, self._be(subject, rng.random() < 0.4), *intensity, adjective, *tail]

    def _comparison(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        adjectives = self._pool("adjectives", "JJR")
        if rng.random() < 0.5 or not adjectives:
            adjective = ["more", self._adjective(rng)]
        else:
            adjective = [rng.choice(adjectives)["JJR"]]
        return [*subject.words, self._be(subject), *adjective, "than", *self._object(rng)]

    def _there_is(self, rng: random.Random) -> list[str]:
        plural = rng.random() < 0.5
        be = ("were" if plural else "was") if rng.random() < 0.3 else ("are" if plural else "is")
        return ["there", be, *self._noun_phrase(rng, plural), *self._place(rng)]

    def _intransitive(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        tag = rng.choice(("VBD", "VBZ" if subject.singular else "VB"))
        verb = self._verb(rng, tag, transitive=False)
        where = self._place(rng) if rng.random() < 0.6 else [rng.choice(PAST_TIMES + FUTURE_TIMES)]
        return [*subject.words, verb, *where]

    def _question(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        kind = rng.random()
        if kind < 0.3:
            auxiliary = rng.choice(("did", "does" if subject.singular else "do"))
            return [auxiliary, *subject.words, self._verb(rng, "VB"), *self._object(rng), "?"]
        if kind < 0.5:
            return [
                rng.choice(("can", "could", "would", "should", "will")),
                *subject.words,
                self._verb(rng, "VB"),
                *self._object(rng),
                "?",
            ]
        if kind < 0.65:
            plural = rng.random() < 0.35
            return [
                rng.choice(("where", "why", "how")),
                "are" if plural else "is",
                *self._noun_phrase(rng, plural),
                "?",
            ]
        if kind < 0.8:
            auxiliary = "does" if subject.singular else "do"
            return [
                rng.choice(("what", "where", "when", "why", "how")),
                auxiliary,
                *subject.words,
                self._verb(rng, "VB"),
                "?",
            ]
        if kind < 0.9:
            return [
                "how",
                "many",
                self._noun(rng, "NNS"),
                "did",
                *subject.words,
                self._verb(rng, "VB"),
                "?",
            ]
        return [self._be(subject), *subject.words, self._adjective(rng), "?"]

    def _request(self, rng: random.Random) -> list[str]:
        opening = rng.choice((["please"], ["let's"], ["don't"], [], ["you", "should"]))
        closing = self._maybe(
            rng, 0.3, lambda: [rng.choice(("please", "now", "first", "again", "for me", "today"))]
        )
        return [*opening, self._verb(rng, "VB"), *self._object(rng), *closing]

    def _opinion(self, rng: random.Random) -> list[str]:
        subject = self._subject(rng)
        tag = rng.choice(("VBZ" if subject.singular else "VB", "VBD"))
        verb = rng.choice([verb for verb in self._pool("verbs", tag) if verb.lemma in CLAUSE_VERBS])
        that = self._maybe(rng, 0.4, lambda: ["that"])
        return [*subject.words, verb[tag], *that, *self._clause(rng)]

    def _clause(self, rng: random.Random) -> list[str]:
        shape = rng.choice((self._present, self._past, self._future, self._description))
        return shape(rng)

    def _two_clauses(self, rng: random.Random) -> list[str]:
        return [*self._clause(rng), rng.choice(CONJUNCTIONS), *self._clause(rng)]

    def _numbers(self, rng: random.Random) -> list[str]:
        name = self._name(rng)
        kind = rng.random()
        if kind < 0.2:
            year = rng.choice((rng.randint(1900, 2030), rng.randint(1700, 1899)))
            return [
                *name,
                "was",
                "born",
                "on",
                numbers.random_date(rng),
                "in",
                numbers.year_words(year),
            ]
        if kind < 0.4:
            return [
                *self._noun_phrase(rng, False),
                rng.choice(("costs", "cost")),
                numbers.random_price(rng),
            ]
        if kind < 0.6:
            day = rng.choice(numbers.DAYS) if rng.random() < 0.5 else numbers.random_date(rng)
            return ["the", self._noun(rng, "NN"), "is", "on", day, "at", numbers.random_time(rng)]
        if kind < 0.75:
            count = numbers.number_words(numbers.random_count(rng))
            return [*name, "has", count, self._noun(rng, "NNS")]
        if kind < 0.9:
            where = rng.choice((["now"], ["in", rng.choice(PLACES)], []))
            return ["it", rng.choice(("is", "was")), numbers.random_time(rng), *where]
        percent = numbers.number_words(rng.randint(1, 100))
        return [
            percent,
            "percent",
            "of",
            "the",
            self._noun(rng, "NNS"),
            "are",
            self._adjective(rng),
        ]
