"""RTTM (NIST's Rich Transcription Time Marked): one `SPEAKER` line per speaker turn.

    SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>

Times in seconds with millisecond precision, as md-eval and pyannote read them. The file id is
the recording's name without folders or extension, spaces replaced (RTTM fields split on spaces).
A transcript without speaker turns gives an empty file, which RTTM readers accept.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import TextIO

import attrs

from qasr.domain import SpeakerSpan, Transcript


def recording_id(name: str) -> str:
    stem = PurePath(name).stem if name else ""
    return "_".join(stem.split()) or "audio"


def format_rttm(turns: Iterable[SpeakerSpan], name: str) -> str:
    file_id = recording_id(name)
    lines = [
        f"SPEAKER {file_id} 1 {turn.start:.3f} {turn.end - turn.start:.3f} <NA> <NA> "
        f"{'_'.join(turn.speaker.split()) or 'SPEAKER'} <NA> <NA>\n"
        for turn in turns
    ]
    return "".join(lines)


def parse_rttm(text: str) -> list[SpeakerSpan]:
    """The SPEAKER lines of an RTTM file as turns (other line types are skipped)."""
    turns = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append(SpeakerSpan(speaker=fields[7], start=start, end=start + duration))
    return turns


def write_rttm(turns: Iterable[SpeakerSpan], name: str, out: TextIO) -> None:
    out.write(format_rttm(turns, name))


@attrs.frozen
class RttmWriter:
    """A `Writer` of a transcript's speaker turns; `name` is the recording id to write."""

    name: str = "audio"

    format_name = "rttm"
    extension = ".rttm"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        out.write(format_rttm(transcript.speakers, self.name))


__all__ = ["RttmWriter", "format_rttm", "parse_rttm", "recording_id", "write_rttm"]
