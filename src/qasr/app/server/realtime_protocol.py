"""The Realtime transcription session's settings and events as JSON (OpenAI's shapes)."""

from __future__ import annotations

import secrets
from typing import Any

import attrs

from qasr.domain import find_language
from qasr.errors import QasrError


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


def server_event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": f"event_{secrets.token_hex(8)}", **fields}


def error_event(code: str, message: str, param: str | None = None, **extra: Any) -> dict[str, Any]:
    kind = "server_error" if code in {"server_busy", "internal_error"} else "invalid_request_error"
    detail = {"type": kind, "code": code, "message": message, "param": param, **extra}
    return server_event("error", error=detail)


@attrs.define
class SessionConfig:
    model: str = "qasr"
    language: str = ""
    prompt: str = ""
    server_vad: bool = True
    silence_ms: int = 500
    sample_rate: int = 24000
    step_seconds: float = 1.0
    include: tuple[str, ...] = ()

    def to_json(self, session_id: str) -> dict[str, Any]:
        vad = {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": self.silence_ms,
        }
        return {
            "id": session_id,
            "object": "realtime.transcription_session",
            "input_audio_format": "pcm16",
            "input_audio_transcription": {
                "model": self.model,
                "language": self.language,
                "prompt": self.prompt,
            },
            "turn_detection": vad if self.server_vad else None,
            "input_audio_noise_reduction": None,
            "include": list(self.include),
            "input_audio_sample_rate": self.sample_rate,
            "step_seconds": self.step_seconds,
        }

    def updated(self, session: Any) -> SessionConfig:
        if not isinstance(session, dict):
            raise ProtocolError("invalid_value", "session must be an object", "session")
        config = attrs.evolve(self)
        audio_format = session.get("input_audio_format", "pcm16")
        if audio_format != "pcm16":
            raise ProtocolError(
                "unsupported_value",
                f"input_audio_format {audio_format!r} is not supported; send pcm16",
                "session.input_audio_format",
            )
        transcription = session.get("input_audio_transcription") or {}
        if not isinstance(transcription, dict):
            raise ProtocolError(
                "invalid_value", "must be an object", "session.input_audio_transcription"
            )
        config.model = str(transcription.get("model") or config.model)
        config.prompt = str(transcription.get("prompt") or "")
        language = transcription.get("language") or ""
        if language:
            try:
                find_language(str(language))
            except QasrError as error:
                raise ProtocolError(
                    "invalid_value", str(error), "session.input_audio_transcription.language"
                ) from None
        config.language = str(language)
        if "turn_detection" in session:
            config.server_vad, config.silence_ms = _turn_detection(session["turn_detection"])
        if session.get("input_audio_noise_reduction") is not None:
            raise ProtocolError(
                "unsupported_value",
                "input_audio_noise_reduction is not supported; send null",
                "session.input_audio_noise_reduction",
            )
        config.sample_rate = _number(
            session, "input_audio_sample_rate", config.sample_rate, 8000, 96000, int
        )
        config.step_seconds = _number(
            session, "step_seconds", config.step_seconds, 0.25, 10.0, float
        )
        include = session.get("include") or []
        if not isinstance(include, list):
            raise ProtocolError("invalid_value", "include must be a list", "session.include")
        config.include = tuple(str(name) for name in include)
        return config


def _turn_detection(value: Any) -> tuple[bool, int]:
    if value is None:
        return False, 500
    if not isinstance(value, dict) or value.get("type", "server_vad") != "server_vad":
        raise ProtocolError(
            "unsupported_value",
            'turn_detection must be null or {"type": "server_vad", ...}',
            "session.turn_detection",
        )
    silence = _number(value, "silence_duration_ms", 500, 100, 10_000, int)
    return True, silence


def _number(
    where: dict[str, Any], name: str, default: Any, low: float, high: float, kind: type
) -> Any:
    value = where.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ProtocolError(
            "invalid_value", f"{name} must be a number in [{low:g}, {high:g}]", name
        )
    if kind is int and value != int(value):
        raise ProtocolError("invalid_value", f"{name} must be a whole number", name)
    return kind(value)
