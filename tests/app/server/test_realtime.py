"""`/v1/realtime?intent=transcription` with a Python WebSocket client against a live uvicorn.

The recognizer's text is a function of its audio (tone words), so each turn's transcript is
known exactly; its decodes go through the server's one model worker.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.app.server.support import KEY, fake_service, live_server, make_app, wait_until
from tests.app.use_cases.streaming.tone_words import WORDS, ToneWordRecognizer, speech

websocket = pytest.importorskip("websocket")  # websocket-client, the serve-test extra

from qasr.adapters.audio.resample import resample  # noqa: E402

TURNS = [[0, 3, 5], [7, 9], [1, 4, 8, 6]]
PAUSE = np.zeros(24_000, np.float32)  # 1.5 s at 16 kHz: longer than the VAD's silence


def said(turn: list[int]) -> str:
    return " ".join(WORDS[index] for index in turn)


def pcm16(samples: np.ndarray) -> str:
    return base64.b64encode((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    folder = tmp_path_factory.mktemp("realtime")
    app = make_app(folder, fake_service(ToneWordRecognizer()), max_audio_seconds=60.0)
    with live_server(app) as url:
        yield url.replace("http://", "ws://") + "/v1/realtime?intent=transcription", app


def connect(url: str, **options: Any) -> Any:
    options.setdefault("header", [f"Authorization: Bearer {KEY}"])
    client = websocket.create_connection(url, timeout=20, **options)
    created = json.loads(client.recv())
    assert created["type"] == "transcription_session.created"
    return client


def send(client: Any, kind: str, **fields: Any) -> None:
    client.send(json.dumps({"type": kind, **fields}))


def update(client: Any, **session: Any) -> dict[str, Any]:
    send(client, "transcription_session.update", session=session)
    answer = json.loads(client.recv())
    assert answer["type"] == "transcription_session.updated", answer
    return answer["session"]  # type: ignore[no-any-return]


def receive_until(client: Any, kind: str, count: int = 1) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while sum(event["type"] == kind for event in events) < count:
        events.append(json.loads(client.recv()))
    return events


def stream_audio(client: Any, audio: np.ndarray, rate: int = 16_000) -> None:
    piece = rate // 10
    for first in range(0, len(audio), piece):
        send(client, "input_audio_buffer.append", audio=pcm16(audio[first : first + piece]))


def close_code(client: Any) -> int:
    opcode, data = client.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    return int.from_bytes(data[:2], "big")


def test_server_vad_turns_arrive_as_completed_items(server: tuple[str, Any]) -> None:
    client = connect(server[0])
    session = update(
        client,
        input_audio_sample_rate=16_000,
        turn_detection={"type": "server_vad", "silence_duration_ms": 800},
    )
    assert session["turn_detection"]["silence_duration_ms"] == 800
    audio = np.concatenate([part for turn in TURNS for part in (speech(turn), PAUSE)])
    stream_audio(client, audio)
    events = receive_until(client, "conversation.item.input_audio_transcription.completed", 3)
    client.close()
    completed = [e for e in events if e["type"].endswith("transcription.completed")]
    assert [e["transcript"] for e in completed] == [said(turn) for turn in TURNS]
    for item in completed:
        deltas = [
            e["delta"]
            for e in events
            if e["type"].endswith(".delta") and e["item_id"] == item["item_id"]
        ]
        assert "".join(deltas) == item["transcript"]  # deltas never take back what they sent
    committed = [e for e in events if e["type"] == "input_audio_buffer.committed"]
    assert [c["previous_item_id"] for c in committed] == [None] + [
        c["item_id"] for c in committed[:-1]
    ]
    starts = [e for e in events if e["type"] == "input_audio_buffer.speech_started"]
    stops = [e for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    assert len(starts) == len(stops) == 3
    assert all(a["audio_start_ms"] < b["audio_end_ms"] for a, b in zip(starts, stops, strict=True))


def test_manual_commit_at_openai_rate(server: tuple[str, Any]) -> None:
    client = connect(server[0])
    update(client, turn_detection=None, include=["qasr.partial"])
    audio = resample(speech(TURNS[2]), 16_000, 24_000)  # OpenAI's pcm16 is 24 kHz
    stream_audio(client, audio, rate=24_000)
    send(client, "input_audio_buffer.commit")
    events = receive_until(client, "conversation.item.input_audio_transcription.completed")
    assert events[-1]["transcript"] == said(TURNS[2])
    assert any(e["type"] == "qasr.transcription.partial" for e in events)
    send(client, "input_audio_buffer.commit")
    error = json.loads(client.recv())
    assert error["error"]["code"] == "input_audio_buffer_commit_empty"
    client.close()


def test_clear_drops_what_waits(server: tuple[str, Any]) -> None:
    client = connect(server[0])
    update(client, turn_detection=None, input_audio_sample_rate=16_000)
    stream_audio(client, speech([1, 2]))
    send(client, "input_audio_buffer.clear")
    assert receive_until(client, "input_audio_buffer.cleared")[-1]["type"].endswith("cleared")
    stream_audio(client, speech([9]))
    send(client, "input_audio_buffer.commit")
    events = receive_until(client, "conversation.item.input_audio_transcription.completed")
    assert events[-1]["transcript"] == "kilo"
    client.close()


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ("not json", "invalid_json"),
        ({"type": "response.create"}, "unknown_event"),
        ({"type": "input_audio_buffer.append", "audio": "***"}, "invalid_value"),
        (
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(b"abc").decode()},
            "invalid_value",
        ),
        (
            {
                "type": "transcription_session.update",
                "session": {"input_audio_format": "g711_ulaw"},
            },
            "unsupported_value",
        ),
        (
            {
                "type": "transcription_session.update",
                "session": {"input_audio_transcription": {"language": "Klingon"}},
            },
            "invalid_value",
        ),
    ],
)
def test_bad_events_get_an_error_and_the_session_goes_on(
    server: tuple[str, Any], event: Any, code: str
) -> None:
    client = connect(server[0])
    client.send(event if isinstance(event, str) else json.dumps(event))
    answer = json.loads(client.recv())
    assert answer["type"] == "error" and answer["error"]["code"] == code, answer
    update(client, turn_detection=None)  # still open and answering
    client.close()


def test_keys_are_checked_as_over_http(server: tuple[str, Any]) -> None:
    for header, code in (
        ([], "missing_api_key"),
        (["Authorization: Bearer wrong-key-123"], "invalid_api_key"),
    ):
        client = websocket.create_connection(server[0], timeout=20, header=header)
        answer = json.loads(client.recv())
        assert answer["error"]["code"] == code
        assert close_code(client) == 1008
    # Browsers cannot set headers: the key may come as a subprotocol, as OpenAI accepts it.
    client = connect(
        server[0], header=[], subprotocols=["realtime", f"openai-insecure-api-key.{KEY}"]
    )
    client.close()


def test_only_the_transcription_intent(server: tuple[str, Any]) -> None:
    url = server[0].replace("intent=transcription", "intent=conversation")
    client = websocket.create_connection(url, timeout=20, header=[f"Authorization: Bearer {KEY}"])
    assert "intent=transcription" in json.loads(client.recv())["error"]["message"]
    assert close_code(client) == 1008


def test_a_stream_longer_than_the_limit_is_closed(tmp_path: Path) -> None:
    app = make_app(tmp_path, fake_service(ToneWordRecognizer()), max_audio_seconds=3.0)
    with live_server(app) as url:
        client = connect(url.replace("http://", "ws://") + "/v1/realtime?intent=transcription")
        update(client, input_audio_sample_rate=16_000)
        stream_audio(client, np.zeros(5 * 16_000, np.float32))
        answer = receive_until(client, "error")[-1]
        assert answer["error"]["code"] == "audio_too_long"
        assert close_code(client) == 1009
        wait_until(lambda: not app.state.qasr_realtime, what="the stream to be freed")


def test_a_client_that_disconnects_mid_stream_frees_its_state(server: tuple[str, Any]) -> None:
    app = server[1]
    clients = [connect(server[0]) for _ in range(3)]
    for client in clients:
        update(client, input_audio_sample_rate=16_000)
        stream_audio(client, speech([1, 2, 3, 4]))
    wait_until(lambda: len(app.state.qasr_realtime) == 3, what="three open streams")
    for client in clients:
        client.close()
    wait_until(lambda: not app.state.qasr_realtime, what="the streams to be freed")
    wait_until(lambda: app.state.qasr.worker.queue_depth == 0, what="the worker to drain")


class GatedToneWords(ToneWordRecognizer):
    """Tone words, each call waiting for the test's gate: streams' steps pile up meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def recognize(self, clips: Any, options: Any) -> Any:
        assert self.gate.wait(30)
        return super().recognize(clips, options)


def test_concurrent_streams_share_the_workers_batches(tmp_path: Path) -> None:
    recognizer = GatedToneWords()
    app = make_app(tmp_path, fake_service(recognizer))
    with live_server(app) as url:
        address = url.replace("http://", "ws://") + "/v1/realtime?intent=transcription"
        clients = [connect(address) for _ in range(4)]
        worker = app.state.qasr.worker
        for index, client in enumerate(clients):
            update(client, turn_detection=None, input_audio_sample_rate=16_000)
            stream_audio(client, speech([2, 4]))  # 1.5 s: every step completes at commit
            send(client, "input_audio_buffer.commit")
            if index == 0:
                # The first decode holds the gated worker alone, so the others must wait together
                # (sent at once, the worker may take two into its first batch).
                wait_until(lambda: len(worker.batches) == 1, what="the first decode to start")
        wait_until(lambda: worker.queue_depth >= 3, what="the streams' decodes to wait together")
        recognizer.gate.set()
        for client in clients:
            events = receive_until(client, "conversation.item.input_audio_transcription.completed")
            assert events[-1]["transcript"] == said([2, 4])
            client.close()
        assert max(len(batch) for batch in worker.batches) >= 3
