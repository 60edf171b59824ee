"""`/v1/realtime?intent=transcription`: OpenAI's Realtime transcription session on a WebSocket.

Client events: `transcription_session.update`, `input_audio_buffer.append` (base64 PCM16, 24 kHz
by default as OpenAI's, or `input_audio_sample_rate`), `input_audio_buffer.commit` and `.clear`.
Server events: `transcription_session.created` / `.updated`, with server VAD
`input_audio_buffer.speech_started` / `.speech_stopped`, then per turn
`input_audio_buffer.committed`, `conversation.item.created`,
`conversation.item.input_audio_transcription.delta` (the text forced as the steps' prefix, so
kept by later steps) and `.completed` (the turn decoded afresh: authoritative, it may correct
what the deltas said), and `error`. Each connection is one
streaming engine whose decodes go to the server's one model worker, so concurrent streams share
its batches (docs/adr/0020). Keys and limits are the HTTP API's: the Bearer key (or, from a
browser, the subprotocol `openai-insecure-api-key.KEY`), the per-key rate limit per connection,
`max_audio_seconds` per connection.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import secrets
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect

from qasr.app import bootstrap
from qasr.app.server.api_errors import ApiError
from qasr.app.server.app import ServerState
from qasr.app.server.realtime_protocol import (
    ProtocolError,
    SessionConfig,
    error_event,
    server_event,
)
from qasr.app.server.worker import QueueFullError
from qasr.app.use_cases.streaming import (
    CommittedText,
    PartialText,
    Stream,
    StreamEvent,
    StreamingEngine,
    StreamSettings,
    StreamTooLongError,
)
from qasr.domain import SAMPLE_RATE, AudioClip, RecognitionOptions, Transcript
from qasr.errors import QasrError

log = logging.getLogger("qasr.server")
router = APIRouter()
KEY_SUBPROTOCOL = "openai-insecure-api-key."
MAX_APPEND_CHARS = 15 * 1024 * 1024  # OpenAI's limit on one append's base64 audio


class RealtimeConnection:
    """One client's session: its stream, the turn (item) being spoken, what was sent of it."""

    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.websocket = websocket
        self.state = state
        self.session_id = f"sess_{secrets.token_hex(8)}"
        self.config = SessionConfig(model=state.settings.model_name)
        self.offset = 0.0  # seconds before the current stream started (after session updates)
        self.stream = self._new_stream()
        self.item_id: str | None = None
        self.previous_item: str | None = None
        self.sent = ""
        self.speaking = False

    def _new_stream(self) -> Stream:
        service = self.state.service
        worker, timeout = self.state.worker, self.state.settings.request_timeout

        def decode(clip: AudioClip, options: RecognitionOptions) -> Transcript:
            return worker.submit(clip, options).future.result(timeout=timeout)

        config = self.config
        settings = StreamSettings(
            step_seconds=config.step_seconds,
            commit_after_silence=config.silence_ms / 1000 if config.server_vad else None,
            max_seconds=max(1e-3, self.state.settings.max_audio_seconds - self.offset),
        )
        engine = StreamingEngine(
            decode,
            tokens=service.recognizer,  # type: ignore[arg-type]
            settings=settings,
            language=config.language or None,
            context=config.prompt,
        )
        rate = config.sample_rate
        resampler = None if rate == SAMPLE_RATE else bootstrap.build_stream_resampler(rate)
        return Stream(engine, resampler)

    async def send(self, event: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(event, ensure_ascii=False))

    async def run(self) -> None:
        await self.send(server_event("transcription_session.created", session=self._session()))
        while True:
            try:
                text = await self.websocket.receive_text()
            except WebSocketDisconnect:
                return
            except KeyError:  # a binary frame: receive_text finds no "text"
                await self.send(error_event("invalid_event", "send events as JSON text frames"))
                continue
            try:
                await self._handle(text)
            except ProtocolError as error:
                await self.send(error_event(error.code, error.message, error.param))
            except StreamTooLongError as error:
                await self.send(error_event("audio_too_long", str(error)))
                await self.websocket.close(code=1009)
                return
            except QueueFullError as error:
                await self.send(
                    error_event("server_busy", str(error), retry_after=error.retry_after)
                )
            except QasrError as error:
                await self.send(error_event(type(error).__name__, str(error)))

    def _session(self) -> dict[str, Any]:
        return self.config.to_json(self.session_id)

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError as error:
            raise ProtocolError("invalid_json", f"the event is not JSON: {error}") from None
        if not isinstance(message, dict):
            raise ProtocolError("invalid_event", "an event is a JSON object with a type")
        kind = message.get("type")
        if kind == "input_audio_buffer.append":
            await self._append(message.get("audio"))
        elif kind == "input_audio_buffer.commit":
            if self.stream.engine.pending_seconds == 0:
                raise ProtocolError(
                    "input_audio_buffer_commit_empty", "the input audio buffer is empty"
                )
            await self._publish(await asyncio.to_thread(self.stream.commit), forced=True)
        elif kind == "input_audio_buffer.clear":
            self.stream.discard()
            self.item_id, self.sent, self.speaking = None, "", False
            await self.send(server_event("input_audio_buffer.cleared"))
        elif kind == "transcription_session.update":
            if self.stream.engine.pending_seconds > 0:
                raise ProtocolError(
                    "session_busy",
                    "the session can change only while no audio waits: commit or clear first",
                )
            self.config = self.config.updated(message.get("session"))
            self.offset += self.stream.engine.received_seconds
            self.stream = self._new_stream()
            await self.send(server_event("transcription_session.updated", session=self._session()))
        else:
            raise ProtocolError("unknown_event", f"unknown client event type {kind!r}", "type")

    async def _append(self, audio: Any) -> None:
        if not isinstance(audio, str) or len(audio) > MAX_APPEND_CHARS:
            raise ProtocolError(
                "invalid_value", "audio must be base64 PCM16 of at most 15 MiB", "audio"
            )
        try:
            data = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError("invalid_value", "audio is not valid base64", "audio") from None
        if len(data) % 2:
            raise ProtocolError("invalid_value", "PCM16 audio has an even number of bytes", "audio")
        samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
        await self._publish(await asyncio.to_thread(self.stream.feed, samples))

    async def _publish(self, events: list[StreamEvent], *, forced: bool = False) -> None:
        for event in events:
            if isinstance(event, PartialText):
                await self._partial(event)
            elif isinstance(event, CommittedText):
                await self._committed(event, forced)

    def _item(self) -> str:
        if self.item_id is None:
            self.item_id = f"item_{secrets.token_hex(8)}"
        return self.item_id

    async def _partial(self, event: PartialText) -> None:
        if not event.text:
            return
        item = self._item()
        if self.config.server_vad and not self.speaking:
            self.speaking = True
            start_ms = round((self.offset + event.start) * 1000)
            await self.send(
                server_event(
                    "input_audio_buffer.speech_started", audio_start_ms=start_ms, item_id=item
                )
            )
        await self._delta(event.stable)
        if "qasr.partial" in self.config.include:
            await self.send(
                server_event("qasr.transcription.partial", item_id=item, transcript=event.text)
            )

    async def _delta(self, text: str) -> None:
        if self.item_id and text.startswith(self.sent) and len(text) > len(self.sent):
            delta, self.sent = text[len(self.sent) :], text
            await self.send(
                server_event(
                    "conversation.item.input_audio_transcription.delta",
                    item_id=self.item_id,
                    content_index=0,
                    delta=delta,
                )
            )

    async def _committed(self, event: CommittedText, forced: bool) -> None:
        if not event.text and not forced:
            self.item_id, self.sent, self.speaking = None, "", False
            return  # a window of silence: nothing was said
        item = self._item()
        if self.speaking:
            end_ms = round((self.offset + event.end) * 1000)
            await self.send(
                server_event("input_audio_buffer.speech_stopped", audio_end_ms=end_ms, item_id=item)
            )
        await self.send(
            server_event(
                "input_audio_buffer.committed", item_id=item, previous_item_id=self.previous_item
            )
        )
        await self.send(
            server_event(
                "conversation.item.created",
                previous_item_id=self.previous_item,
                item={
                    "id": item,
                    "object": "realtime.item",
                    "type": "message",
                    "status": "completed",
                    "role": "user",
                    "content": [{"type": "input_audio", "transcript": None}],
                },
            )
        )
        await self._delta(event.text)
        await self.send(
            server_event(
                "conversation.item.input_audio_transcription.completed",
                item_id=item,
                content_index=0,
                transcript=event.text,
            )
        )
        self.previous_item, self.item_id, self.sent, self.speaking = item, None, "", False


