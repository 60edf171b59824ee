"""Speakers in every output: RTTM, WebVTT voice tags, the TSV speaker column, JSON's
`speaker_segments`; and nothing changes for a transcript without speakers."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given

from qasr.adapters.writers import get_writer, render
from qasr.adapters.writers.rttm import RttmWriter, format_rttm, parse_rttm, recording_id
from qasr.adapters.writers.subtitles import parse_vtt
from qasr.domain import Segment, SpeakerSpan, Transcript
from qasr.errors import OutputFormatError
from qasr.testing.strategies import speaker_spans


def diarized() -> Transcript:
    words = [("Hello", 0.0, 0.4), ("there.", 0.5, 0.9), ("Hi", 1.5, 1.8), ("back.", 1.9, 2.3)]
    return Transcript(
        text="Hello there. Hi back.",
        segments=tuple(Segment(text, start, end) for text, start, end in words),
        speakers=(
            SpeakerSpan("SPEAKER_00", 0.0, 1.0, "Hello there."),
            SpeakerSpan("SPEAKER_01", 1.4, 2.4, "Hi back."),
        ),
        duration=3.0,
    )


def test_rttm_lines_by_hand() -> None:
    turns = [SpeakerSpan("SPEAKER_00", 0.5, 2.25), SpeakerSpan("SPEAKER_01", 2.0, 3.0)]
    assert format_rttm(turns, "/data/my meeting.wav") == (
        "SPEAKER my_meeting 1 0.500 1.750 <NA> <NA> SPEAKER_00 <NA> <NA>\n"
        "SPEAKER my_meeting 1 2.000 1.000 <NA> <NA> SPEAKER_01 <NA> <NA>\n"
    )
    assert recording_id("") == "audio"


@given(speaker_spans(max_size=6, speakers=3, with_text=False))
def test_rttm_round_trips_to_the_millisecond(turns) -> None:
    back = parse_rttm(format_rttm(turns, "x.wav"))
    assert [t.speaker for t in back] == [t.speaker for t in turns]
    assert all(abs(a.start - b.start) <= 5e-4 for a, b in zip(back, turns, strict=True))
    assert all(abs(a.end - b.end) <= 1e-3 for a, b in zip(back, turns, strict=True))


def test_the_rttm_writer_writes_the_transcripts_turns() -> None:
    out = io.StringIO()
    RttmWriter("meeting").write(diarized(), out)
    assert [t.speaker for t in parse_rttm(out.getvalue())] == ["SPEAKER_00", "SPEAKER_01"]
    empty = io.StringIO()
    RttmWriter().write(Transcript(text="x"), empty)
    assert empty.getvalue() == ""


def test_vtt_cues_carry_voice_tags_and_srt_keeps_its_labels() -> None:
    vtt = render(get_writer("vtt"), diarized())
    assert "<v SPEAKER_00>Hello there." in vtt and "<v SPEAKER_01>Hi back." in vtt
    assert "[SPEAKER_00]" not in vtt
    assert [cue.text for cue in parse_vtt(vtt)] == ["Hello there.", "Hi back."]
    srt = render(get_writer("srt"), diarized())
    assert "[SPEAKER_00] Hello there." in srt and "[SPEAKER_01] Hi back." in srt


def test_tsv_gets_a_speaker_column_only_when_diarized() -> None:
    rows = render(get_writer("tsv"), diarized()).splitlines()
    assert rows == [
        "start\tend\tspeaker\ttext",
        "0\t900\tSPEAKER_00\tHello there.",
        "1500\t2300\tSPEAKER_01\tHi back.",
    ]
    plain = Transcript(text="Hello", segments=(Segment("Hello", 0.0, 0.4),), duration=1.0)
    assert render(get_writer("tsv"), plain).splitlines() == ["start\tend\ttext", "0\t400\tHello"]


def test_json_carries_speaker_segments_and_still_reads_back() -> None:
    from qasr.adapters.serialization import loads

    text = render(get_writer("json"), diarized())
    data = json.loads(text)
    assert data["speaker_segments"] == data["speakers"]
    assert data["speaker_segments"][1] == {
        "speaker": "SPEAKER_01",
        "start": 1.4,
        "end": 2.4,
        "text": "Hi back.",
    }
    assert loads(text) == diarized()
    assert "speaker_segments" not in json.loads(render(get_writer("json"), Transcript(text="x")))


def timed_by_turn() -> Transcript:
    """Diarized with no aligner: each turn transcribed on its own, no word times."""
    return Transcript(
        text="Hello there. Hi back.",
        speakers=(
            SpeakerSpan("SPEAKER_00", 0.0, 1.0, "Hello there."),
            SpeakerSpan("SPEAKER_01", 1.4, 2.4, "Hi back."),
            SpeakerSpan("SPEAKER_00", 2.5, 2.9, ""),  # a turn heard as silence: no cue
        ),
        duration=3.0,
    )


def test_a_transcript_timed_by_turn_gets_one_cue_per_spoken_turn() -> None:
    transcript = timed_by_turn()
    srt = render(get_writer("srt"), transcript)
    assert srt == (
        "1\n00:00:00,000 --> 00:00:01,000\n[SPEAKER_00] Hello there.\n\n"
        "2\n00:00:01,400 --> 00:00:02,400\n[SPEAKER_01] Hi back.\n"
    )
    cues = parse_vtt(render(get_writer("vtt"), transcript))
    assert [(c.start, c.end) for c in cues] == [(0.0, 1.0), (1.4, 2.4)]
    assert "<v SPEAKER_01>Hi back." in render(get_writer("vtt"), transcript)
    rows = render(get_writer("tsv"), transcript).splitlines()
    assert rows[1:] == ["0\t1000\tSPEAKER_00\tHello there.", "1400\t2400\tSPEAKER_01\tHi back."]


def test_a_transcript_with_neither_word_nor_turn_times_is_still_refused() -> None:
    untimed = Transcript(text="Hello there.", duration=1.0)
    with pytest.raises(OutputFormatError, match="timestamps"):
        render(get_writer("srt"), untimed)
