"""Sentences of everyday English: a small grammar over the 5,000 most frequent English words.

The open-class words (nouns, verbs, adjectives, -ly adverbs) and their inflected forms, and the
names, come from `qasr.training.lexicon` (wordfreq's 5,000 most frequent English words, tagged).
The closed classes (pronouns, determiners, prepositions, auxiliaries) are in
`qasr.training.closed_classes`; the phrases (noun phrases, subjects, objects, verb forms) in
`qasr.training.english_phrases`; the sentence shapes that join them are written here.

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

from qasr.training import spoken_numbers as numbers
from qasr.training.closed_classes import (
    CLAUSE_VERBS,
    CONJUNCTIONS,
    CONTRACTED_BE,
    FREQUENCY,
    FUTURE_TIMES,
    INTENSIFIERS,
    MODALS,
    PAST_TIMES,
    PLACES,
    PRESENT_TIMES,
    WANTING,
)
from qasr.training.english_phrases import Phrases, maybe
from qasr.training.lexicon import Lexicon

MIN_WORDS, MAX_WORDS = 4, 16  # ~2-8 s at the corpus's 130-200 words per minute

Shape = Callable[[Phrases, random.Random], list[str]]


class EverydayEnglish:
    """`sentence(rng)`: one sentence; the same `rng` state gives the same sentence."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.phrases = Phrases(lexicon)
        self.lexicon = self.phrases.lexicon

    def sentence(self, rng: random.Random) -> str:
        weights = [weight for weight, _ in SHAPES]
        while True:
            (shape,) = rng.choices([shape for _, shape in SHAPES], weights)
            words = " ".join(shape(self.phrases, rng)).split()
            if MIN_WORDS <= len(words) - (words[-1] == "?") <= MAX_WORDS:
                break
        ending = words.pop() if words[-1] == "?" else "."
        words[0] = words[0][0].upper() + words[0][1:]
        return " ".join(words) + ending


