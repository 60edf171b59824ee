"""Meeting minutes in Markdown: who said what, and when."""

from __future__ import annotations

from typing import TextIO

import attrs
from qasr.domain import Transcript


def clock(seconds: float) -> str:
    """[hh:]mm:ss, rounded down: where a turn starts, as minutes quote it."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def one_line(text: str) -> str:
    return " ".join(text.split())


def render_minutes(transcript: Transcript, title: str) -> str:
    lines = [f"# {one_line(title)}", ""]
    facts = [transcript.language.name if transcript.language else "language unknown"]
    if transcript.duration is not None:
        facts.insert(0, clock(transcript.duration))
    lines += [", ".join(facts), ""]
    said = [turn for turn in transcript.speakers if one_line(turn.text)]
    if said:
        lines += [
            f"**{turn.speaker}** [{clock(turn.start)}]: {one_line(turn.text)}" for turn in said
        ]
    else:
        lines.append(one_line(transcript.text) or "(nothing was said)")
        speakers = sorted({turn.speaker for turn in transcript.speakers})
        if speakers:
            lines += ["", "Speakers: " + ", ".join(speakers)]
    return "\n".join(lines) + "\n"


@attrs.frozen
class MinutesWriter:
    """A `qasr.ports.Writer`: a heading, the length and language, then one paragraph per
    speaker turn that has words (or the whole text when no turn has any)."""

    title: str = "Minutes"

    @property
    def format_name(self) -> str:
        return "minutes"

    @property
    def extension(self) -> str:
        return ".md"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        out.write(render_minutes(transcript, self.title))  # one write: never a partial file
