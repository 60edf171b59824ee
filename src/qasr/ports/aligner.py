from __future__ import annotations

from typing import Protocol, runtime_checkable

from qasr.domain import AudioClip, Language, Segment


@runtime_checkable
class Aligner(Protocol):
    def align(self, clip: AudioClip, text: str, language: Language | None) -> tuple[Segment, ...]:
        """Give each word of `text` its time span within `clip`, in seconds from the clip's start.

        Words are the aligner's units for `language` (whitespace words; one unit per CJK
        character). Segments come in text order, with non-decreasing starts, each within
        [0, clip.duration]. Empty or whitespace-only text gives ().
        """
        ...