def present(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    if rng.random() < 0.2:
        verb = ["doesn't" if subject.singular else "don't", phrases.verb(rng, "VB")]
    else:
        frequency = maybe(rng, 0.3, lambda: [rng.choice(FREQUENCY)])
        verb = [*frequency, phrases.present_verb(rng, subject)]
    return [
        *subject.words,
        *verb,
        *phrases.object_phrase(rng),
        *maybe(rng, 0.3, lambda: phrases.place(rng)),
        *maybe(rng, 0.3, lambda: [rng.choice(PRESENT_TIMES)]),
    ]


def past(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    verb = (
        ["didn't", phrases.verb(rng, "VB")] if rng.random() < 0.15 else [phrases.verb(rng, "VBD")]
    )
    return [
        *subject.words,
        *verb,
        *phrases.object_phrase(rng),
        *maybe(rng, 0.3, lambda: phrases.adverb(rng)),
        *maybe(rng, 0.3, lambda: phrases.place(rng)),
        *maybe(rng, 0.5, lambda: [rng.choice(PAST_TIMES)]),
    ]


def future(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    will = rng.choice((["will"], ["won't"], [phrases.be(subject), "going", "to"]))
    return [
        *subject.words,
        *will,
        phrases.verb(rng, "VB"),
        *phrases.object_phrase(rng),
        *maybe(rng, 0.6, lambda: [rng.choice(FUTURE_TIMES)]),
    ]


def modal(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    negation = maybe(rng, 0.2, lambda: ["not"])
    return [
        *subject.words,
        rng.choice(MODALS),
        *negation,
        phrases.verb(rng, "VB"),
        *phrases.object_phrase(rng),
        *maybe(rng, 0.3, lambda: phrases.adverb(rng)),
    ]


def wanting(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    tag = rng.choice(("VBZ" if subject.singular else "VB", "VBD"))
    return [
        *subject.words,
        rng.choice(phrases.verbs_among(tag, WANTING))[tag],
        "to",
        phrases.verb(rng, "VB"),
        *phrases.object_phrase(rng),
        *maybe(rng, 0.3, lambda: [rng.choice(FUTURE_TIMES)]),
    ]


def progressive(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    in_past = rng.random() < 0.4
    be = phrases.be(subject, in_past)
    if not in_past and subject.subject in CONTRACTED_BE and rng.random() < 0.5:
        head = [CONTRACTED_BE[subject.subject]]
    else:
        head = [*subject.words, be]
    when = (
        []
        if not in_past
        else maybe(rng, 0.5, lambda: ["when", *phrases.name(rng), phrases.verb(rng, "VBD")])
    )
    if when:
        when += phrases.object_phrase(rng)
    return [
        *head,
        phrases.verb(rng, "VBG"),
        *phrases.object_phrase(rng),
        *maybe(rng, 0.3, lambda: phrases.place(rng)),
        *when,
    ]


def perfect(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    have = "has" if subject.singular else "have"
    adverb = maybe(rng, 0.4, lambda: [rng.choice(("already", "just", "never"))])
    return [
        *subject.words,
        have,
        *adverb,
        phrases.verb(rng, "VBN"),
        *phrases.object_phrase(rng),
        *maybe(rng, 0.2, lambda: ["before"]),
    ]


def description(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    intensity = maybe(rng, 0.4, lambda: [rng.choice(INTENSIFIERS)])
    adjective = phrases.adjective(rng)
    tail = maybe(rng, 0.3, lambda: [rng.choice(PRESENT_TIMES + PAST_TIMES[:3])])
    return [*subject.words, phrases.be(subject, rng.random() < 0.4), *intensity, adjective, *tail]


def comparison(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    adjectives = phrases.pool("adjectives", "JJR")
    if rng.random() < 0.5 or not adjectives:
        adjective = ["more", phrases.adjective(rng)]
    else:
        adjective = [rng.choice(adjectives)["JJR"]]
    return [*subject.words, phrases.be(subject), *adjective, "than", *phrases.object_phrase(rng)]


def there_is(phrases: Phrases, rng: random.Random) -> list[str]:
    plural = rng.random() < 0.5
    be = ("were" if plural else "was") if rng.random() < 0.3 else ("are" if plural else "is")
    return ["there", be, *phrases.noun_phrase(rng, plural), *phrases.place(rng)]


def intransitive(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    tag = rng.choice(("VBD", "VBZ" if subject.singular else "VB"))
    verb = phrases.verb(rng, tag, transitive=False)
    where = phrases.place(rng) if rng.random() < 0.6 else [rng.choice(PAST_TIMES + FUTURE_TIMES)]
    return [*subject.words, verb, *where]


def question(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    kind = rng.random()
    if kind < 0.3:
        auxiliary = rng.choice(("did", "does" if subject.singular else "do"))
        verb = phrases.verb(rng, "VB")
        return [auxiliary, *subject.words, verb, *phrases.object_phrase(rng), "?"]
    if kind < 0.5:
        return [
            rng.choice(("can", "could", "would", "should", "will")),
            *subject.words,
            phrases.verb(rng, "VB"),
            *phrases.object_phrase(rng),
            "?",
        ]
    if kind < 0.65:
        plural = rng.random() < 0.35
        return [
            rng.choice(("where", "why", "how")),
            "are" if plural else "is",
            *phrases.noun_phrase(rng, plural),
            "?",
        ]
    if kind < 0.8:
        auxiliary = "does" if subject.singular else "do"
        return [
            rng.choice(("what", "where", "when", "why", "how")),
            auxiliary,
            *subject.words,
            phrases.verb(rng, "VB"),
            "?",
        ]
    if kind < 0.9:
        counted = phrases.noun(rng, "NNS")
        return ["how", "many", counted, "did", *subject.words, phrases.verb(rng, "VB"), "?"]
    return [phrases.be(subject), *subject.words, phrases.adjective(rng), "?"]


def request(phrases: Phrases, rng: random.Random) -> list[str]:
    opening = rng.choice((["please"], ["let's"], ["don't"], [], ["you", "should"]))
    closing = maybe(
        rng, 0.3, lambda: [rng.choice(("please", "now", "first", "again", "for me", "today"))]
    )
    return [*opening, phrases.verb(rng, "VB"), *phrases.object_phrase(rng), *closing]


def opinion(phrases: Phrases, rng: random.Random) -> list[str]:
    subject = phrases.subject(rng)
    tag = rng.choice(("VBZ" if subject.singular else "VB", "VBD"))
    verb = rng.choice(phrases.verbs_among(tag, CLAUSE_VERBS))
    that = maybe(rng, 0.4, lambda: ["that"])
    return [*subject.words, verb[tag], *that, *clause(phrases, rng)]


def clause(phrases: Phrases, rng: random.Random) -> list[str]:
    """A statement that can stand after "I think (that)" or beside another with "and", "but"..."""
    shape = rng.choice((present, past, future, description))
    return shape(phrases, rng)


def two_clauses(phrases: Phrases, rng: random.Random) -> list[str]:
    return [*clause(phrases, rng), rng.choice(CONJUNCTIONS), *clause(phrases, rng)]


def numbers_in_words(phrases: Phrases, rng: random.Random) -> list[str]:
    """Dates, years, prices, times, counts and percentages, all in words."""
    name = phrases.name(rng)
    kind = rng.random()
    if kind < 0.2:
        year = rng.choice((rng.randint(1900, 2030), rng.randint(1700, 1899)))
        born = numbers.random_date(rng)
        return [*name, "was", "born", "on", born, "in", numbers.year_words(year)]
    if kind < 0.4:
        thing = phrases.noun_phrase(rng, False)
        return [*thing, rng.choice(("costs", "cost")), numbers.random_price(rng)]
    if kind < 0.6:
        day = rng.choice(numbers.DAYS) if rng.random() < 0.5 else numbers.random_date(rng)
        event = phrases.noun(rng, "NN")
        return ["the", event, "is", "on", day, "at", numbers.random_time(rng)]
    if kind < 0.75:
        count = numbers.number_words(numbers.random_count(rng))
        return [*name, "has", count, phrases.noun(rng, "NNS")]
    if kind < 0.9:
        where = rng.choice((["now"], ["in", rng.choice(PLACES)], []))
        return ["it", rng.choice(("is", "was")), numbers.random_time(rng), *where]
    percent = numbers.number_words(rng.randint(1, 100))
    counted = phrases.noun(rng, "NNS")
    return [percent, "percent", "of", "the", counted, "are", phrases.adjective(rng)]


# How often each shape is drawn, relative to the others.
SHAPES: tuple[tuple[float, Shape], ...] = (
    (3.0, present),
    (3.0, past),
    (1.5, future),
    (2.0, modal),
    (1.5, wanting),
    (1.5, progressive),
    (1.0, perfect),
    (2.0, description),
    (1.0, comparison),
    (1.0, there_is),
    (1.0, intransitive),
    (2.5, question),
    (1.0, request),
    (1.0, opinion),
    (1.5, two_clauses),
    (2.0, numbers_in_words),
)
