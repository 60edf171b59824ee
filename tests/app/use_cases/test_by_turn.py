"""Speakers without word times: the turns that get transcribed, and the pieces cut for them."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from qasr.app.use_cases.by_turn import JOIN_GAP, MARGIN, speech_turns, turn_spans
from qasr.domain import AudioClip, SpeakerSpan


@st.composite
def diarized(draw: st.DrawFn) -> tuple[list[SpeakerSpan], float]:
    """Turns in order of start, possibly overlapping, within a clip of `duration` seconds."""
    duration = draw(st.floats(1.0, 60.0, allow_subnormal=False))
    turns = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.floats(0.0, duration, allow_subnormal=False))
        end = draw(st.floats(start, duration, allow_subnormal=False))
        turns.append(SpeakerSpan(f"SPEAKER_0{draw(st.integers(0, 2))}", start, end))
    return sorted(turns, key=lambda turn: turn.start), duration


@given(diarized())
def test_turns_to_transcribe_join_one_speaker_and_stay_in_the_clip(
    case: tuple[list[SpeakerSpan], float],
) -> None:
    turns, duration = case
    joined = speech_turns(turns, duration)
    for turn in joined:
        assert 0.0 <= turn.start <= turn.end <= duration
        # Each given turn lies inside a joined turn of its speaker.
    for given_turn in turns:
        assert any(
            t.speaker == given_turn.speaker
            and t.start <= given_turn.start
            and given_turn.end <= t.end
            for t in joined
        )
    for before, after in itertools.pairwise(joined):
        assert before.end <= after.start + 1e-9 or before.end <= max(
            t.end for t in turns if t.start <= after.start
        )  # widening never creates an overlap the diarizer did not give
        if before.speaker == after.speaker:
            # Kept apart: their original edges were more than JOIN_GAP apart.
            assert after.start - before.end > JOIN_GAP - 2 * MARGIN - 1e-9


def test_a_pause_joins_one_speaker_and_margins_widen_into_silence() -> None:
    turns = [
        SpeakerSpan("A", 1.0, 2.0), SpeakerSpan("A", 2.5, 3.0), SpeakerSpan("B", 3.1, 4.0),
    ]  # fmt: skip
    joined = speech_turns(turns, 10.0)
    assert [(t.speaker, t.start, t.end) for t in joined] == [
        ("A", 1.0 - MARGIN, 3.05),  # joined across the 0.5 s pause; the 0.1 s of silence
        ("B", 3.05, 4.0 + MARGIN),  # before B is shared out halfway
    ]


@given(diarized(), st.floats(0.5, 30.0))
def test_pieces_cover_each_turn_once_and_fit_a_chunk(
    case: tuple[list[SpeakerSpan], float], chunk: float
) -> None:
    turns, duration = case
    rate = 16_000
    clip = AudioClip(np.zeros(int(duration * rate), dtype=np.float32), rate)
    spans, owner = turn_spans(clip, turns, chunk)
    assert len(spans) == len(owner)
    assert sorted(owner) == owner  # pieces come turn by turn
    for span, index in zip(spans, owner, strict=True):
        turn = turns[index]
        assert span.start >= round(turn.start * rate)  # pieces stay inside their turn
        assert span.end <= round(turn.end * rate)
        assert span.num_samples <= round(chunk * rate) + 1
    for before, after in itertools.pairwise(spans):
        assert before.end <= after.start  # no audio transcribed twice
