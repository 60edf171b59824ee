"""qasr: Qwen3-ASR speech recognition on MLX.

Importing qasr loads no model backend; MLX is imported by the adapters that need it.
"""

from __future__ import annotations

from qasr.domain import (
    AudioClip,
    ChunkRecord,
    FinishReason,
    Language,
    ProgressEvent,
    RecognitionOptions,
    Segment,
    SpeakerSpan,
    Stage,
    Transcript,
    find_language,
)
from qasr.errors import QasrError

__version__ = "0.1.0"

__all__ = [
    "AudioClip",
    "ChunkRecord",
    "FinishReason",
    "Language",
    "ProgressEvent",
    "QasrError",
    "RecognitionOptions",
    "Segment",
    "SpeakerSpan",
    "Stage",
    "Transcript",
    "__version__",
    "find_language",
]
