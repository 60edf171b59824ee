"""OpenAI's audio API: `/v1/audio/transcriptions`, `/v1/audio/translations`, `/v1/models`.

Fields follow https://platform.openai.com/docs/api-reference/audio: existing SDK code works by
changing the base URL. What qasr cannot do is refused in one clear 400 (translation, sampling
temperature, diarized output without a diarizer), never silently ignored.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from qasr.app.server import openai_formats
from qasr.app.server.api_errors import ApiError
from qasr.app.server.app import ServerState, state_of
from qasr.app.server.dependencies import caller
from qasr.app.server.uploads import form_flag, form_text, load_clip, read_form, save_upload
from qasr.app.server.worker import QueueFullError
from qasr.domain import AudioClip, RecognitionOptions, Transcript, find_language
from qasr.errors import QasrError, UnknownLanguageError

router = APIRouter()
_STARTED = int(time.time())


@attrs.frozen
class TranscriptionRequest:
    options: RecognitionOptions
    response_format: str
    granularities: tuple[str, ...]
    stream: bool

    @property
    def timestamps(self) -> bool:
        return (
            self.response_format in ("srt", "vtt", "diarized_json") or "word" in self.granularities
        )

    @property
    def diarize(self) -> bool:
        return self.response_format == "diarized_json"


def parse_language(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return find_language(text.strip())
    except UnknownLanguageError as error:
        raise ApiError(400, str(error), param="language", code="unsupported_language") from None


def parse_request(form: Any, state: ServerState) -> TranscriptionRequest:
    """Every field checked before the audio is decoded or waits for the model."""
    response_format = form_text(form, "response_format", "json").strip() or "json"
    if response_format not in openai_formats.FORMATS:
        raise ApiError(
            400, f"unknown response_format {response_format!r}; choose one of: "
            f"{', '.join(openai_formats.FORMATS)}", param="response_format",
        )  # fmt: skip
    temperature = form_text(form, "temperature", "0").strip() or "0"
    try:
        warm = float(temperature) != 0.0
    except ValueError:
        raise ApiError(400, f"temperature must be a number, got {temperature!r}") from None
    if warm:
        raise ApiError(
            400, f"temperature {temperature} is not supported: qasr decodes greedily; send "
            "temperature 0 or leave it out", param="temperature", code="unsupported_value",
        )  # fmt: skip
    granularities = tuple(
        dict.fromkeys(
            value.strip()
            for name in ("timestamp_granularities[]", "timestamp_granularities")
            for value in form.getlist(name)
            if isinstance(value, str) and value.strip()
        )
    )
    unknown = [value for value in granularities if value not in openai_formats.GRANULARITIES]
    if unknown:
        raise ApiError(
            400, f"unknown timestamp_granularities {unknown}; choose word and/or segment",
            param="timestamp_granularities",
        )  # fmt: skip
    if granularities and response_format != "verbose_json":
        raise ApiError(
            400, "timestamp_granularities needs response_format verbose_json",
            param="timestamp_granularities",
        )  # fmt: skip
    stream = form_flag(form, "stream")
    if stream and response_format not in ("json", "text"):
        raise ApiError(400, "stream=true works with response_format json or text", param="stream")
    request = TranscriptionRequest(
        RecognitionOptions(
            language=parse_language(form_text(form, "language")),
            context=form_text(form, "prompt"),
        ),
        response_format, granularities, stream,
    )  # fmt: skip
    check_features(state, request.timestamps, request.diarize, request.response_format)
    return request


def check_features(state: ServerState, timestamps: bool, diarize: bool, asked: str) -> None:
    if diarize and state.service.diarizer is None:
        raise ApiError(
            400, "diarized_json needs a speaker diarizer, and this server has none; ask for "
            "another response_format", param="response_format", code="unsupported_value",
        )  # fmt: skip
    if timestamps and state.service.aligner is None:
        raise ApiError(
            400, f"{asked} needs word timestamps, and this server runs without a forced "
            "aligner; start it with `qasr serve --timestamps`, or ask for json, text or "
            "verbose_json with segments", param="response_format", code="unsupported_value",
        )  # fmt: skip


async def read_audio(request: Request, state: ServerState, form: Any) -> AudioClip:
    """The upload decoded (then deleted from disk), or the 4xx that says why not."""
    path, filename = await save_upload(form, state.settings.incoming_dir)
    try:
        return await run_in_threadpool(
            load_clip, state.service.audio_source, path, filename,
            state.settings.max_audio_seconds,
        )  # fmt: skip
    finally:
        path.unlink(missing_ok=True)


async def transcribe_now(
    state: ServerState, clip: AudioClip, options: RecognitionOptions, timestamps: bool,
    diarize: bool,
) -> Transcript:  # fmt: skip
    """Through the worker's shared batches; 503 when the line is full, 504 after the timeout."""
    try:
        item = state.worker.submit(clip, options, timestamps=timestamps, diarize=diarize)
    except QueueFullError as full:
        raise ApiError(
            503, str(full), code="server_busy", headers={"Retry-After": str(full.retry_after)}
        ) from None
    try:
        return await asyncio.wait_for(
            asyncio.wrap_future(item.future), state.settings.request_timeout
        )
    except asyncio.TimeoutError:
        item.cancel()
        raise ApiError(
            504, f"no result within {state.settings.request_timeout:g} s; send a shorter file "
            "or use /v1/jobs", code="timeout",
        ) from None  # fmt: skip
    except QasrError as error:
        raise ApiError(400, str(error), code=type(error).__name__) from None


@router.post("/v1/audio/transcriptions")
async def transcriptions(request: Request, owner: str = Depends(caller)) -> Response:
    state = state_of(request)
    form = await read_form(request)
    try:
        asked = parse_request(form, state)
        clip = await read_audio(request, state, form)
    finally:
        await form.close()
    transcript = await transcribe_now(state, clip, asked.options, asked.timestamps, asked.diarize)
    if asked.stream:
        return StreamingResponse(
            iter(list(openai_formats.stream_events(transcript))),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )
    return Response(
        openai_formats.render(transcript, asked.response_format, asked.granularities),
        media_type=openai_formats.content_type(asked.response_format),
    )


@router.post("/v1/audio/translations", dependencies=[Depends(caller)])
def translations() -> Response:
    raise ApiError(
        400, "translation is not supported: Qwen3-ASR transcribes speech in its own language; "
        "use /v1/audio/transcriptions", code="unsupported_endpoint",
    )  # fmt: skip


def model_card(state: ServerState) -> dict[str, Any]:
    return {
        "id": state.settings.model_name, "object": "model", "created": _STARTED,
        "owned_by": "qasr",
    }  # fmt: skip


@router.get("/v1/models", dependencies=[Depends(caller)])
def models(request: Request) -> dict[str, Any]:
    return {"object": "list", "data": [model_card(state_of(request))]}


@router.get("/v1/models/{model_id:path}", dependencies=[Depends(caller)])
def model(model_id: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    if model_id != state.settings.model_name:
        raise ApiError(
            404, f"no model {model_id!r}; this server runs {state.settings.model_name!r}"
        )
    return model_card(state)
