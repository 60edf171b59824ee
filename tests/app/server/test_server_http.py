"""The HTTP rules: keys, limits, bad input, health and metrics, in the OpenAI error envelope."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.app.server.support import (
    KEY,
    GatedRecognizer,
    auth,
    fake_service,
    make_app,
    tone,
    wait_until,
    write_tone,
)

from qasr.adapters.audio import write_wav

starlette_testclient = pytest.importorskip("starlette.testclient")
TestClient = starlette_testclient.TestClient


def wav_bytes(seconds: float = 1.0, hz: float = 440.0) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.wav"
        write_wav(path, tone(seconds, hz), 16_000)
        return path.read_bytes()


@pytest.fixture
def wav(tmp_path: Path) -> bytes:
    return write_tone(tmp_path / "a.wav", 1.0).read_bytes()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    with TestClient(make_app(tmp_path)) as running:
        yield running


def post_audio(client: Any, audio: bytes, name: str = "a.wav", **fields: Any) -> Any:
    headers = fields.pop("headers", auth())
    return client.post(
        "/v1/audio/transcriptions",
        files={"file": (name, audio, "audio/wav")},
        data={"model": "fake-model", **fields},
        headers=headers,
    )


def assert_envelope(answer: Any, status: int, *words: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    for word in words:
        assert word in error["message"], error["message"]
    return dict(error)


def leftovers(tmp_path: Path) -> list[Path]:
    data = tmp_path / "data"
    return [p for p in data.rglob("*") if p.is_file() and "jobs.sqlite3" not in p.name]


def test_a_transcription_answers_the_text(client: Any, wav: bytes, tmp_path: Path) -> None:
    answer = post_audio(client, wav)
    assert answer.status_code == 200, answer.text
    expected = fake_service().transcribe(tmp_path / "a.wav").text
    assert answer.json()["text"] == expected and expected
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "missing_api_key"),
        ({"Authorization": "Basic abc"}, 401, "missing_api_key"),
        ({"Authorization": "Bearer not-a-key-of-ours"}, 403, "invalid_api_key"),
    ],
)
def test_keys_are_required(
    client: Any, wav: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    for call in (
        lambda: post_audio(client, wav, headers=headers),
        lambda: client.get("/v1/jobs", headers=headers),
        lambda: client.get("/v1/models", headers=headers),
        lambda: client.get("/metrics", headers=headers),
    ):
        assert assert_envelope(call(), status)["code"] == code
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 200


def test_the_log_has_one_line_per_request_and_never_the_key(
    client: Any, wav: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="qasr.server"):
        post_audio(client, wav, headers={**auth(), "X-Request-Id": "abc-123"})
        client.get("/v1/jobs", headers=auth("wrong-key-0000"))
    lines = [json.loads(r.message) for r in caplog.records if '"event": "request"' in r.message]
    assert [(line["request_id"], line["status"]) for line in lines][:1] == [("abc-123", 200)]
    assert [line["status"] for line in lines] == [200, 403]
    assert len(lines[0]["key"]) == 16
    assert KEY not in caplog.text and "wrong-key-0000" not in caplog.text


def test_rate_limit_answers_429_per_key(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, rate_limit=3)) as client:
        statuses = [client.get("/v1/models", headers=auth()).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/v1/models", headers=auth())
        assert_envelope(limited, 429, "rate limit")
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/v1/models", headers=auth("test-key-bravo-0002")).status_code == 200


def test_a_full_queue_answers_503_with_retry_after(tmp_path: Path, wav: bytes) -> None:
    recognizer = GatedRecognizer()
    app = make_app(tmp_path, fake_service(recognizer), max_queue=1)
    with TestClient(app) as client:
        worker = app.state.qasr.worker
        worker.submit(fake_audio := _clip(), _plain())  # decoding, held at the gate
        assert recognizer.entered.wait(10)
        worker.submit(fake_audio, _plain())  # the one waiting place is taken
        busy = post_audio(client, wav)
        assert_envelope(busy, 503, "busy")
        assert int(busy.headers["retry-after"]) >= 1
        recognizer.gate.set()
        wait_until(lambda: worker.queue_depth == 0, what="the line to drain")
        assert post_audio(client, wav).status_code == 200
    assert leftovers(tmp_path) == []


def _clip() -> Any:
    from qasr.domain import AudioClip

    return AudioClip(tone(1.0), 16_000, "held")


def _plain() -> Any:
    from qasr.domain import RecognitionOptions

    return RecognitionOptions()


def test_uploads_and_audio_over_the_limits_answer_413(tmp_path: Path) -> None:
    app = make_app(tmp_path, max_upload_bytes=200_000, max_audio_seconds=3.0)
    with TestClient(app) as client:
        big = wav_bytes(12.0)  # 384 kB
        assert_envelope(post_audio(client, big), 413, "limit", "--max-upload-mb")
        long = wav_bytes(4.0)  # 128 kB: fits the upload limit, not the duration
        assert assert_envelope(post_audio(client, long), 413, "3 s")["code"] == "audio_too_long"
        assert post_audio(client, wav_bytes(2.0)).status_code == 200
    assert leftovers(tmp_path) == []


def audio_part(body: bytes | None = None) -> dict[str, Any]:
    return {"file": ("a.wav", wav_bytes() if body is None else body, "audio/wav")}


BAD_INPUTS = {
    "zero-byte file": ({"files": {"file": ("a.wav", b"", "audio/wav")}}, 400, "empty"),
    "text named .wav": (
        {"files": {"file": ("a.wav", b"hello, I am not audio\n" * 40, "audio/wav")}},
        400,
        "cannot read the audio",
    ),
    "truncated wav": ({"files": audio_part(wav_bytes(1.0)[:30])}, 400, "a.wav"),
    "missing file field": ({"data": {"model": "m"}, "files": {"x": ("x", b"abc")}}, 400, "'file'"),
    "file as text field": ({"data": {"file": "abc"}, "files": {"x": ("x", b"a")}}, 400, "'file'"),
    "unknown language": (
        {"files": {"file": ("a.wav", wav_bytes(), "audio/wav")}, "data": {"language": "Klingon"}},
        400,
        "Klingon",
    ),
    "bad response_format": (
        {"files": audio_part(), "data": {"response_format": "doc"}},
        400,
        "response_format",
    ),
    "warm temperature": (
        {"files": {"file": ("a.wav", wav_bytes(), "audio/wav")}, "data": {"temperature": "0.7"}},
        400,
        "greedily",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_a_clear_4xx_and_leaves_nothing(
    tmp_path: Path, client: Any, case: str
) -> None:
    request, status, words = BAD_INPUTS[case]
    answer = client.post("/v1/audio/transcriptions", headers=auth(), **request)
    assert_envelope(answer, status, words)
    assert leftovers(tmp_path) == []
    assert post_audio(client, wav_bytes()).status_code == 200, "the server keeps serving"


def test_wrong_content_type_and_malformed_multipart(client: Any) -> None:
    as_json = client.post("/v1/audio/transcriptions", json={"file": "x"}, headers=auth())
    assert_envelope(as_json, 415, "multipart/form-data")
    broken = client.post(
        "/v1/audio/transcriptions",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
        headers={**auth(), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert_envelope(broken, 400, "'file'")  # cut short: no file part arrived whole
    no_boundary = client.post(
        "/v1/audio/transcriptions",
        content=b"abc",
        headers={**auth(), "Content-Type": "multipart/form-data"},
    )
    assert_envelope(no_boundary, 400, "malformed multipart body")
    assert post_audio(client, wav_bytes()).status_code == 200


def test_huge_headers_answer_431(client: Any) -> None:
    answer = client.get("/v1/models", headers={**auth(), "X-Padding": "p" * 40_000})
    assert_envelope(answer, 431, "headers")
    assert client.get("/v1/models", headers=auth()).status_code == 200


def test_unknown_routes_and_translation_use_the_envelope(client: Any, wav: bytes) -> None:
    assert_envelope(client.get("/v1/nothing", headers=auth()), 404, "no such endpoint")
    assert_envelope(client.put("/v1/jobs", headers=auth()), 405, "not allowed")
    translated = client.post(
        "/v1/audio/translations", files={"file": ("a.wav", wav)}, headers=auth()
    )
    assert assert_envelope(translated, 400, "translat")["code"] == "unsupported_endpoint"


def test_diarized_json_needs_a_diarizer_and_srt_an_aligner(tmp_path: Path, wav: bytes) -> None:
    with TestClient(make_app(tmp_path, fake_service(timestamps=False))) as client:
        assert_envelope(post_audio(client, wav, response_format="diarized_json"), 400, "diarizer")
        assert_envelope(post_audio(client, wav, response_format="srt"), 400, "--timestamps")
        assert post_audio(client, wav, response_format="verbose_json").status_code == 200


def test_metrics_count_batches_audio_and_requests(client: Any, wav: bytes) -> None:
    post_audio(client, wav)
    text = client.get("/metrics", headers=auth()).text
    samples = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert float(samples["qasr_audio_seconds_total"]) == pytest.approx(1.0)
    assert float(samples["qasr_batch_chunks_count"]) == 1.0
    assert samples["qasr_queue_depth"] == "0" and samples["qasr_ready"] == "1"
    route = 'qasr_http_requests_total{route="/v1/audio/transcriptions",status="200"}'
    assert float(samples[route]) == 1.0
    assert "qasr_http_request_seconds_bucket" in text


def test_cors_is_off_unless_asked(tmp_path: Path) -> None:
    origin = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    with TestClient(make_app(tmp_path)) as client:
        answer = client.get("/health", headers=origin)
        assert "access-control-allow-origin" not in answer.headers
    with TestClient(make_app(tmp_path, cors_origins=("https://example.org",))) as client:
        answer = client.get("/health", headers=origin)
        assert answer.headers["access-control-allow-origin"] == "https://example.org"


def test_the_web_page_is_served_without_a_key(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "const needsKey = true;" in page.text and "/v1/jobs" in page.text


def test_a_request_past_its_timeout_answers_504_and_is_dropped(tmp_path: Path, wav: bytes) -> None:
    recognizer = GatedRecognizer()
    app = make_app(tmp_path, fake_service(recognizer), request_timeout=0.3)
    with TestClient(app) as client:
        worker = app.state.qasr.worker
        worker.submit(_clip(), _plain())  # holds the model
        assert recognizer.entered.wait(10)
        late = post_audio(client, wav)
        assert assert_envelope(late, 504, "/v1/jobs")["code"] == "timeout"
        recognizer.gate.set()
        wait_until(lambda: worker.queue_depth == 0, what="the line to drain")
        assert len(recognizer.calls) == 1, "nobody waited for it, so it was never decoded"


def test_while_the_model_loads_ready_and_work_answer_503(tmp_path: Path, wav: bytes) -> None:
    import threading

    release = threading.Event()

    def slow_model() -> Any:
        release.wait(20)
        return fake_service()

    with TestClient(make_app(tmp_path, slow_model)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 503
        loading = post_audio(client, wav)
        assert assert_envelope(loading, 503, "loading")["code"] == "loading"
        release.set()
        wait_until(lambda: client.get("/ready").status_code == 200, what="the model")
        assert post_audio(client, wav).status_code == 200
