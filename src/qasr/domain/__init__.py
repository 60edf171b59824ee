"""Pure values of qasr: no I/O, no model code. stdlib, attrs and numpy only."""

from qasr.domain.audio import SAMPLE_RATE, AudioClip
from qasr.domain.languages import (
    LANGUAGES,
    Language,
    LanguageKind,
    find_language,
    prompt_languages,
)
from qasr.domain.options import RecognitionOptions
from qasr.domain.progress import ProgressCallback, ProgressEvent, Stage, ignore_progress
from qasr.domain.transcript import ChunkRecord, FinishReason, Segment, SpeakerSpan, Transcript

__all__ = [
    "LANGUAGES",
    "SAMPLE_RATE",
    "AudioClip",
    "ChunkRecord",
    "FinishReason",
    "Language",
    "LanguageKind",
    "ProgressCallback",
    "ProgressEvent",
    "RecognitionOptions",
    "Segment",
    "SpeakerSpan",
    "Stage",
    "Transcript",
    "find_language",
    "ignore_progress",
    "prompt_languages",
]
