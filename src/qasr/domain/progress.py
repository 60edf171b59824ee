"""Progress events that long work reports through an `on_progress` callback."""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs


class Stage(enum.Enum):
    AUDIO_LOADED = "audio_loaded"
    CHUNKS_PREPARED = "chunks_prepared"
    CHUNK_STARTED = "chunk_started"
    CHUNK_COMPLETED = "chunk_completed"
    ALIGNED = "aligned"
    DIARIZED = "diarized"
    FILE_STARTED = "file_started"
    FILE_COMPLETED = "file_completed"
    COMPLETED = "completed"


@attrs.frozen
class ProgressEvent:
    stage: Stage
    fraction: float = attrs.field(
        default=0.0,
        validator=attrs.validators.and_(attrs.validators.ge(0.0), attrs.validators.le(1.0)),
    )
    index: int | None = None  # chunk or file index
    total: int | None = None  # number of chunks or files
    name: str = ""  # the file, when there is one
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    """The default callback: long work need not check for None."""
