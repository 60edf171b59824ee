from __future__ import annotations

from typing import Protocol, runtime_checkable

from qasr.domain import AudioClip, SpeakerSpan


@runtime_checkable
class Diarizer(Protocol):
    def diarize(self, clip: AudioClip) -> tuple[SpeakerSpan, ...]:
        """Say who speaks when: turns in order of start, within [0, clip.duration].

        Speaker labels are stable within one call ("SPEAKER_00", ...); `text` is left empty (the
        service attributes words to turns). Silence gives ().
        """
        ...
