"""Group timed words into readable subtitle cues.

A cue is what a viewer reads at once: at most `max_lines` lines of `max_line_width` columns,
shown for at most `max_duration` seconds, never bridging a pause longer than `max_gap`, never
mixing two speakers. Inside those limits a cue prefers to end after a sentence, or after a clause
once it is getting long, so lines follow the speech rather than the column count.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from qasr.errors import InvalidInputError

SENTENCE_END = frozenset(".!?…。！？｡")
CLAUSE_END = frozenset(",;:，、；：—")
# Closing quotes and brackets may follow the punctuation that ends a sentence: `"Stop!"`.
_CLOSERS = frozenset("\"')]}»”’」』）】〉》")

# Below a third of a line a sentence end is more likely an abbreviation ("Mr.") or a one-word
# reply that reads better with what follows; a clause break pays off once a cue is half full.
_SENTENCE_BREAK_FILL = 1 / 3
_CLAUSE_BREAK_FILL = 1 / 2


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not value > 0:
        raise InvalidInputError(f"CueLimits.{attribute.name} must be positive, got {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value >= 0:
        raise InvalidInputError(f"CueLimits.{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class CueLimits:
    """How much one subtitle cue may hold. Widths are display columns (CJK characters count 2)."""

    max_line_width: int = attrs.field(default=42, validator=_positive)
    max_lines: int = attrs.field(default=2, validator=_positive)
    max_duration: float = attrs.field(default=7.0, converter=float, validator=_positive)
    max_gap: float = attrs.field(default=1.0, converter=float, validator=_not_negative)
    max_words: int | None = attrs.field(default=20, validator=_positive)  # None: no limit


@attrs.frozen
class Word:
    """A word as shown: punctuation attached, its speaker, and whether a space precedes it."""

    text: str
    start: float = attrs.field(converter=float, validator=attrs.validators.ge(0.0))
    end: float = attrs.field(converter=float)
    speaker: str | None = None
    space_before: bool = True

    @end.validator
    def _end_not_before_start(self, attribute: attrs.Attribute[float], value: float) -> None:
        if value < self.start:
            raise ValueError(f"word end ({value}) is before its start ({self.start})")


@attrs.frozen
class Cue:
    """One subtitle: `text` holds its lines separated by "\\n"."""

    start: float = attrs.field(converter=float, validator=attrs.validators.ge(0.0))
    end: float = attrs.field(converter=float)
    text: str

    @end.validator
    def _end_not_before_start(self, attribute: attrs.Attribute[float], value: float) -> None:
        if value < self.start:
            raise ValueError(f"cue end ({value}) is before its start ({self.start})")


@functools.lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns `text` takes on screen: wide and fullwidth characters count double."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(map(char_width, text))


def is_spaceless_char(char: str) -> bool:
    """Han, kana and CJK punctuation: written without spaces between words.

    Hangul is wide but Korean separates words with spaces, so it is not spaceless.
    """
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFF0F  # fullwidth punctuation
        or 0xFF1A <= code <= 0xFF20
        or 0xFF61 <= code <= 0xFF9F  # halfwidth katakana
        or 0x20000 <= code <= 0x2FA1F
    )


def needs_space(before: str, after: str) -> bool:
    """Whether a space separates two words when the original spacing is unknown."""
    if not before or not after:
        return False
    return not (is_spaceless_char(before[-1]) and is_spaceless_char(after[0]))


def join_words(words: Iterable[Word]) -> str:
    """The words as one line, spaced as `space_before` says (the first word's flag is ignored)."""
    parts: list[str] = []
    for word in words:
        if parts and word.space_before:
            parts.append(" ")
        parts.append(word.text)
    return "".join(parts)


def speaker_prefix(speaker: str | None) -> str:
    return f"[{speaker}]" if speaker else ""


def _tokens(words: Sequence[Word]) -> list[Word]:
    """The words of a cue with its speaker label in front, as a token layout can break after."""
    prefix = speaker_prefix(words[0].speaker) if words else ""
    if not prefix:
        return list(words)
    label = Word(prefix, words[0].start, words[0].start)
    return [label, attrs.evolve(words[0], space_before=True), *words[1:]]


def _greedy_lines(tokens: Sequence[Word], width: int) -> list[list[Word]]:
    lines: list[list[Word]] = []
    line_width = 0
    for token in tokens:
        token_width = display_width(token.text)
        joined = line_width + (1 if token.space_before else 0) + token_width
        if lines and joined <= width:
            lines[-1].append(token)
            line_width = joined
        else:
            lines.append([token])
            line_width = token_width
    return lines


def _fits(words: Sequence[Word], limits: CueLimits) -> bool:
    lines = _greedy_lines(_tokens(words), limits.max_line_width)
    return len(lines) <= limits.max_lines and all(
        display_width(join_words(line)) <= limits.max_line_width for line in lines
    )


def layout_lines(words: Sequence[Word], limits: CueLimits) -> list[str]:
    """Lines of a cue, as few as fit and then as even as possible (no long line over a stub)."""
    tokens = _tokens(words)
    if not tokens:
        return []
    count = len(_greedy_lines(tokens, limits.max_line_width))
    total = display_width(join_words(tokens))
    widest = max(display_width(token.text) for token in tokens)
    for width in range(max(widest, math.ceil(total / count)), limits.max_line_width + 1):
        lines = _greedy_lines(tokens, width)
        if len(lines) <= count:
            return [join_words(line) for line in lines]
    return [join_words(line) for line in _greedy_lines(tokens, limits.max_line_width)]


def _bare(text: str) -> str:
    return text.rstrip("".join(_CLOSERS))


def ends_sentence(word: Word) -> bool:
    bare = _bare(word.text)
    return bool(bare) and bare[-1] in SENTENCE_END


def ends_clause(word: Word) -> bool:
    bare = _bare(word.text)
    return bool(bare) and bare[-1] in CLAUSE_END


def _duration(words: Sequence[Word]) -> float:
    return max(word.end for word in words) - words[0].start


def _fill(words: Sequence[Word], limits: CueLimits) -> float:
    """How full a cue is, as the largest fraction of any of its limits."""
    capacity = limits.max_lines * limits.max_line_width
    fractions = [
        display_width(join_words(_tokens(words))) / capacity,
        _duration(words) / limits.max_duration,
    ]
    if limits.max_words is not None:
        fractions.append(len(words) / limits.max_words)
    return max(fractions)


def _is_boundary(current: Sequence[Word], word: Word, limits: CueLimits) -> bool:
    """A pause or a change of speaker: the cue ends here whatever its fill."""
    return word.speaker != current[-1].speaker or word.start - current[-1].end > limits.max_gap


def _is_full(current: Sequence[Word], word: Word, limits: CueLimits) -> bool:
    candidate = [*current, word]
    if limits.max_words is not None and len(candidate) > limits.max_words:
        return True
    return _duration(candidate) > limits.max_duration or not _fits(candidate, limits)


def _should_end_after(current: Sequence[Word], limits: CueLimits) -> bool:
    last = current[-1]
    if ends_sentence(last):
        width = display_width(join_words(current))
        return width >= _SENTENCE_BREAK_FILL * limits.max_line_width
    return ends_clause(last) and _fill(current, limits) >= _CLAUSE_BREAK_FILL


def _split_at_punctuation(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """Split a full cue after its last punctuation in the second half, if it has one."""
    for index in range(len(words) - 2, -1, -1):
        if 2 * (index + 1) < len(words):
            break
        if ends_sentence(words[index]) or ends_clause(words[index]):
            return words[: index + 1], words[index + 1 :]
    return words, []


def group_words(words: Iterable[Word], limits: CueLimits | None = None) -> list[tuple[Word, ...]]:
    """Split words (in time order) into cues. Every word lands in exactly one cue, in order.

    A word too wide for a line, or longer than `max_duration`, gets a cue of its own.
    """
    limits = limits or CueLimits()
    groups: list[tuple[Word, ...]] = []
    current: list[Word] = []
    for word in words:
        if current and _is_boundary(current, word, limits):
            groups.append(tuple(current))
            current = []
        elif current and _is_full(current, word, limits):
            kept, current = _split_at_punctuation(current)
            groups.append(tuple(kept))
            if current and _is_full(current, word, limits):
                groups.append(tuple(current))
                current = []
        current.append(word)
        if _should_end_after(current, limits):
            groups.append(tuple(current))
            current = []
    if current:
        groups.append(tuple(current))
    return groups


def cue_from_words(words: Sequence[Word], limits: CueLimits | None = None) -> Cue:
    if not words:
        raise ValueError("a cue needs at least one word")
    lines = layout_lines(words, limits or CueLimits())
    return Cue(words[0].start, max(word.end for word in words), "\n".join(lines))


def make_cues(words: Iterable[Word], limits: CueLimits | None = None) -> list[Cue]:
    limits = limits or CueLimits()
    return [cue_from_words(group, limits) for group in group_words(words, limits)]
