"""Streaming transcription: live partial and committed text (docs/adr/0020)."""

from qasr.app.use_cases.streaming.engine import Decode, StreamingEngine, UpdateCost
from qasr.app.use_cases.streaming.events import (
    CommittedText,
    FinalTranscript,
    PartialText,
    StreamClosedError,
    StreamEvent,
    StreamSettings,
    StreamTooLongError,
)
from qasr.app.use_cases.streaming.stream import AsyncStream, PieceResampler, Stream

__all__ = [
    "AsyncStream",
    "CommittedText",
    "Decode",
    "FinalTranscript",
    "PartialText",
    "PieceResampler",
    "Stream",
    "StreamClosedError",
    "StreamEvent",
    "StreamSettings",
    "StreamTooLongError",
    "StreamingEngine",
    "UpdateCost",
]
