"""The public entry points: `Session`, `load_model`, `transcribe`, `transcribe_batch`, `align`.

A `Session` owns one loaded model (recognizer + tokenizer inside it) and the service that drives it;
nothing is global except the default sessions that `qasr.transcribe()` keeps for convenience.
The keyword arguments are also mlx-qwen3-asr's, so its users switch by changing one import
(`qasr.app.entry.compat`; README, "Python API").
"""

from __future__ import annotations

import asyncio
import copy
import functools
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any, TypeAlias, TypeVar

import numpy as np

from qasr.app import bootstrap
from qasr.app.bootstrap import DEFAULT_MODEL
from qasr.app.entry.compat import (
    SEED_DRAFT_TOKENS,
    ModelInfo,
    dtype_name,
    pop_draft_arguments,
    pop_speaker_bounds,
    refuse_later_work,
    with_verbose,
)
from qasr.app.entry.session_streaming import StreamingState, open_stream, streaming_metrics
from qasr.app.use_cases.service import TranscriptionService
from qasr.app.use_cases.streaming import AsyncStream, Stream
from qasr.domain import Language, ProgressCallback, RecognitionOptions, Transcript
from qasr.errors import InvalidInputError
from qasr.ports import Aligner, AudioInput, AudioSource, Diarizer, Recognizer

T = TypeVar("T")
PerItem: TypeAlias = T | Sequence[T]  # one value for every input, or a list of one each


def load_model(name_or_path: str = DEFAULT_MODEL, dtype: object = None) -> Recognizer:
    """Load a Qwen3-ASR checkpoint (hub id or local folder) as a recognizer.

    `dtype` is a name ("bfloat16") or an MLX dtype (`mx.bfloat16`); None picks the device's default.
    """
    return bootstrap.build_recognizer(name_or_path, dtype=dtype_name(dtype))


