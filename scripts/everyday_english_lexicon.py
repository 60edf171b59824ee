"""Rebuild the word and name lists of the everyday-English corpus (qasr.training.english).

    pip install wordfreq==3.1.1 lemminflect==0.2.3 wonderwords==3.0.1 faker
    python scripts/everyday_english_lexicon.py src/qasr/training/assets

Run once by a maintainer; the corpus itself needs none of these packages. It writes:

- `everyday_en_words.tsv`: the 5,000 most frequent English words of wordfreq (its `top_n_list`),
  each with the parts of speech the sentence grammar may use it as, e.g. `went  VBD:go` (tag and
  lemma, Penn Treebank tags). Tags come from lemminflect's lexicon, kept only where a second
  source agrees that the word really is used that way (wonderwords' curated noun, verb and
  adjective lists, or for verbs an inflected form that is itself among the 5,000 words), because
  lemminflect lists every part of speech a word can have ("bag" is a verb there too).
- `everyday_en_names.tsv`: the most common US first and last names in Faker's `en_US` tables.

Words that are not letters and apostrophes (digits, "u.s"), single letters, and profanity
(wonderwords' list) are dropped before tagging.
"""

from __future__ import annotations

import argparse
import re
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

WORDS = 5000
NAMES_EACH = 150
# Tags the grammar reads (qasr.training.english); lemminflect gives more.
NOUN_TAGS = ("NN", "NNS")
VERB_TAGS = ("VB", "VBZ", "VBD", "VBN", "VBG")
ADJECTIVE_TAGS = ("JJ", "JJR", "JJS")
_WORD = re.compile(r"[a-z][a-z']*[a-z]|[ai]")
# Closed-class words the grammar spells out itself; tagging them as nouns or verbs ("can",
# "will", "i") would let them into the open-class slots.
_FUNCTION_WORD_TEXT = (
    "a an the i me my mine you your yours he him his she her hers it its we us our ours they "
    "them their theirs this that these those who whom whose which what where when why how "
    "and or but if because so than then there here not no yes be am is are was were been being "
    "have has had having do does did done doing will would shall should can could may might "
    "must ought to of in on at by for with from into onto about over under up down out off "
    "per via as only just above below zero one two three four five six seven eight nine ten "
    "eleven twelve twenty thirty fifty hundred thousand million first second third very much "
    "many more most less least few lot other another same own such after before anything "
    "something everything nothing anyone someone everyone nobody somebody everybody"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORD_TEXT.split())


