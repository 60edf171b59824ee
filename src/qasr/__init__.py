"""qasr: Qwen3-ASR speech recognition on MLX.

Importing qasr loads no model backend; MLX is imported by the adapters that need it.
"""

from __future__ import annotations

from typing import Any

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

# The entry points live in qasr.app and are imported on first use, so `import qasr` stays light.
_LAZY = {
    "DEFAULT_MODEL": "qasr.app.bootstrap",
    "Session": "qasr.app.entry.session",
    "load_audio": "qasr.app.entry.session",
    "load_model": "qasr.app.entry.session",
    "transcribe": "qasr.app.entry.session",
    "transcribe_async": "qasr.app.entry.session",
    "transcribe_batch": "qasr.app.entry.session",
    "transcribe_batch_async": "qasr.app.entry.session",
    "TranscriptionService": "qasr.app.use_cases.service",
    "align": "qasr.app.entry.session",
    "build_service": "qasr.app.bootstrap",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qasr' has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL",
    "AudioClip",
    "ChunkRecord",
    "FinishReason",
    "Language",
    "ProgressEvent",
    "QasrError",
    "RecognitionOptions",
    "Segment",
    "Session",
    "SpeakerSpan",
    "Stage",
    "Transcript",
    "TranscriptionService",
    "__version__",
    "align",
    "build_service",
    "find_language",
    "load_audio",
    "load_model",
    "transcribe",
    "transcribe_async",
    "transcribe_batch",
    "transcribe_batch_async",
]
