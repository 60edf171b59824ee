"""The text of a committed window chosen among decodings of it with other edge silence.

The demo model's words change with tens of milliseconds of padding before a sentence (issue
15), so one decoding of a commit is one draw. Each candidate is the decoding of the same speech
with another lead margin; the one nearest all the others (fewest word edits in sum: a minimum
Bayes risk choice, where the others stand for the model's spread) is kept, so a word that only
one padding produces is outvoted."""

from __future__ import annotations

from collections.abc import Sequence


def words(text: str) -> list[str]:
    """Lowercase words without punctuation: 'The' and 'the.' are the same word to a vote."""
    cleaned = "".join(char if char.isalnum() or char == "'" else " " for char in text.lower())
    return cleaned.split()


def word_edits(first: Sequence[str], second: Sequence[str]) -> int:
    """Levenshtein distance between two word lists (one row at a time)."""
    row = list(range(len(second) + 1))
    for i, word in enumerate(first, 1):
        diagonal, row[0] = row[0], i
        for j, other in enumerate(second, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (word != other))
    return row[-1]


def nearest_to_all(texts: Sequence[str]) -> int:
    """Index of the text with the fewest word edits to all the others; a tie goes to the
    earliest (the caller puts its default decoding first)."""
    split = [words(text) for text in texts]
    costs = [sum(word_edits(one, other) for other in split) for one in split]
    return costs.index(min(costs))
