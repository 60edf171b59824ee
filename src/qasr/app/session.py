"""The public entry points: `Session`, `load_model`, `transcribe`.

A `Session` owns one loaded model (recognizer + tokenizer inside it) and the service that drives it;
nothing is global except the one default session that `qasr.transcribe()` keeps for convenience.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from qasr.app import bootstrap
from qasr.app.bootstrap import DEFAULT_MODEL
from qasr.domain import Language, ProgressCallback, RecognitionOptions, Transcript
from qasr.errors import InvalidInputError
from qasr.ports import Aligner, AudioInput, AudioSource, Diarizer, Recognizer


def load_model(name_or_path: str = DEFAULT_MODEL, dtype: str | None = None) -> Recognizer:
    """Load a Qwen3-ASR checkpoint (hub id or local folder) as a recognizer."""
    return bootstrap.build_recognizer(name_or_path, dtype=dtype)


class Session:
    """One loaded model and everything needed to turn audio into transcripts.

    `model` is a hub id, a folder, or an already loaded recognizer (`load_model(...)`, or any
    object implementing `qasr.ports.Recognizer`).
    """

    def __init__(
        self,
        model: str | Recognizer = DEFAULT_MODEL,
        dtype: str | None = None,
        *,
        audio_source: AudioSource | None = None,
        aligner: Aligner | None = None,
        diarizer: Diarizer | None = None,
        max_chunk_seconds: float = 30.0,
    ) -> None:
        recognizer = load_model(model, dtype) if isinstance(model, str) else model
        self.recognizer = recognizer
        self._service = bootstrap.build_service(
            recognizer=recognizer,
            audio_source=audio_source,
            aligner=aligner,
            diarizer=diarizer,
            max_chunk_seconds=max_chunk_seconds,
        )

    def transcribe(
        self,
        audio: AudioInput,
        *,
        language: str | Language | None = None,
        context: str = "",
        max_new_tokens: int | None = None,
        return_timestamps: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        options = RecognitionOptions(
            language=language, context=context, max_new_tokens=max_new_tokens
        )
        return self._service.transcribe(
            audio, options, timestamps=return_timestamps, on_progress=on_progress
        )

    def transcribe_batch(
        self,
        audios: Sequence[AudioInput],
        *,
        language: PerItem[str | Language | None] = None,
        context: PerItem[str] = "",
        max_new_tokens: int | None = None,
        return_timestamps: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> list[Transcript]:
        """Transcribe several inputs together (their chunks are decoded as batches).

        `language` and `context` are one value for all inputs or a list with one per input.
        """
        languages = _per_item(language, len(audios), "language")
        contexts = _per_item(context, len(audios), "context")
        options = [
            RecognitionOptions(language=lang, context=ctx, max_new_tokens=max_new_tokens)
            for lang, ctx in zip(languages, contexts, strict=True)
        ]
        return self._service.transcribe_batch(
            list(audios), options, timestamps=return_timestamps, on_progress=on_progress
        )

    async def transcribe_async(self, audio: AudioInput, **kwargs: Any) -> Transcript:
        """`transcribe` on a worker thread, so an event loop stays responsive."""
        return await asyncio.to_thread(self.transcribe, audio, **kwargs)

    async def transcribe_batch_async(
        self, audios: Sequence[AudioInput], **kwargs: Any
    ) -> list[Transcript]:
        return await asyncio.to_thread(self.transcribe_batch, audios, **kwargs)

    def model_info(self) -> dict[str, Any]:
        info = getattr(self.recognizer, "model_info", None)
        return dict(info()) if callable(info) else {"recognizer": type(self.recognizer).__name__}


T = TypeVar("T")
PerItem = T | Sequence[T]


def _per_item(value: Any, count: int, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise InvalidInputError(f"{count} inputs but {len(value)} values for {name}")
        return list(value)
    return [value] * count


_default_sessions: dict[tuple[str, str | None], Session] = {}
_default_lock = threading.Lock()


def transcribe(
    audio: AudioInput,
    *,
    model: str = DEFAULT_MODEL,
    dtype: str | None = None,
    language: str | Language | None = None,
    context: str = "",
    max_new_tokens: int | None = None,
    return_timestamps: bool = False,
    on_progress: ProgressCallback | None = None,
) -> Transcript:
    """Transcribe with a cached default session for (model, dtype)."""
    with _default_lock:
        session = _default_sessions.get((model, dtype))
        if session is None:
            session = _default_sessions[(model, dtype)] = Session(model, dtype)
    return session.transcribe(
        audio,
        language=language,
        context=context,
        max_new_tokens=max_new_tokens,
        return_timestamps=return_timestamps,
        on_progress=on_progress,
    )


def load_audio(source: AudioInput) -> np.ndarray:
    """Any supported input as float32 mono 16 kHz samples."""
    return bootstrap.build_audio_source().load(source).samples


__all__: Sequence[str] = ("DEFAULT_MODEL", "Session", "load_audio", "load_model", "transcribe")
