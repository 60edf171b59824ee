"""A recording played back as a live stream: in real time, or as fast as it decodes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt

from qasr.domain import SAMPLE_RATE, AudioClip


class FileStream:
    """Pieces of `piece_seconds` of a loaded clip; with `realtime`, each piece is handed out no
    earlier than it would have been spoken (the clock starts at the first piece)."""

    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        clip: AudioClip,
        *,
        piece_seconds: float = 0.1,
        realtime: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clip = clip
        self._piece = max(1, round(piece_seconds * SAMPLE_RATE))
        self._realtime = realtime
        self._clock, self._sleep = clock, sleep
        self._closed = False

    def pieces(self) -> Iterator[npt.NDArray[np.float32]]:
        samples = self.clip.samples
        started = self._clock()
        for first in range(0, len(samples), self._piece):
            if self._closed:
                return
            piece = samples[first : first + self._piece]
            if self._realtime:
                due = started + (first + len(piece)) / SAMPLE_RATE
                wait = due - self._clock()
                if wait > 0:
                    self._sleep(wait)
            yield piece

    def close(self) -> None:
        self._closed = True
