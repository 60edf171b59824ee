from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from qasr.domain import AudioClip

# A path, samples already at 16 kHz, samples with their rate, or a clip.
AudioInput = (
    str
    | os.PathLike[str]
    | npt.NDArray[np.generic]
    | tuple[npt.NDArray[np.generic], int]
    | AudioClip
)


@runtime_checkable
class AudioSource(Protocol):
    def load(self, source: AudioInput) -> AudioClip:
        """Return the audio as a mono float32 clip at 16 kHz.

        Multi-channel input is averaged to mono; other rates are resampled; integer PCM is scaled
        to [-1, 1). `clip.name` is the file name for paths, "" otherwise. Raise
        `qasr.errors.AudioError` (naming the file and the problem) for a missing, empty, truncated
        or undecodable input; never return an empty clip silently.
        """
        ...
