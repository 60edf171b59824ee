"""A transcript in the shapes of OpenAI's audio API (`response_format`), and its stream events.

Only what qasr knows is sent: segments are the decoded chunks (their times and texts), words
are the aligner's. Whisper's per-segment statistics (avg_logprob, compression_ratio,
no_speech_prob, tokens) are left out rather than made up; the `openai` client accepts that.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from qasr.app import bootstrap
from qasr.domain import Transcript

FORMATS = ("json", "text", "srt", "vtt", "verbose_json", "diarized_json")
GRANULARITIES = ("word", "segment")
_CONTENT_TYPES = {"text": "text/plain", "srt": "application/x-subrip", "vtt": "text/vtt"}


def content_type(response_format: str) -> str:
    return _CONTENT_TYPES.get(response_format, "application/json") + "; charset=utf-8"


def usage(transcript: Transcript) -> dict[str, Any]:
    return {"type": "duration", "seconds": round(transcript.duration or 0.0, 3)}


def language_name(transcript: Transcript) -> str:
    # OpenAI's verbose_json names the language in lower case ("english").
    return transcript.language.name.lower() if transcript.language else ""


def render(transcript: Transcript, response_format: str, granularities: tuple[str, ...]) -> str:
    if response_format == "text":
        return transcript.text + "\n"
    if response_format in ("srt", "vtt"):
        return bootstrap.render_transcript(transcript, response_format)
    if response_format == "verbose_json":
        return json.dumps(verbose(transcript, granularities), ensure_ascii=False)
    if response_format == "diarized_json":
        return json.dumps(diarized(transcript), ensure_ascii=False)
    return json.dumps({"text": transcript.text, "usage": usage(transcript)}, ensure_ascii=False)


def verbose(transcript: Transcript, granularities: tuple[str, ...]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": language_name(transcript),
        "duration": transcript.duration or 0.0,
        "text": transcript.text,
        "usage": usage(transcript),
    }
    if "segment" in granularities or not granularities:
        body["segments"] = [
            {"id": chunk.index, "seek": 0, "start": chunk.start, "end": chunk.end,
             "text": chunk.text, "temperature": 0.0}
            for chunk in transcript.chunks
        ]  # fmt: skip
    if "word" in granularities:
        body["words"] = [
            {"word": word.text, "start": word.start, "end": word.end}
            for word in transcript.segments
        ]
    return body


def diarized(transcript: Transcript) -> dict[str, Any]:
    return {
        "task": "transcribe",
        "duration": transcript.duration or 0.0,
        "text": transcript.text,
        "segments": [
            {
                "type": "transcript.text.segment",
                "id": f"seg_{index}",
                "start": turn.start,
                "end": turn.end,
                "text": turn.text,
                "speaker": turn.speaker,
            }
            for index, turn in enumerate(transcript.speakers)
        ],
        "usage": usage(transcript),
    }


def stream_events(transcript: Transcript) -> Iterator[str]:
    """Server-sent events: one `transcript.text.delta` per decoded chunk, then `done`.

    The recogniser decodes a request's chunks in one batch, so the deltas come together at the
    end; live partial text is the streaming issue's (a WebSocket endpoint beside this one)."""
    for delta in text_deltas(transcript):
        yield _event({"type": "transcript.text.delta", "delta": delta})
    yield _event(
        {"type": "transcript.text.done", "text": transcript.text, "usage": usage(transcript)}
    )
    yield "data: [DONE]\n\n"


def text_deltas(transcript: Transcript) -> list[str]:
    """Consecutive slices of the text, one per chunk, that join to exactly the text."""
    text, cuts, position = transcript.text, [], 0
    for chunk in transcript.chunks:
        found = text.find(chunk.text, position) if chunk.text else -1
        if found >= 0:
            position = found + len(chunk.text)
            cuts.append(position)
    edges = [0, *cuts[:-1], len(text)]
    return [text[a:b] for a, b in itertools.pairwise(edges) if b > a] or [text]


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
