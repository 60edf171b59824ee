"""An in-memory `AudioSource` for tests: no files, no ffmpeg, the same answers every run.

>>> from qasr.testing import FakeAudioSource
>>> source = FakeAudioSource({"meeting.wav": (samples_44k, 44_100)}, missing={"gone.wav"})
>>> source.load("meeting.wav")        # the given samples, resampled to 16 kHz, name "meeting.wav"
>>> source.load("anything_else.mp3")  # a seeded tone, the same for the same name and seed
>>> source.load("gone.wav")           # AudioError("no such file: gone.wav")
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.arrays import clip_from_memory, unsupported_input
from qasr.domain import SAMPLE_RATE, AudioClip
from qasr.errors import AudioError
from qasr.ports import AudioInput


class FakeAudioSource:
    """Paths are looked up by their full text, then by file name; arrays are converted exactly as
    the real sources do. Unknown names get a tone unless `synthesize_unknown` is off."""

    def __init__(
        self,
        files: Mapping[str, AudioInput] | None = None,
        *,
        missing: Collection[str] = (),
        synthesize_unknown: bool = True,
        tone_seconds: float = 1.0,
        seed: int = 0,
    ) -> None:
        if tone_seconds <= 0:
            raise ValueError(f"tone_seconds must be positive, got {tone_seconds}")
        self.files = dict(files or {})
        self.missing = frozenset(missing)
        self.synthesize_unknown = synthesize_unknown
        self.tone_seconds = tone_seconds
        self.seed = seed
        self.loaded: list[str] = []  # every path asked for, in order, for assertions in tests

    def load(self, source: AudioInput) -> AudioClip:
        clip = clip_from_memory(source)
        if clip is not None:
            return clip
        if not isinstance(source, (str, os.PathLike)):
            raise unsupported_input(source)
        key, name = os.fspath(source), Path(source).name
        self.loaded.append(key)
        if key in self.missing or name in self.missing:
            raise AudioError(f"no such file: {key}")
        stored = self.files.get(key, self.files.get(name))
        if stored is not None:
            loaded = clip_from_memory(stored)
            if loaded is None:
                raise unsupported_input(stored)
            return AudioClip(loaded.samples, SAMPLE_RATE, name)
        if not self.synthesize_unknown:
            raise AudioError(f"no such file: {key}")
        return AudioClip(self.tone(name), SAMPLE_RATE, name)

    def tone(self, name: str) -> npt.NDArray[np.float32]:
        """The clip an unknown `name` gets: a sine of 200-1000 Hz chosen by the name and seed,
        with a little seeded noise so it is not perfectly periodic."""
        digest = zlib.crc32(f"{self.seed}:{name}".encode())
        frequency = 200.0 + digest % 800
        rng = np.random.default_rng(digest)
        times = np.arange(round(self.tone_seconds * SAMPLE_RATE)) / SAMPLE_RATE
        samples = 0.5 * np.sin(2 * np.pi * frequency * times) + 0.01 * rng.standard_normal(
            len(times)
        )
        return samples.astype(np.float32)