class Session:
    """One loaded model and everything needed to turn audio into transcripts.

    `model` is a hub id, a folder, or an already loaded recognizer (`load_model(...)`, or any
    object implementing `qasr.ports.Recognizer`). `aligner` is a `qasr.ports.Aligner`, or the
    hub id or folder of a Qwen3-ForcedAligner checkpoint, loaded when timestamps are first
    asked for (default: the 0.6B one). `diarizer` (a `qasr.ports.Diarizer`) serves `diarize=True`
    (default: the built-in one, tuned per call by `num_speakers`, `min_speakers`, `max_speakers`
    or mlx-qwen3-asr's `diarization_num_speakers`, ...).
    """

    def __init__(
        self,
        model: str | Recognizer = DEFAULT_MODEL,
        dtype: object = None,
        *,
        audio_source: AudioSource | None = None,
        aligner: Aligner | str | None = None,
        diarizer: Diarizer | None = None,
        max_chunk_seconds: float = 30.0,
    ) -> None:
        self.dtype = dtype_name(dtype)
        self.recognizer = load_model(model, self.dtype) if isinstance(model, str) else model
        self._aligner_name = aligner if isinstance(aligner, str) else bootstrap.DEFAULT_ALIGNER
        self._loaded_aligners: dict[str, Aligner] = {}
        self._aligner_lock = threading.Lock()  # worker threads must not load one aligner twice
        self._drafted: dict[tuple[object, int], Recognizer] = {}  # (draft, k): speculative model
        self._diarizers: dict[tuple[tuple[str, int], ...], Diarizer] = {}
        self._service = bootstrap.build_service(
            recognizer=self.recognizer,
            audio_source=audio_source,
            aligner=None if isinstance(aligner, str) else aligner,
            diarizer=diarizer,
            max_chunk_seconds=max_chunk_seconds,
        )

    def transcribe(
        self,
        audio: AudioInput,
        *,
        context: str = "",
        language: str | Language | None = None,
        return_timestamps: bool = False,
        return_chunks: bool = False,
        forced_aligner: Aligner | str | None = None,
        max_new_tokens: int | None = None,
        diarize: bool = False,
        verbose: bool = False,
        on_progress: ProgressCallback | None = None,
        **later_work: Any,
    ) -> Transcript:
        """Transcribe one recording of any length.

        `audio` is a path, 16 kHz samples or `(samples, rate)`. `return_timestamps` fills
        `segments` with word times; `return_chunks` keeps the per-chunk records in `chunks`
        (left empty otherwise); `forced_aligner` (an `Aligner`, or a hub id or folder) times this
        call's words instead of the session's aligner. `diarize` fills `speakers` with the
        session's diarizer. `verbose` also prints each progress event on stderr.
        """
        speakers = pop_speaker_bounds(later_work)
        draft = pop_draft_arguments(later_work)
        refuse_later_work(later_work, "transcribe")
        options = RecognitionOptions(
            language=language or None, context=context or "", max_new_tokens=max_new_tokens
        )
        service = self._service_for(return_timestamps, diarize, forced_aligner, speakers)
        return self._with_draft(service, **draft).transcribe(
            audio,
            options,
            timestamps=return_timestamps,
            diarize=diarize,
            return_chunks=return_chunks,
            on_progress=with_verbose(on_progress, verbose),
        )

    def transcribe_batch(
        self,
        audios: Sequence[AudioInput],
        *,
        context: PerItem[str] = "",
        language: PerItem[str | Language | None] = None,
        return_timestamps: bool = False,
        return_chunks: bool = False,
        forced_aligner: Aligner | str | None = None,
        max_new_tokens: int | None = None,
        diarize: bool = False,
        verbose: bool = False,
        on_progress: ProgressCallback | None = None,
        **later_work: Any,
    ) -> list[Transcript]:
        """Transcribe several inputs together (their chunks are decoded as batches).

        `language` and `context` are one value for all inputs or a list with one per input; the
        other arguments are `transcribe`'s.
        """
        speakers = pop_speaker_bounds(later_work)
        draft = pop_draft_arguments(later_work)
        refuse_later_work(later_work, "transcribe_batch")
        languages = _per_item(language, len(audios), "language")
        contexts = _per_item(context, len(audios), "context")
        options = [
            RecognitionOptions(
                language=lang or None, context=ctx or "", max_new_tokens=max_new_tokens
            )
            for lang, ctx in zip(languages, contexts, strict=True)
        ]
        service = self._service_for(return_timestamps, diarize, forced_aligner, speakers)
        return self._with_draft(service, **draft).transcribe_batch(
            list(audios),
            options,
            timestamps=return_timestamps,
            diarize=diarize,
            return_chunks=return_chunks,
            on_progress=with_verbose(on_progress, verbose),
        )

    def align(
        self,
        audio: AudioInput,
        text: str,
        language: str | Language | None = None,
        *,
        forced_aligner: Aligner | str | None = None,
    ) -> Transcript:
        """Time the words of `text`, already known to be what `audio` says (no recognition);
        see `TranscriptionService.align`."""
        return self._service.with_aligner(self._aligner(forced_aligner)).align(
            audio, text, language
        )

    async def transcribe_async(
        self, audio: AudioInput, *, executor: Executor | None = None, **kwargs: Any
    ) -> Transcript:
        """`transcribe` on a worker thread (or `executor`), so an event loop stays responsive."""
        call = functools.partial(self.transcribe, audio, **kwargs)
        if executor is None:
            return await asyncio.to_thread(call)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    async def transcribe_batch_async(
        self, audios: Sequence[AudioInput], **kwargs: Any
    ) -> list[Transcript]:
        return await asyncio.to_thread(self.transcribe_batch, audios, **kwargs)

    @property
    def model_info(self) -> ModelInfo:
        """Model, path, dtype, vocabulary size, quantization, languages: read it as
        `session.model_info()` or, as mlx-qwen3-asr does, `session.model_info[...]`."""
        info = getattr(self.recognizer, "model_info", None)
        return ModelInfo(
            info() if callable(info) else {"recognizer": type(self.recognizer).__name__}
        )

    def stream(self, **settings: Any) -> Stream:
        """A live stream: `feed(samples)` and `finish()` return events (partial, committed,
        final transcript), also yielded by iterating it; see `open_stream` for the settings
        (language, context, step, window, sample_rate, commit_after_silence, max_seconds)."""
        return open_stream(self._service, self.recognizer, **settings)

    def stream_async(self, **settings: Any) -> AsyncStream:
        """`stream` for asyncio: `await feed(...)`, `await finish()`, `async for event in it`."""
        return AsyncStream(self.stream(**settings))

    def init_streaming(self, *, chunk_size_sec: float = 2.0, **settings: Any) -> StreamingState:
        """The seed's streaming API: a state for `feed_audio` / `finish_streaming`."""
        return StreamingState(self.stream(step=chunk_size_sec, **settings))

    def feed_audio(self, pcm: Any, state: StreamingState) -> StreamingState:
        return state.absorb(state.stream.feed(pcm))

    def finish_streaming(self, state: StreamingState) -> StreamingState:
        state.finished = True
        return state.absorb(state.stream.finish())

    streaming_metrics = staticmethod(streaming_metrics)

    def _service_for(
        self,
        timestamps: bool,
        diarize: bool,
        forced_aligner: Aligner | str | None,
        speakers: dict[str, int] | None = None,
    ) -> TranscriptionService:
        if not (timestamps or diarize):  # diarize needs word times to fill the speakers' text
            return self._service
        aligner: Aligner | None
        if not timestamps and forced_aligner is None and not self._aligner_at_hand():
            aligner = None  # speakers without word times: each turn transcribed on its own
        else:
            aligner = self._aligner(forced_aligner)
        service = self._service if aligner is self._service.aligner else None
        diarizer = self._diarizer(speakers or {}) if diarize else self._service.diarizer
        if service is not None and diarizer is service.diarizer:
            return service
        base = self._service
        return TranscriptionService(
            base.audio_source,
            base.recognizer,
            aligner,
            diarizer,
            max_chunk_seconds=base.max_chunk_seconds,
            batch_size=base.batch_size,
        )

    def _diarizer(self, speakers: dict[str, int]) -> Diarizer:
        """The session's diarizer; the built-in one (per speaker bounds) when none was given."""
        if self._service.diarizer is not None:
            if speakers:
                raise InvalidInputError(
                    "speaker counts tune the built-in diarizer; this session has its own "
                    "diarizer, so set them on it instead"
                )
            return self._service.diarizer
        key = tuple(sorted(speakers.items()))
        with self._aligner_lock:
            if key not in self._diarizers:
                self._diarizers[key] = bootstrap.build_diarizer(**speakers)
            return self._diarizers[key]

    def _with_draft(
        self,
        service: TranscriptionService,
        draft_model: str | Recognizer | None = None,
        num_draft_tokens: int = SEED_DRAFT_TOKENS,
    ) -> TranscriptionService:
        """`service` decoding speculatively with `draft_model` (a hub id, folder or loaded
        model, kept loaded for later calls): the same transcripts, from fewer target passes."""
        if draft_model is None:
            if num_draft_tokens != SEED_DRAFT_TOKENS:
                raise InvalidInputError("num_draft_tokens needs a draft_model")
            return service
        with_draft = getattr(self.recognizer, "with_draft", None)
        if with_draft is None:
            raise InvalidInputError(
                f"draft_model: {type(self.recognizer).__name__} does not decode speculatively; "
                "use a model loaded by qasr"
            )
        key = (draft_model, num_draft_tokens)
        with self._aligner_lock:
            if key not in self._drafted:
                draft = (
                    bootstrap.build_recognizer(draft_model, dtype=self.dtype)
                    if isinstance(draft_model, str)
                    else draft_model
                )
                self._drafted[key] = with_draft(draft, num_draft_tokens)
        drafted = copy.copy(service)
        drafted.recognizer = self._drafted[key]
        return drafted

    def _aligner_at_hand(self) -> bool:
        """Whether the session has, or can load without the network, its forced aligner."""
        if self._service.aligner is not None:
            return True
        return self._aligner_name in self._loaded_aligners or bootstrap.model_at_hand(
            self._aligner_name
        )

    def _aligner(self, forced_aligner: Aligner | str | None) -> Aligner:
        if forced_aligner is not None and not isinstance(forced_aligner, str):
            return forced_aligner
        if forced_aligner is None and self._service.aligner is not None:
            return self._service.aligner
        name = forced_aligner or self._aligner_name
        with self._aligner_lock:
            if name not in self._loaded_aligners:
                self._loaded_aligners[name] = bootstrap.build_aligner(name, dtype=self.dtype)
            return self._loaded_aligners[name]


