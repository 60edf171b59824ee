"""SubRip (.srt) and WebVTT (.vtt): writing cues, reading them back, and the two writers.

Times are rounded to the millisecond once, half up on the decimal value a person would read
(59.9995 s is 00:01:00.000, though the float is a hair below). Rounding is monotone, so a cue
that ends after it starts still does when written. Hours take as many digits as they need.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar, TextIO

import attrs

from qasr.adapters.writers.cues import Cue, CueLimits, Word, cue_from_words, group_words
from qasr.adapters.writers.words import require_timestamps, transcript_words
from qasr.domain import Transcript
from qasr.errors import SubtitleParseError


def to_milliseconds(seconds: float) -> int:
    """Nearest whole millisecond, halves rounded up, on the shortest decimal form of `seconds`."""
    if seconds < 0:
        raise ValueError(f"a timestamp cannot be negative, got {seconds!r}")
    exact = Decimal(repr(float(seconds))) * 1000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_timestamp(seconds: float, decimal_marker: str = ",") -> str:
    """`HH:MM:SS,mmm` (SRT) or, with `decimal_marker="."`, `HH:MM:SS.mmm` (WebVTT)."""
    milliseconds = to_milliseconds(seconds)
    hours, milliseconds = divmod(milliseconds, 3_600_000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    whole_seconds, milliseconds = divmod(milliseconds, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole_seconds:02d}{decimal_marker}{milliseconds:03d}"


def _vtt_escape(text: str) -> str:
    # "&" and "<" start entities and tags in WebVTT cue text; escaping ">" also keeps "-->" out.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_srt(cues: Iterable[Cue]) -> str:
    blocks = [
        f"{number}\n{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}\n{cue.text}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def format_vtt(cues: Iterable[Cue], speakers: Sequence[str | None] | None = None) -> str:
    """WebVTT; with `speakers` (one per cue), a cue's text opens with its voice tag
    (`<v SPEAKER_00>`), the WebVTT way of saying who speaks, instead of a bracketed label."""
    cues = list(cues)
    voices = list(speakers) if speakers is not None else [None] * len(cues)
    blocks = [
        f"{format_timestamp(cue.start, '.')} --> {format_timestamp(cue.end, '.')}\n"
        f"{f'<v {_vtt_escape(voice)}>' if voice else ''}{_vtt_escape(cue.text)}\n"
        for cue, voice in zip(cues, voices, strict=True)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


_SRT_TIME = r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_VTT_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})\.(\d{1,3})"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}")
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}\s*-->\s*{_VTT_TIME}(?:\s|$)")
_VTT_TAG = re.compile(r"<[^>]*>")


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    milliseconds = int(fraction.ljust(3, "0"))
    total = ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + milliseconds
    return total / 1000


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks with the line number each starts on; CRLF, CR and BOM allowed."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                blocks.append((number, current))
            current.append(line.rstrip())
        else:
            current = []
    return blocks


def _cue(timing: re.Match[str], text_lines: list[str], line: int) -> Cue:
    start = _seconds(*timing.groups()[:4])
    end = _seconds(*timing.groups()[4:])
    if end < start:
        raise SubtitleParseError(f"line {line}: the cue ends before it starts")
    return Cue(start, end, "\n".join(text_lines))


def parse_srt(text: str) -> list[Cue]:
    """Read SubRip cues. Sequence numbers are optional; `.` is accepted for `,`."""
    cues: list[Cue] = []
    for line, block in _blocks(text):
        timing_at = next((i for i, row in enumerate(block) if "-->" in row), None)
        timing = _SRT_TIMING.match(block[timing_at]) if timing_at is not None else None
        if timing is None or timing_at not in (0, 1):
            raise SubtitleParseError(
                f"line {line}: expected a SubRip cue ('1' then 'HH:MM:SS,mmm --> HH:MM:SS,mmm'), "
                f"got {block[0]!r}"
            )
        cues.append(_cue(timing, block[timing_at + 1 :], line + timing_at))
    return cues


def parse_vtt(text: str) -> list[Cue]:
    """Read WebVTT cues; NOTE, STYLE and REGION blocks, cue ids, settings and tags are dropped."""
    blocks = _blocks(text)
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        raise SubtitleParseError("not a WebVTT file: the first line must be 'WEBVTT'")
    cues: list[Cue] = []
    for line, block in blocks[1:]:
        if block[0].split(" ")[0] in ("NOTE", "STYLE", "REGION") and "-->" not in block[0]:
            continue
        timing_at = next((i for i, row in enumerate(block) if "-->" in row), None)
        timing = _VTT_TIMING.match(block[timing_at]) if timing_at is not None else None
        if timing is None or timing_at not in (0, 1):
            raise SubtitleParseError(
                f"line {line}: expected a WebVTT cue ('HH:MM:SS.mmm --> HH:MM:SS.mmm'), "
                f"got {block[0]!r}"
            )
        text_lines = [html.unescape(_VTT_TAG.sub("", row)) for row in block[timing_at + 1 :]]
        cues.append(_cue(timing, text_lines, line + timing_at))
    return cues


@attrs.frozen
class _CueWriter:
    """A subtitle format: the transcript's phrases as timed cues, in the subclass's `render`."""

    limits: CueLimits = attrs.field(factory=CueLimits)

    format_name: ClassVar[str]
    extension: ClassVar[str]
    display_name: ClassVar[str]  # how an error names the format ("SRT")

    def render(self, groups: list[tuple[Word, ...]]) -> str:
        """The file for the transcript's words grouped into cues (each group one cue)."""
        raise NotImplementedError

    def write(self, transcript: Transcript, out: TextIO) -> None:
        require_timestamps(transcript, self.display_name)
        # Render fully first: a failure must leave `out` untouched.
        out.write(self.render(group_words(transcript_words(transcript), self.limits)))


@attrs.frozen
class SrtWriter(_CueWriter):
    format_name = "srt"
    extension = ".srt"
    display_name = "SRT"

    def render(self, groups: list[tuple[Word, ...]]) -> str:
        return format_srt(cue_from_words(group, self.limits) for group in groups)


@attrs.frozen
class VttWriter(_CueWriter):
    format_name = "vtt"
    extension = ".vtt"
    display_name = "WebVTT"

    def render(self, groups: list[tuple[Word, ...]]) -> str:
        # Cues still break where the speaker changes; the label moves into a voice tag.
        cues = [
            cue_from_words([attrs.evolve(word, speaker=None) for word in group], self.limits)
            for group in groups
        ]
        return format_vtt(cues, [group[0].speaker for group in groups])
