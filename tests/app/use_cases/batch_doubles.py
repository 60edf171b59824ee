"""Test doubles for `qasr batch`: real WAV files (good, corrupt, empty) and a service whose fake
recognizer logs every clip it hears to a file, so calls are counted across processes (Ray
actors) and across runs, and that can be told to stop as Ctrl-C would."""

from __future__ import annotations

import os
import signal
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from qasr.app import bootstrap
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip, RecognitionOptions, Transcript
from qasr.errors import ModelNotFoundError
from qasr.testing import FakeAligner, FakeRecognizer

RATE = 16_000


def write_tone_wav(path: Path, seconds: float, hz: float = 220.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * RATE)) / RATE
    pcm = (0.5 * np.sin(2 * np.pi * hz * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(pcm.tobytes())
    return path


def mixed_folder(root: Path, good: int = 4) -> tuple[list[Path], list[Path]]:
    """`good` speech-like WAVs (one in a subfolder), a zero-byte and a corrupt WAV, a text
    file a folder walk must skip; returns (good files, bad files)."""
    goods = [write_tone_wav(root / f"talk{index}.wav", 1.0 + index, 200.0 + 50 * index)
             for index in range(good - 1)]  # fmt: skip
    goods.append(write_tone_wav(root / "sub" / "deep.wav", 1.5, 330.0))
    empty = root / "empty.wav"
    empty.write_bytes(b"")
    corrupt = root / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    (root / "notes.txt").write_text("not audio")
    return goods, [empty, corrupt]


@attrs.define
class LoggingRecognizer:
    """FakeRecognizer that appends each clip's name to `log`; on its call number `interrupt_at`
    (1-based) it raises KeyboardInterrupt, on `kill_at` its process dies (SIGKILL), before
    hearing anything; a batch holding a clip of the file `poison` also kills it."""

    log: str | None = None
    interrupt_at: int | None = None
    kill_at: int | None = None
    poison: str | None = None
    calls: int = 0
    inner: FakeRecognizer = attrs.field(factory=FakeRecognizer)

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        self.calls += 1
        if self.interrupt_at is not None and self.calls >= self.interrupt_at:
            raise KeyboardInterrupt
        if self.kill_at is not None and self.calls >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.poison is not None and any(clip.name == self.poison for clip in clips):
            os.kill(os.getpid(), signal.SIGKILL)
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.writelines(f"{clip.name}\n" for clip in clips)
        return self.inner.recognize(clips, options)


def logged_names(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def fake_service(
    log: str | None = None,
    interrupt_at: int | None = None,
    kill_at: int | None = None,
    poison: str | None = None,
    *,
    timestamps: bool = False,
    batch_size: int | None = None,
    **ignored: Any,
) -> TranscriptionService:
    """A `build_service` stand-in: the real audio source, the logging fake recognizer."""
    return TranscriptionService(
        bootstrap.build_audio_source(),
        LoggingRecognizer(log, interrupt_at, kill_at, poison),
        FakeAligner() if timestamps else None,
        batch_size=batch_size,
    )


def no_model(**ignored: Any) -> TranscriptionService:
    """A `build_service` whose model is nowhere (module level, so Ray actors can import it)."""
    raise ModelNotFoundError("model 'nowhere' is not in the local Hugging Face cache")