def _per_item(value: Any, count: int, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise InvalidInputError(f"{count} inputs but {len(value)} values for {name}")
        return list(value)
    return [value] * count


_default_sessions: dict[tuple[str, str | None], Session] = {}
# A recognizer object passed as `model=`: only the latest one's session is kept (its aligner stays
# loaded across calls), so models a caller has dropped are not held forever.
_latest_object_session: Session | None = None
_default_lock = threading.Lock()


def _default_session(model: str | Recognizer, dtype: object) -> Session:
    global _latest_object_session
    with _default_lock:
        if not isinstance(model, str):
            latest = _latest_object_session
            if (
                latest is None
                or latest.recognizer is not model
                or latest.dtype != dtype_name(dtype)
            ):
                latest = _latest_object_session = Session(model, dtype)
            return latest
        key = (model, dtype_name(dtype))
        if key not in _default_sessions:
            _default_sessions[key] = Session(model, dtype)
        return _default_sessions[key]


def transcribe(
    audio: AudioInput,
    *,
    model: str | Recognizer = DEFAULT_MODEL,
    context: str = "",
    language: str | Language | None = None,
    return_timestamps: bool = False,
    return_chunks: bool = False,
    forced_aligner: Aligner | str | None = None,
    dtype: object = None,
    max_new_tokens: int | None = None,
    diarize: bool = False,
    verbose: bool = False,
    on_progress: ProgressCallback | None = None,
    **later_work: Any,
) -> Transcript:
    """`Session.transcribe` with a cached default session for (model, dtype)."""
    speakers = pop_speaker_bounds(later_work)
    draft = pop_draft_arguments(later_work)
    refuse_later_work(later_work, "transcribe")
    return _default_session(model, dtype).transcribe(
        audio,
        context=context,
        language=language,
        return_timestamps=return_timestamps,
        return_chunks=return_chunks,
        forced_aligner=forced_aligner,
        max_new_tokens=max_new_tokens,
        diarize=diarize,
        verbose=verbose,
        on_progress=on_progress,
        **speakers,
        **draft,
    )


def transcribe_batch(
    audios: Sequence[AudioInput],
    *,
    model: str | Recognizer = DEFAULT_MODEL,
    context: PerItem[str] = "",
    language: PerItem[str | Language | None] = None,
    return_timestamps: bool = False,
    return_chunks: bool = False,
    forced_aligner: Aligner | str | None = None,
    dtype: object = None,
    max_new_tokens: int | None = None,
    diarize: bool = False,
    verbose: bool = False,
    on_progress: ProgressCallback | None = None,
    **later_work: Any,
) -> list[Transcript]:
    """`Session.transcribe_batch` with the cached default session for (model, dtype)."""
    speakers = pop_speaker_bounds(later_work)
    draft = pop_draft_arguments(later_work)
    refuse_later_work(later_work, "transcribe_batch")
    return _default_session(model, dtype).transcribe_batch(
        audios,
        context=context,
        language=language,
        return_timestamps=return_timestamps,
        return_chunks=return_chunks,
        forced_aligner=forced_aligner,
        max_new_tokens=max_new_tokens,
        diarize=diarize,
        verbose=verbose,
        on_progress=on_progress,
        **speakers,
        **draft,
    )


async def transcribe_async(audio: AudioInput, **kwargs: Any) -> Transcript:
    """`transcribe` on a worker thread; takes the same keyword arguments."""
    return await asyncio.to_thread(functools.partial(transcribe, audio, **kwargs))


async def transcribe_batch_async(audios: Sequence[AudioInput], **kwargs: Any) -> list[Transcript]:
    """`transcribe_batch` on a worker thread; takes the same keyword arguments."""
    return await asyncio.to_thread(functools.partial(transcribe_batch, audios, **kwargs))


def align(
    audio: AudioInput,
    text: str,
    *,
    language: str | Language | None = None,
    aligner: Aligner | str = bootstrap.DEFAULT_ALIGNER,
    dtype: object = None,
    audio_source: AudioSource | None = None,
) -> Transcript:
    """Time the words of a known `text` in `audio` with a forced aligner, loading no recognizer.

    `aligner` is a loaded `qasr.ports.Aligner` or a Qwen3-ForcedAligner hub id or folder.
    """
    if isinstance(aligner, str):
        aligner = bootstrap.build_aligner(aligner, dtype=dtype_name(dtype))
    source = audio_source or bootstrap.build_audio_source()
    return TranscriptionService(source, None, aligner).align(audio, text, language)


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
    "transcribe_async",
    "transcribe_batch",
    "transcribe_batch_async",
)
