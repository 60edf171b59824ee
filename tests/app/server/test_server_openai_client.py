"""The real `openai` Python client against a live `qasr serve` (uvicorn on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.app.server.support import KEY, fake_service, live_server, make_app, write_tone

from qasr.adapters.writers import get_writer, render
from qasr.domain import RecognitionOptions
from qasr.testing import FakeDiarizer

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("openai")
    audio = write_tone(folder / "speech.wav", 4.0)
    service = fake_service(diarizer=FakeDiarizer(), max_chunk_seconds=2.0)
    app = make_app(folder, service, max_upload_bytes=300_000)
    with live_server(app) as url:
        yield url, audio


@pytest.fixture(scope="module")
def client(server: tuple[str, Path]) -> Any:
    return openai.OpenAI(base_url=f"{server[0]}/v1", api_key=KEY, max_retries=0)


def expected(audio: Path, diarize: bool = False, **options: Any) -> Any:
    service = fake_service(diarizer=FakeDiarizer(), max_chunk_seconds=2.0)
    return service.transcribe(
        audio, RecognitionOptions(**options), timestamps=True, diarize=diarize
    )


def transcribe(client: Any, audio: Path, **fields: Any) -> Any:
    with audio.open("rb") as file:
        return client.audio.transcriptions.create(model="fake-model", file=file, **fields)


def test_json_and_text(client: Any, server: tuple[str, Path]) -> None:
    audio = server[1]
    truth = expected(audio, language="de", context="MLX")
    answer = transcribe(client, audio, language="de", prompt="MLX")
    assert answer.text == truth.text and truth.text
    assert transcribe(client, audio, response_format="text", language="de", prompt="MLX") == (
        truth.text + "\n"
    )


@pytest.mark.parametrize("name", ["srt", "vtt"])
def test_subtitles(client: Any, server: tuple[str, Path], name: str) -> None:
    answer = transcribe(client, server[1], response_format=name)
    assert answer == render(get_writer(name), expected(server[1]))


def test_verbose_json_with_words_and_segments(client: Any, server: tuple[str, Path]) -> None:
    truth = expected(server[1])
    answer = transcribe(
        client, server[1], response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )  # fmt: skip
    assert answer.text == truth.text and answer.duration == pytest.approx(4.0)
    assert answer.language == "english"
    assert [(w.word, w.start, w.end) for w in answer.words] == [
        (word.text, word.start, word.end) for word in truth.segments
    ]
    assert [(s.start, s.end, s.text) for s in answer.segments] == [
        (chunk.start, chunk.end, chunk.text) for chunk in truth.chunks
    ]
    assert len(answer.segments) == len(truth.chunks) > 1


def test_diarized_json(client: Any, server: tuple[str, Path]) -> None:
    truth = expected(server[1], diarize=True)
    answer = transcribe(client, server[1], response_format="diarized_json")
    assert [(s.speaker, s.start, s.end, s.text) for s in answer.segments] == [
        (turn.speaker, turn.start, turn.end, turn.text) for turn in truth.speakers
    ]


def test_streamed_deltas_add_up_to_the_text(client: Any, server: tuple[str, Path]) -> None:
    truth = expected(server[1])
    events = list(transcribe(client, server[1], stream=True))
    kinds = [event.type for event in events]
    assert kinds == ["transcript.text.delta"] * (len(kinds) - 1) + ["transcript.text.done"]
    assert len(kinds) == len(truth.chunks) + 1 > 2, "one delta per chunk"
    assert "".join(event.delta for event in events[:-1]) == truth.text == events[-1].text


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the client's translations API
def test_errors_arrive_as_the_clients_exceptions(client: Any, server: tuple[str, Path]) -> None:
    with pytest.raises(openai.BadRequestError, match="greedily"):
        transcribe(client, server[1], temperature=0.5)
    with pytest.raises(openai.BadRequestError, match="translat"), server[1].open("rb") as file:
        client.audio.translations.create(model="fake-model", file=file)
    with pytest.raises(openai.BadRequestError, match="Klingon"):
        transcribe(client, server[1], language="Klingon")
    wrong = openai.OpenAI(base_url=f"{server[0]}/v1", api_key="wrong-key-123", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        transcribe(wrong, server[1])
    assert transcribe(client, server[1]).text, "the server keeps serving"


def test_models_lists_the_loaded_model(client: Any) -> None:
    assert [model.id for model in client.models.list()] == ["fake-model"]
    assert client.models.retrieve("fake-model").owned_by == "qasr"


PART_HEAD = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'


def test_an_oversized_upload_on_a_real_socket_gets_413(
    client: Any, server: tuple[str, Path], tmp_path: Path
) -> None:
    big = write_tone(tmp_path / "big.wav", 20.0)  # 640 kB, over the 300 kB limit
    with pytest.raises(openai.APIStatusError) as refused:
        transcribe(client, big)
    assert refused.value.status_code == 413
    chunked = httpx.post(
        f"{server[0]}/v1/audio/transcriptions",
        headers={
            "Authorization": f"Bearer {KEY}",
            "Content-Type": "multipart/form-data; boundary=b",
        },
        content=iter([PART_HEAD, *(b"x" * 100_000 for _ in range(8))]),
        timeout=30,
    )
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "upload_too_large"
    padded = httpx.get(
        f"{server[0]}/v1/models", headers={"Authorization": f"Bearer {KEY}", "X-Pad": "p" * 60_000}
    )
    assert padded.status_code == 431 and padded.json()["error"]["code"] == "headers_too_large"
    assert transcribe(client, server[1]).text
