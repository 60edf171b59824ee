from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from qasr.domain import AudioClip, RecognitionOptions, Transcript


@runtime_checkable
class Recognizer(Protocol):
    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        """Transcribe each clip with its own options; return one transcript per clip, in order.

        Clips are 16 kHz mono and at most a chunk long (the service splits long audio). Each
        transcript carries `text`, the detected or forced `language` (None when the model heard no
        speech) and `finish_reason` (LENGTH when the token budget ran out). Clips are independent:
        the result for a clip must not depend on the others in the call. `len(options)` equals
        `len(clips)`; an empty call returns [].
        """
        ...
