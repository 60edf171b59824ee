"""Word and character error rates, summed over a corpus (edits / reference length).

Texts are compared after `normalize_transcript`: case folded, punctuation dropped, whitespace
collapsed, so that a model is not scored on punctuation style. The character rate ignores
whitespace, so Chinese or Japanese text scores the same with or without spaces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Sequence

import attrs

from qasr.errors import InvalidInputError


def normalize_transcript(text: str) -> str:
    kept = (" " if unicodedata.category(char).startswith("P") else char for char in text)
    return " ".join("".join(kept).casefold().split())


def edit_distance(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> int:
    """Levenshtein distance: substitutions + deletions + insertions."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_item in enumerate(reference, start=1):
        current = [i]
        for j, hyp_item in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_item != hyp_item),  # substitution or match
                )
            )
        previous = current
    return previous[-1]


@attrs.frozen
class ErrorRate:
    errors: int
    reference_length: int

    @property
    def rate(self) -> float:
        """errors / reference length; an empty reference scores 0 if matched, else 1 per edit."""
        return self.errors / max(self.reference_length, 1)


def _pairs(references: Sequence[str], hypotheses: Sequence[str]) -> list[tuple[str, str]]:
    if len(references) != len(hypotheses):
        raise InvalidInputError(
            f"{len(references)} references but {len(hypotheses)} hypotheses; pass one each"
        )
    return [
        (normalize_transcript(ref), normalize_transcript(hyp))
        for ref, hyp in zip(references, hypotheses, strict=True)
    ]


def word_errors(references: Sequence[str], hypotheses: Sequence[str]) -> ErrorRate:
    pairs = [(ref.split(), hyp.split()) for ref, hyp in _pairs(references, hypotheses)]
    return ErrorRate(
        errors=sum(edit_distance(ref, hyp) for ref, hyp in pairs),
        reference_length=sum(len(ref) for ref, _ in pairs),
    )


def character_errors(references: Sequence[str], hypotheses: Sequence[str]) -> ErrorRate:
    pairs = [
        (ref.replace(" ", ""), hyp.replace(" ", "")) for ref, hyp in _pairs(references, hypotheses)
    ]
    return ErrorRate(
        errors=sum(edit_distance(ref, hyp) for ref, hyp in pairs),
        reference_length=sum(len(ref) for ref, _ in pairs),
    )


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    return word_errors(references, hypotheses).rate


def character_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    return character_errors(references, hypotheses).rate


__all__ = [
    "ErrorRate",
    "character_error_rate",
    "character_errors",
    "edit_distance",
    "normalize_transcript",
    "word_error_rate",
    "word_errors",
]
