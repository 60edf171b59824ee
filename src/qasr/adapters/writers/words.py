"""Turn a transcript's word segments into words as a reader should see them.

The official forced aligner times *cleaned* words: it keeps only letters, digits and apostrophes
(`Qwen3ForceAlignProcessor.clean_token`), so "Hello, world." is timed as "Hello" and "world".
Subtitles need the punctuation back, both to read well and to end cues at sentence ends. The
transcript text still has it: each word is found again in the text, in order, and the characters
between two words are shared out (trailing punctuation to the word before, opening quotes and
brackets to the word after). If any word cannot be found, the segments are used as they are.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence

from qasr.adapters.writers.cues import Word, needs_space
from qasr.domain import Transcript
from qasr.domain.speakers import speakers_of
from qasr.errors import OutputFormatError


def _is_kept(char: str) -> bool:
    # The aligner's own rule for what belongs to a word.
    return char == "'" or unicodedata.category(char)[0] in "LN"


def _opens(char: str) -> bool:
    return unicodedata.category(char) in ("Ps", "Pi")


def _find(text: str, core: str, position: int) -> tuple[int, int] | None:
    """Where `core` (kept characters only) occurs next in `text`, allowing punctuation inside it
    ("e-mail" for "email") but nothing kept in front of it and no whitespace within it."""
    while position < len(text) and not _is_kept(text[position]):
        position += 1
    start = index = position
    for char in core:
        while index < len(text) and text[index] != char:
            if text[index].isspace() or _is_kept(text[index]):
                return None
            index += 1
        if index == len(text):
            return None
        index += 1
    return start, index


def _share_gap(gap: str) -> tuple[str, str, bool]:
    """Split the text between two words into (suffix of the one before, prefix of the one after,
    whether a space separates them)."""
    if not any(char.isspace() for char in gap):
        cut = next((i for i, char in enumerate(gap) if _opens(char)), len(gap))
        return gap[:cut], gap[cut:], False
    first = next(i for i, char in enumerate(gap) if char.isspace())
    last = max(i for i, char in enumerate(gap) if char.isspace())
    middle = " ".join(gap[first : last + 1].split())
    suffix = gap[:first] + (" " + middle if middle else "")
    return suffix, gap[last + 1 :], True


def restore_punctuation(text: str, words: Sequence[str]) -> list[tuple[str, bool]] | None:
    """Each word with the punctuation around it in `text`, and whether a space comes before it.

    None when the words cannot all be found in `text`, in order.
    """
    spans: list[tuple[int, int]] = []
    position = 0
    for word in words:
        core = "".join(char for char in word if _is_kept(char))
        found = _find(text, core, position) if core else None
        if found is None:
            return None
        spans.append(found)
        position = found[1]
    if not spans:
        return []
    prefixes = [text[: spans[0][0]].strip()]
    suffixes: list[str] = []
    spaces = [True]
    for (_, before_end), (after_start, _) in itertools.pairwise(spans):
        suffix, prefix, space = _share_gap(text[before_end:after_start])
        suffixes.append(suffix)
        prefixes.append(prefix)
        spaces.append(space)
    suffixes.append(" ".join(text[spans[-1][1] :].split()))
    return [
        (prefix + text[start:end] + suffix, space)
        for prefix, (start, end), suffix, space in zip(
            prefixes, spans, suffixes, spaces, strict=True
        )
    ]


def timed_by_turn(transcript: Transcript) -> bool:
    """Whether the transcript's only times are its speaker turns' (diarized with no aligner:
    each turn was transcribed on its own; qasr.app.use_cases.by_turn)."""
    return not transcript.segments and any(turn.text.strip() for turn in transcript.speakers)


def transcript_words(transcript: Transcript) -> list[Word]:
    """The transcript's timed words with punctuation restored and speakers attached; for a
    transcript timed by turn, each turn's text is one "word" spanning the turn."""
    if timed_by_turn(transcript):
        return [
            Word(turn.text.strip(), turn.start, turn.end, turn.speaker, True)
            for turn in transcript.speakers
            if turn.text.strip()
        ]
    segments = [segment for segment in transcript.segments if segment.text.strip()]
    speakers = speakers_of(segments, transcript.speakers)
    restored = restore_punctuation(transcript.text, [segment.text for segment in segments])
    if restored is None:
        texts = [segment.text.strip() for segment in segments]
        spaces = [True] + [needs_space(a, b) for a, b in itertools.pairwise(texts)]
        restored = list(zip(texts, spaces, strict=True))
    return [
        Word(text, segment.start, segment.end, speaker, space)
        for (text, space), segment, speaker in zip(restored, segments, speakers, strict=True)
    ]


def require_timestamps(transcript: Transcript, format_name: str) -> None:
    """Refuse, before anything is written, a transcript that has no word times (one with no
    text has no words to time: its subtitles are empty, not refused)."""
    if not (transcript.has_timestamps or timed_by_turn(transcript)) and transcript.text.strip():
        raise OutputFormatError(
            f"{format_name} output needs word timestamps; run with --timestamps "
            "(timestamps=True in Python) so the forced aligner times each word"
        )