def _credentials(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(the subprotocol to answer with, the Authorization header to check)."""
    offered = list(websocket.scope.get("subprotocols") or [])
    authorization = websocket.headers.get("authorization")
    for protocol in offered:
        if protocol.startswith(KEY_SUBPROTOCOL) and authorization is None:
            authorization = "Bearer " + protocol[len(KEY_SUBPROTOCOL) :]
    answer = "realtime" if "realtime" in offered else None
    return answer, authorization


@router.websocket("/v1/realtime")
async def realtime(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.qasr
    streams: set[RealtimeConnection] = websocket.app.state.qasr_realtime
    subprotocol, authorization = _credentials(websocket)
    await websocket.accept(subprotocol=subprotocol)
    try:
        owner = state.keys.owner(authorization)
        state.limiter.check(owner)
        intent = websocket.query_params.get("intent")
        if intent != "transcription":
            raise ApiError(400, f"only intent=transcription is served here, got {intent!r}")
        connection = RealtimeConnection(websocket, state)
    except ApiError as error:
        await websocket.send_text(json.dumps(error_event(error.code or "refused", error.message)))
        await websocket.close(code=1013 if error.status == 503 else 1008)
        return
    streams.add(connection)
    try:
        await connection.run()
    except WebSocketDisconnect:
        pass
    except Exception as error:
        # Most often the client left while its audio decoded and the answer found no socket;
        # otherwise a bug: either way the connection ends here and frees its stream.
        log.warning(json.dumps({"event": "realtime_closed", "error": repr(error)}))
        with contextlib.suppress(Exception):
            await websocket.send_text(
                json.dumps(error_event("internal_error", "the stream failed"))
            )
            await websocket.close(code=1011)
    finally:
        streams.discard(connection)


def mount(app: FastAPI, state: ServerState) -> None:
    """Serve `/v1/realtime` on `app`, with a gauge of the streams open."""
    app.state.qasr_realtime = set()
    app.include_router(router)
    state.metrics.gauge(
        "qasr_realtime_streams",
        "WebSocket transcription streams open.",
        lambda: len(app.state.qasr_realtime),
    )
