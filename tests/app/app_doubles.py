"""Test doubles for the service and CLI tests: scripted recogniser answers and test audio."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from qasr.domain import AudioClip, FinishReason, RecognitionOptions, Transcript

RATE = 16_000


def tone(seconds: float, amplitude: float = 0.5, rate: int = RATE) -> np.ndarray:
    """Loud enough for the fakes to hear; deterministic."""
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@attrs.define
class ScriptedRecognizer:
    """Answers the clips with `replies` in order, across calls; records what it was asked."""

    replies: list[Transcript]
    calls: list[tuple[tuple[AudioClip, ...], tuple[RecognitionOptions, ...]]] = attrs.field(
        factory=list
    )

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        self.calls.append((tuple(clips), tuple(options)))
        answers, self.replies = self.replies[: len(clips)], self.replies[len(clips) :]
        assert len(answers) == len(clips), "the test scripted too few replies"
        return answers


def reply(
    text: str, language: str | None = "English", finish: FinishReason = FinishReason.STOP
) -> Transcript:
    return Transcript(text, language=language, finish_reason=finish)
