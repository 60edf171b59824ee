"""How per-chunk results become one transcript: text joins, language vote, speaker words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import attrs

from qasr.domain import ChunkRecord, FinishReason, Language, Segment, SpeakerSpan
from qasr.domain.speakers import speaker_turns

# A chunk that ran out of tokens matters more than one whose repetition loop was trimmed.
_SEVERITY = {FinishReason.STOP: 0, FinishReason.REPETITION: 1, FinishReason.LENGTH: 2}


def _spaceless(language: Language | None) -> bool:
    return language is not None and language.is_spaceless


def join_chunk_texts(chunks: Sequence[ChunkRecord]) -> str:
    """Concatenate chunk texts: no separator next to a spaceless language, one space otherwise.

    The official `qwen_asr` joins chunks with "" whatever the language, which glues the last
    English word of a chunk to the first of the next; here only CJK/Thai text joins that way.
    """
    text = ""
    previous: Language | None = None
    for chunk in chunks:
        piece = chunk.text.strip()
        if not piece:
            continue
        if text and not (_spaceless(previous) or _spaceless(chunk.language)):
            text += " "
        text += piece
        previous = chunk.language
    return text


def vote_language(languages: Sequence[Language | None]) -> Language | None:
    """The most common detected language; ties go to the one heard first, silence has no vote."""
    counts = Counter(language for language in languages if language is not None)
    if not counts:
        return None
    return counts.most_common(1)[0][0]


def worst_finish(reasons: Sequence[FinishReason]) -> FinishReason:
    return max(reasons, key=_SEVERITY.__getitem__, default=FinishReason.STOP)


def shift_segments(segments: Sequence[Segment], offset: float) -> tuple[Segment, ...]:
    """Move a chunk's word times (seconds from the chunk start) onto the recording's clock."""
    return tuple(
        attrs.evolve(segment, start=segment.start + offset, end=segment.end + offset)
        for segment in segments
    )


def attribute_words(
    turns: Sequence[SpeakerSpan], words: Sequence[Segment], language: Language | None
) -> tuple[SpeakerSpan, ...]:
    """Fill each turn's `text` with the words spoken in it, in time order (the attribution rule
    of `qasr.domain.speakers`, which the writers use too)."""
    if not turns:
        return ()
    spoken: list[list[str]] = [[] for _ in turns]
    for word, turn in zip(words, speaker_turns(words, turns), strict=True):
        if turn is not None:
            spoken[turn].append(word.text)
    joiner = "" if _spaceless(language) else " "
    return tuple(
        attrs.evolve(turn, text=joiner.join(texts))
        for turn, texts in zip(turns, spoken, strict=True)
    )
