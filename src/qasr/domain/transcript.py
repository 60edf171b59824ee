"""What recognition produces: text, word times, chunk records and speaker turns."""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from qasr.domain.languages import Language, find_language


def _non_negative_time(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite time >= 0 seconds, got {value!r}")


def _end_not_before_start(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if value < instance.start:
        raise ValueError(f"end ({value}) is before start ({instance.start})")


def _to_language(value: str | Language | None) -> Language | None:
    return None if value is None else find_language(value)


class FinishReason(enum.Enum):
    STOP = "stop"  # the model ended the text itself
    LENGTH = "length"  # the token budget ran out: the text may be cut short
    REPETITION = "repetition"  # a repetition loop was detected and trimmed


@attrs.frozen
class Segment:
    """A word (or other unit) with its time span in seconds."""

    text: str
    start: float = attrs.field(converter=float, validator=_non_negative_time)
    end: float = attrs.field(converter=float, validator=[_non_negative_time, _end_not_before_start])

    @property
    def duration(self) -> float:
        return self.end - self.start


@attrs.frozen
class SpeakerSpan:
    """One speaker's turn; `text` is filled when words are attributed to the turn."""

    speaker: str
    start: float = attrs.field(converter=float, validator=_non_negative_time)
    end: float = attrs.field(converter=float, validator=[_non_negative_time, _end_not_before_start])
    text: str = ""


@attrs.frozen
class ChunkRecord:
    """One piece of a long recording, decoded on its own."""

    index: int
    start: float = attrs.field(converter=float, validator=_non_negative_time)
    end: float = attrs.field(converter=float, validator=[_non_negative_time, _end_not_before_start])
    text: str
    language: Language | None = attrs.field(default=None, converter=_to_language)
    finish_reason: FinishReason = FinishReason.STOP


def _segments(items: Iterable[Segment]) -> tuple[Segment, ...]:
    return tuple(items)


def _chunks(items: Iterable[ChunkRecord]) -> tuple[ChunkRecord, ...]:
    return tuple(items)


def _speakers(items: Iterable[SpeakerSpan]) -> tuple[SpeakerSpan, ...]:
    return tuple(items)


def _in_time_order(name: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], items: Sequence[Any]) -> None:
        for before, after in itertools.pairwise(items):
            if after.start < before.start:
                raise ValueError(
                    f"{name} must be in time order: {after!r} starts before {before!r}"
                )

    return check


@attrs.frozen
class Transcript:
    """The result of transcribing one recording.

    `segments` are word-level times (empty unless timestamps were asked for), in order of start.
    `finish_reason` is the worst of the chunks': LENGTH if any chunk ran out of tokens.
    """

    text: str
    language: Language | None = attrs.field(default=None, converter=_to_language)
    segments: tuple[Segment, ...] = attrs.field(
        default=(), converter=_segments, validator=_in_time_order("segments")
    )
    chunks: tuple[ChunkRecord, ...] = attrs.field(
        default=(), converter=_chunks, validator=_in_time_order("chunks")
    )
    speakers: tuple[SpeakerSpan, ...] = attrs.field(
        default=(), converter=_speakers, validator=_in_time_order("speakers")
    )
    finish_reason: FinishReason = FinishReason.STOP
    duration: float | None = attrs.field(default=None)

    @property
    def has_timestamps(self) -> bool:
        return bool(self.segments)

    @property
    def truncated(self) -> bool:
        return self.finish_reason is FinishReason.LENGTH

    @property
    def speaker_segments(self) -> tuple[SpeakerSpan, ...]:
        """`speakers` under the name mlx-qwen3-asr's results use, so its users need not rename."""
        return self.speakers
