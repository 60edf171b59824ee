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
from qasr.domain import Language, ProgressCallback, RecognitionOptions, Transcript, find_language
from qasr.errors import InvalidInputError
from qasr.ports import Aligner, AudioInput, AudioSource, Diarizer, Recognizer


def load_model(name_or_path: str = DEFAULT_MODEL, dtype: str | None = None) -> Recognizer:
    """Load a Qwen3-ASR checkpoint (hub id or local folder) as a recognizer."""
    return bootstrap.build_recognizer(name_or_path, dtype=dtype)


class Session:
    """One loaded model and everything needed to turn audio into transcripts.

    `model` is a hub id, a folder, or an already loaded recognizer (`load_model(...)`, or any
    object implementing `qasr.ports.Recognizer`). `aligner` is a `qasr.ports.Aligner`, or the
    hub id or folder of a Qwen3-ForcedAligner checkpoint, loaded when timestamps are first
    asked for (default: the 0.6B one).
    """

    def __init__(
        self,
        model: str | Recognizer = DEFAULT_MODEL,
        dtype: str | None = None,
        *,
        audio_source: AudioSource | None = None,
        aligner: Aligner | str | None = None,
        diarizer: Diarizer | None = None,
        max_chunk_seconds: float = 30.0,
    ) -> None:
        recognizer = load_model(model, dtype) if isinstance(model, str) else model
        self.recognizer = recognizer
        self._dtype = dtype
        self._aligner_model = aligner if isinstance(aligner, str) else bootstrap.DEFAULT_ALIGNER
        self._service = bootstrap.build_service(
            recognizer=recognizer,
            audio_source=audio_source,
            aligner=None if isinstance(aligner, str) else aligner,
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
        if return_timestamps:
            self._ensure_aligner()
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
        if return_timestamps:
            self._ensure_aligner()
        return self._service.transcribe_batch(
            list(audios), options, timestamps=return_timestamps, on_progress=on_progress
        )

    def align(
        self, audio: AudioInput, text: str, language: str | Language | None = None
    ) -> Transcript:
        """Time the words of `text`, already known to be what `audio` says (no recognition).

        The transcript's `segments` are the aligner's units (punctuation dropped, one per CJK
        character), in seconds; subtitle writers put the punctuation of `text` back.
        """
        aligner = self._ensure_aligner()
        return _aligned_transcript(aligner, self._service.audio_source, audio, text, language)

    def _ensure_aligner(self) -> Aligner:
        if self._service.aligner is None:
            self._service.aligner = bootstrap.build_aligner(self._aligner_model, dtype=self._dtype)
        return self._service.aligner

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


def align(
    audio: AudioInput,
    text: str,
    *,
    language: str | Language | None = None,
    aligner: Aligner | str = bootstrap.DEFAULT_ALIGNER,
    dtype: str | None = None,
    audio_source: AudioSource | None = None,
) -> Transcript:
    """Time the words of a known `text` in `audio` with a forced aligner, loading no recognizer.

    `aligner` is a loaded `qasr.ports.Aligner` or a Qwen3-ForcedAligner hub id or folder.
    """
    if isinstance(aligner, str):
        aligner = bootstrap.build_aligner(aligner, dtype=dtype)
    source = audio_source or bootstrap.build_audio_source()
    return _aligned_transcript(aligner, source, audio, text, language)


def _aligned_transcript(
    aligner: Aligner,
    audio_source: AudioSource,
    audio: AudioInput,
    text: str,
    language: str | Language | None,
) -> Transcript:
    # One aligner call for the whole clip: the text cannot be cut to match chunks of audio.
    # Qwen3-ForcedAligner names times up to 400 s; the official pipeline aligns <= 180 s.
    clip = audio_source.load(audio)
    chosen = find_language(language) if language else None
    segments = aligner.align(clip, text, chosen)
    return Transcript(text=text, language=chosen, segments=segments, duration=clip.duration)


def load_audio(source: AudioInput) -> np.ndarray:
    """Any supported input as float32 mono 16 kHz samples."""
    return bootstrap.build_audio_source().load(source).samples


__all__: Sequence[str] = (
    "DEFAULT_MODEL",
    "Session",
    "align",
    "load_audio",
    "load_model",
    "transcribe",
)
