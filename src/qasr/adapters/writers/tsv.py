"""Tab-separated phrases, as Whisper writes them: `start`, `end` in integer milliseconds, `text`;
a diarized transcript gets a `speaker` column before `text`.

Rows are the subtitle cues on one line each, so a spreadsheet shows the same phrases a viewer
sees. Tabs and line breaks inside text become spaces to keep one row per phrase.
"""

from __future__ import annotations

from typing import TextIO

import attrs

from qasr.adapters.writers.cues import CueLimits, group_words, join_words
from qasr.adapters.writers.subtitles import to_milliseconds
from qasr.adapters.writers.words import require_timestamps, transcript_words
from qasr.domain import Transcript

HEADER = "start\tend\ttext"
SPEAKER_HEADER = "start\tend\tspeaker\ttext"


def _one_line(text: str) -> str:
    return " ".join(text.split())


@attrs.frozen
class TsvWriter:
    limits: CueLimits = attrs.field(factory=CueLimits)

    format_name = "tsv"
    extension = ".tsv"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        require_timestamps(transcript, "TSV")
        diarized = bool(transcript.speakers)
        rows = [SPEAKER_HEADER if diarized else HEADER]
        for words in group_words(transcript_words(transcript), self.limits):
            text = _one_line(join_words(words))
            start = to_milliseconds(words[0].start)
            end = to_milliseconds(max(word.end for word in words))
            speaker = f"{_one_line(words[0].speaker or '')}\t" if diarized else ""
            rows.append(f"{start}\t{end}\t{speaker}{text}")
        out.write("\n".join(rows) + "\n")
