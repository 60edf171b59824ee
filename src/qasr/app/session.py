"""The public entry points: `Session`, `load_model`, `transcribe`.

A `Session` owns one loaded model (recognizer + tokenizer inside it) and the service that drives it;
nothing is global except the one default session that `qasr.transcribe()` keeps for convenience.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from qasr.app import bootstrap
from qasr.app.bootstrap import DEFAULT_MODEL
from qasr.domain import Language, ProgressCallback, RecognitionOptions, Transcript
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

    def model_info(self) -> dict[str, Any]:
        info = getattr(self.recognizer, "model_info", None)
        return dict(info()) if callable(info) else {"recognizer": type(self.recognizer).__name__}


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
