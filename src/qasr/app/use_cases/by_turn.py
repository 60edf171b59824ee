"""Speakers without word times: transcribe each speaker turn on its own.

With a diarizer and no forced aligner, words cannot be timed, so a word cannot be given to the
turn it falls in. Transcribing each turn's audio as its own piece gives every turn its text, and
subtitles one cue per turn, timed by the diarizer: coarser than word times, and what works with
no aligner at hand (the demo model, offline).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from qasr.app.use_cases.merging import join_chunk_texts
from qasr.domain import AudioClip, ChunkRecord, SpeakerSpan
from qasr.domain.chunking import ChunkSpan, plan_chunks

# One speaker's turns this close are one stretch of speech (a pause for breath, a word the
# speech detector missed), and a turn's edges are widened this far into the silence around it,
# so that no word is cut at its onset or its tail.
JOIN_GAP = 1.0
MARGIN = 0.25


def speech_turns(turns: Sequence[SpeakerSpan], duration: float) -> tuple[SpeakerSpan, ...]:
    """The turns to transcribe: consecutive turns of one speaker at most JOIN_GAP apart joined,
    each widened by up to MARGIN into the silence around it (never past the middle of the
    silence it shares with a neighbour, nor the clip's ends)."""
    joined: list[SpeakerSpan] = []
    for turn in sorted(turns, key=lambda turn: turn.start):
        last = joined[-1] if joined else None
        if last is not None and last.speaker == turn.speaker and turn.start - last.end <= JOIN_GAP:
            joined[-1] = attrs.evolve(last, end=max(last.end, turn.end))
        else:
            joined.append(turn)
    widened = []
    for i, turn in enumerate(joined):
        # Up to MARGIN, and at most halfway into the silence shared with a neighbour.
        before = (joined[i - 1].end + turn.start) / 2 if i else 0.0
        after = (turn.end + joined[i + 1].start) / 2 if i + 1 < len(joined) else duration
        start = min(turn.start, max(turn.start - MARGIN, before, 0.0))
        end = max(turn.end, min(turn.end + MARGIN, after, duration))
        widened.append(attrs.evolve(turn, start=start, end=end))
    return tuple(widened)


def turn_spans(
    clip: AudioClip, turns: Sequence[SpeakerSpan], max_chunk_seconds: float
) -> tuple[list[ChunkSpan], list[int]]:
    """The pieces to transcribe for speaker turns: each turn's samples (where turns overlap, a
    turn starts where the one before ends, so no speech is transcribed twice), cut like a
    recording where a turn is longer than a chunk; and the turn each piece belongs to."""
    rate, total = clip.sample_rate, len(clip.samples)
    spans: list[ChunkSpan] = []
    owner: list[int] = []
    reached = 0
    for index, turn in enumerate(turns):
        start = max(min(round(turn.start * rate), total), reached)
        end = min(round(turn.end * rate), total)
        if end <= start:
            continue
        reached = end
        for piece in plan_chunks(clip.samples[start:end], rate, max_chunk_seconds):
            spans.append(ChunkSpan(start + piece.start, start + piece.end))
            owner.append(index)
    return spans, owner


def turn_texts(
    turns: Sequence[SpeakerSpan], owner: Sequence[int], records: Sequence[ChunkRecord]
) -> tuple[SpeakerSpan, ...]:
    """Each turn with the text of its pieces (`owner[i]`: the turn of `records[i]`)."""
    return tuple(
        attrs.evolve(
            turn, text=join_chunk_texts([r for r, k in zip(records, owner, strict=True) if k == i])
        )
        for i, turn in enumerate(turns)
    )


__all__ = ["JOIN_GAP", "MARGIN", "speech_turns", "turn_spans", "turn_texts"]
