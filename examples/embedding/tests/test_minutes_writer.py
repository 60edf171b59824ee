"""MinutesWriter on any transcript qasr can produce (qasr.testing.strategies)."""

from __future__ import annotations

import io

from hypothesis import given
from qasr.domain import SpeakerSpan, Transcript
from qasr.testing import strategies as qs

from minutes import MinutesWriter
from minutes.writer import clock, one_line


def minutes_of(transcript: Transcript) -> str:
    out = io.StringIO()
    MinutesWriter(title="Weekly").write(transcript, out)
    return out.getvalue()


@given(qs.transcripts())
def test_every_turn_with_words_is_a_paragraph_in_order(transcript: Transcript) -> None:
    lines = minutes_of(transcript).splitlines()
    said = [turn for turn in transcript.speakers if one_line(turn.text)]
    expected = [f"**{t.speaker}** [{clock(t.start)}]: {one_line(t.text)}" for t in said]
    assert lines[0] == "# Weekly"
    assert [line for line in lines if line.startswith("**")][: len(expected)] == expected


@given(qs.transcripts())
def test_without_words_in_any_turn_the_whole_text_is_written(transcript: Transcript) -> None:
    silent_turns = [SpeakerSpan(turn.speaker, turn.start, turn.end) for turn in transcript.speakers]
    text = minutes_of(Transcript(transcript.text, speakers=silent_turns))
    assert (one_line(transcript.text) or "(nothing was said)") in text.splitlines()
    for speaker in {turn.speaker for turn in silent_turns}:
        assert speaker in text


def test_clock_reads_like_minutes() -> None:
    assert [clock(s) for s in (0, 59.99, 61, 3600, 3725.5)] == [
        "00:00", "00:59", "01:01", "1:00:00", "1:02:05",
    ]  # fmt: skip
