"""The outermost layer of every HTTP request: request id, size limits, one log line, metrics.

A pure ASGI middleware, so it sees requests that never reach a route (oversized headers or
bodies) and answers them in the OpenAI error envelope too. An oversized body is read to the end
(up to a cap) before the 413, so the client, still sending, gets the answer rather than a
broken connection.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from qasr.app.server.api_errors import envelope
from qasr.app.server.metrics import ServerMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("qasr.server")
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Multipart boundaries and the other form fields, on top of the audio itself.
FORM_OVERHEAD = 64 * 1024
# Read at most this many bytes of a body already known to be too large, then drop the link.
DRAIN_LIMIT = 256 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


class Guard:
    def __init__(
        self, app: App, *, max_body: int, max_header_bytes: int, metrics: ServerMetrics
    ) -> None:
        self.app = app
        self.max_body = max_body + FORM_OVERHEAD
        self.max_upload_mb = max_body / (1024 * 1024)
        self.max_header_bytes = max_header_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value for key, value in scope["headers"]}
        given = headers.get("x-request-id", b"").decode("latin-1")
        request_id = given if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.monotonic()
        answer = {"status": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self._guarded(scope, receive, send_with_id, headers)
        except BodyTooLarge:
            if not answer["status"]:
                await self._too_large(send_with_id)
        finally:
            self._record(scope, state, answer["status"] or 500, started)

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, bytes]
    ) -> None:
        header_bytes = sum(len(key) + len(value) for key, value in scope["headers"])
        if header_bytes > self.max_header_bytes:
            await respond(
                send, 431,
                f"the request headers are {header_bytes} bytes; at most "
                f"{self.max_header_bytes} are accepted",
                code="headers_too_large",
            )  # fmt: skip
            return
        try:
            declared = int(headers.get("content-length", b"0"))
        except ValueError:
            await respond(send, 400, "the Content-Length header is not a number")
            return
        if declared > self.max_body:
            await self._drain(receive, declared)
            raise BodyTooLarge
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    if message.get("more_body", False):
                        await self._drain(receive, received)
                    raise BodyTooLarge
            return message

        await self.app(scope, counted, send)

    async def _drain(self, receive: Receive, already: int) -> None:
        seen = already
        while seen < DRAIN_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _too_large(self, send: Send) -> None:
        await respond(
            send, 413,
            f"the upload is larger than this server's limit of {self.max_upload_mb:g} MB "
            "(--max-upload-mb)",
            code="upload_too_large",
        )  # fmt: skip

    def _record(self, scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        seconds = time.monotonic() - started
        route = scope.get("route")
        name = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.add(route=name, status=str(status))
        self.metrics.request_seconds.observe(seconds)
        line = {
            "event": "request",
            "request_id": state.get("request_id"),
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": status,
            "ms": round(seconds * 1000, 1),
            "key": state.get("owner"),  # a fingerprint, never the key
            "client": (scope.get("client") or ("", 0))[0],
        }
        log.info(json.dumps(line))


async def respond(
    send: Send,
    status: int,
    message: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send one OpenAI-envelope error from outside any route."""
    body = json.dumps(envelope(status, message, code=code)).encode()
    extra = [(key.lower().encode(), value.encode()) for key, value in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
