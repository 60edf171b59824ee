"""Plain text: the transcript as one paragraph, or one line per speaker turn when diarized."""

from __future__ import annotations

from typing import TextIO

import attrs

from qasr.adapters.writers.cues import speaker_prefix
from qasr.domain import Transcript


def plain_text(transcript: Transcript) -> str:
    turns = [turn for turn in transcript.speakers if turn.text.strip()]
    if not turns:
        return transcript.text.strip() + "\n"
    return "".join(f"{speaker_prefix(turn.speaker)} {turn.text.strip()}\n" for turn in turns)


@attrs.frozen
class TextWriter:
    format_name = "txt"
    extension = ".txt"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        out.write(plain_text(transcript))