def _wonderwords(kind: str) -> frozenset[str]:
    text = files("wonderwords.assets").joinpath(f"{kind}list.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def frequent_words() -> list[str]:
    from wordfreq import top_n_list

    profanity = _wonderwords("profanity")
    kept = []
    for word in top_n_list("en", 3 * WORDS):
        if _WORD.fullmatch(word) and word not in profanity and word not in {"s", "t", "d"}:
            kept.append(word)
        if len(kept) == WORDS:
            return kept
    raise RuntimeError("wordfreq offered fewer than WORDS usable words")


def word_tags(words: list[str]) -> dict[str, list[str]]:
    """Each word's `TAG:lemma` readings that two sources agree on."""
    from lemminflect import getAllInflections, getAllLemmas

    known = set(words)
    nouns, verbs, adjectives = (_wonderwords(kind) for kind in ("noun", "verb", "adjective"))

    def forms(lemma: str, tags: tuple[str, ...]) -> dict[str, str]:
        inflections = getAllInflections(lemma)
        found = {tag: inflections[tag][0] for tag in tags if tag in inflections}
        if tags is VERB_TAGS:
            found.setdefault("VB", lemma)
            if found.get("VBD", "").endswith("ed"):  # lemminflect often omits a regular VBN
                found.setdefault("VBN", found["VBD"])
        if tags is NOUN_TAGS:
            found.setdefault("NN", lemma)
            if found.get("NNS") == lemma:  # "luck", "advice": no plural to count with
                del found["NNS"]
        return found

    def is_verb(lemma: str) -> bool:
        if lemma in verbs:
            return True
        inflected = forms(lemma, VERB_TAGS)
        return any(inflected.get(tag) in known for tag in ("VBD", "VBG") if tag in inflected)

    tagged: dict[str, list[str]] = {word: [] for word in words}
    for word in words:
        if word in _FUNCTION_WORDS:
            continue
        readings = getAllLemmas(word)
        for lemma in readings.get("NOUN", ()):
            if lemma in nouns:
                tagged[word] += [
                    f"{t}:{lemma}" for t, f in forms(lemma, NOUN_TAGS).items() if f == word
                ]
        for lemma in readings.get("VERB", ()):
            if lemma not in _FUNCTION_WORDS and is_verb(lemma):
                tagged[word] += [
                    f"{t}:{lemma}" for t, f in forms(lemma, VERB_TAGS).items() if f == word
                ]
        for lemma in readings.get("ADJ", ()):
            if lemma in adjectives or not (lemma in nouns or is_verb(lemma)):
                tagged[word] += [
                    f"{t}:{lemma}" for t, f in forms(lemma, ADJECTIVE_TAGS).items() if f == word
                ]
        # -ly adverbs only: the others ("up", "well", "still") are a closed class or too many
        # things at once to slot into a template.
        if word.endswith("ly") and word in readings.get("ADV", ()) and "ADJ" not in readings:
            tagged[word].append(f"RB:{word}")
        tagged[word] = sorted(set(tagged[word]))
    return tagged


def common_names() -> tuple[list[str], list[str]]:
    from faker.providers.person.en_US import Provider

    def top(weights: dict[str, float], count: int) -> list[str]:
        ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
        return [name for name, _ in ranked if name.isalpha()][:count]

    # Most common first, women's and men's names taken in turn, so a prefix is a balanced list.
    pairs = zip(
        top(Provider.first_names_female, NAMES_EACH // 2),
        top(Provider.first_names_male, NAMES_EACH // 2),
        strict=True,
    )
    first = list(dict.fromkeys(name for pair in pairs for name in pair))
    return first, top(Provider.last_names, NAMES_EACH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    folder = parser.parse_args().folder
    folder.mkdir(parents=True, exist_ok=True)
    words = frequent_words()
    tagged = word_tags(words)
    header = [
        f"# The {WORDS} most frequent English words of wordfreq {version('wordfreq')} "
        "(top_n_list('en'), letters and apostrophes only, profanity dropped), in rank order,",
        f"# with parts of speech from lemminflect {version('lemminflect')} confirmed by "
        f"wonderwords {version('wonderwords')} (scripts/everyday_english_lexicon.py).",
        "# wordfreq's data: CC BY-SA 4.0 (Robyn Speer et al.); lemminflect, wonderwords: MIT.",
        "# word<TAB>TAG:lemma,... (Penn Treebank tags; empty: a closed-class word or untagged)",
    ]
    rows = [f"{word}\t{','.join(tagged[word])}" for word in words]
    (folder / "everyday_en_words.tsv").write_text("\n".join(header + rows) + "\n", "utf-8")
    first, last = common_names()
    names_header = [
        f"# The most common US first names ({len(first)}) and last names ({len(last)}) of "
        f"Faker {version('faker')}'s en_US tables (US Census and SSA counts; Faker: MIT).",
        "# kind<TAB>name, most common first",
    ]
    names = [f"first\t{name}" for name in first] + [f"last\t{name}" for name in last]
    (folder / "everyday_en_names.tsv").write_text("\n".join(names_header + names) + "\n", "utf-8")
    print(
        f"{len(words)} words ({sum(bool(t) for t in tagged.values())} tagged), "
        f"{len(first)} first and {len(last)} last names -> {folder}"
    )


if __name__ == "__main__":
    main()
