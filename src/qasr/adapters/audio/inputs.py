"""The part every audio source shares: in-memory inputs, path checks, resampling to 16 kHz."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.arrays import clip_from_memory, unsupported_input
from qasr.adapters.audio.resample import resample
from qasr.domain import SAMPLE_RATE, AudioClip
from qasr.errors import AudioError

# Decodes one existing, non-empty file to mono float32 samples and their sample rate.
FileDecoder = Callable[[Path], tuple[npt.NDArray[np.float32], int]]


def load_clip(source: object, decode_file: FileDecoder) -> AudioClip:
    """Load any `AudioInput` as a 16 kHz clip, decoding paths with `decode_file`."""
    clip = clip_from_memory(source)
    if clip is not None:
        return clip
    if not isinstance(source, (str, os.PathLike)):
        raise unsupported_input(source)
    path = existing_audio_file(source)
    samples, sample_rate = decode_file(path)
    return AudioClip(resample(samples, sample_rate), SAMPLE_RATE, path.name)


def existing_audio_file(source: str | os.PathLike[str]) -> Path:
    path = Path(source)
    if not path.exists():
        hint = ""
        if str(source).startswith(("http://", "https://")):
            hint = " (URLs are not fetched: download the file first)"
        raise AudioError(f"no such file: {source}{hint}")
    if path.is_dir():
        raise AudioError(f"{source}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{source}: contains no audio (the file is empty)")
    return path
