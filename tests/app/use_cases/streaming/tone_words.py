"""A recognizer whose text is a function of its audio, so stream tests can be exact.

Each word is a 200 Hz tone burst whose amplitude names the word; words are separated by silence.
The fake hears every burst (a cut one too) and, given a prefix, returns it followed by the
words after it, like a model that continues forced text. Tokens are UTF-8 bytes, so a rollback
can land inside a multi-byte character.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from qasr.domain import AudioClip, Language, RecognitionOptions, Transcript, find_language
from qasr.ports import ContinuationOptions

WORDS = ("alpha", "café", "日本", "bravo", "naïve", "delta", "écho", "golf", "hôtel", "kilo")
RATE = 16000
FRAME = 320


def amplitude(index: int) -> float:
    return 0.1 + 0.07 * index


def speech(indices: Sequence[int], word: float = 0.4, pause: float = 0.35) -> np.ndarray:
    """Tone words with `pause` seconds of silence after each."""
    t = np.arange(int(word * RATE)) / RATE
    parts = []
    for index in indices:
        parts += [amplitude(index) * np.sin(2 * np.pi * 200 * t), np.zeros(int(pause * RATE))]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def heard(samples: np.ndarray) -> list[str]:
    count = len(samples) // FRAME
    frames = samples[: count * FRAME].reshape(count, FRAME)
    peaks = np.abs(frames).max(axis=1) if count else np.zeros(0)
    loud = peaks >= 0.05
    words, run = [], []
    for peak, is_loud in zip(peaks, loud, strict=True):
        if is_loud:
            run.append(peak)
        elif run:
            words.append(_word(max(run)))
            run = []
    if run:
        words.append(_word(max(run)))
    return words


def _word(peak: float) -> str:
    return WORDS[min(len(WORDS) - 1, max(0, round((peak - 0.1) / 0.07)))]


@attrs.define
class ToneWordRecognizer:
    detected: Language = attrs.field(factory=lambda: find_language("English"))
    continues_prefix: bool = True
    calls: list[tuple[float, RecognitionOptions]] = attrs.field(factory=list)

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        return [self.decode(clip, option) for clip, option in zip(clips, options, strict=True)]

    def decode(self, clip: AudioClip, options: RecognitionOptions) -> Transcript:
        self.calls.append((clip.duration, options))
        text = " ".join(heard(clip.samples))
        prefix = options.prefix if isinstance(options, ContinuationOptions) else ""
        if prefix and not text.startswith(prefix):
            raise AssertionError(f"forced prefix {prefix!r} is not what the audio says: {text!r}")
        return Transcript(
            text=text,
            language=(options.language or self.detected) if text else None,
            duration=clip.duration,
        )

    def encode_text(self, text: str) -> list[int]:
        return list(text.encode())

    def decode_tokens(self, ids: Sequence[int]) -> str:
        return bytes(ids).decode("utf-8", errors="replace")
