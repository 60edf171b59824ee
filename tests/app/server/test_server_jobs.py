"""Durable jobs over HTTP: submit, poll, results in every format, cancel, owners, TTL, webhooks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from tests.app.server.support import (
    OTHER_KEY,
    GatedRecognizer,
    auth,
    fake_service,
    make_app,
    sqlite_store,
    wait_until,
    write_tone,
)

from qasr.adapters.serialization import loads
from qasr.adapters.writers import get_writer, render
from qasr.domain import RecognitionOptions

TestClient = pytest.importorskip("starlette.testclient").TestClient


def submit(client: Any, path: Path, key: str | None = None, **fields: Any) -> Any:
    answer = client.post(
        "/v1/jobs",
        files={"file": (path.name, path.read_bytes(), "audio/wav")},
        data=fields,
        headers=auth(key) if key else auth(),
    )
    return answer


def finished(client: Any, job_id: str, key: str | None = None) -> dict[str, Any]:
    def done() -> bool:
        status = client.get(f"/v1/jobs/{job_id}", headers=auth(key) if key else auth()).json()
        return status["status"] not in ("queued", "running")

    wait_until(done, what=f"job {job_id}")
    view: dict[str, Any] = client.get(
        f"/v1/jobs/{job_id}", headers=auth(key) if key else auth()
    ).json()
    return view


def test_a_job_runs_and_gives_its_result_in_every_format(tmp_path: Path) -> None:
    audio = write_tone(tmp_path / "talk.wav", 3.0)
    with TestClient(make_app(tmp_path, store=sqlite_store(tmp_path))) as client:
        accepted = submit(client, audio, formats="txt,srt", language="en", context="Qwen")
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["location"] == f"/v1/jobs/{accepted.json()['id']}"
        job = finished(client, accepted.json()["id"])
        assert job["status"] == "succeeded" and job["progress"] == 1.0 and job["attempts"] == 1
        expected = fake_service().transcribe(
            audio, RecognitionOptions(language="en", context="Qwen"), timestamps=True
        )
        assert loads(json.dumps(job["result"])) == expected
        for name in ("txt", "json", "srt", "vtt", "tsv"):
            got = client.get(f"/v1/jobs/{job['id']}/result?format={name}", headers=auth())
            assert got.status_code == 200
            assert got.text == render(get_writer(name), expected)
            assert f'filename="talk.{name}"' in got.headers["content-disposition"]
        unknown = client.get(f"/v1/jobs/{job['id']}/result?format=docx", headers=auth())
        assert unknown.status_code == 400 and "docx" in unknown.json()["error"]["message"]


def test_jobs_are_visible_only_to_their_key(tmp_path: Path) -> None:
    audio = write_tone(tmp_path / "a.wav", 1.0)
    with TestClient(make_app(tmp_path)) as client:
        mine = submit(client, audio).json()["id"]
        theirs = submit(client, audio, key=OTHER_KEY).json()["id"]
        listed = client.get("/v1/jobs", headers=auth()).json()["data"]
        assert [job["id"] for job in listed] == [mine]
        for method in ("get", "delete"):
            hidden = getattr(client, method)(f"/v1/jobs/{theirs}", headers=auth())
            assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "job_not_found"
        assert client.get(f"/v1/jobs/{theirs}/result", headers=auth()).status_code == 404
        assert finished(client, theirs, OTHER_KEY)["status"] == "succeeded"


def test_cancel_stops_queued_and_running_jobs(tmp_path: Path) -> None:
    recognizer = GatedRecognizer()
    app = make_app(tmp_path, fake_service(recognizer))
    audio = write_tone(tmp_path / "a.wav", 1.0)
    with TestClient(app) as client:
        running = submit(client, audio).json()["id"]
        assert recognizer.entered.wait(10)
        queued = submit(client, write_tone(tmp_path / "b.wav", 2.0, 300.0)).json()["id"]
        wait_until(lambda: app.state.qasr.runner.in_flight == 2, what="both jobs handed over")
        for job_id in (running, queued):
            cancelled = client.delete(f"/v1/jobs/{job_id}", headers=auth())
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        recognizer.gate.set()
        wait_until(lambda: app.state.qasr.runner.in_flight == 0, what="the runner to settle")
        assert [finished(client, j)["status"] for j in (running, queued)] == ["cancelled"] * 2
        assert len(recognizer.calls) == 1, "the queued job was never decoded"
        result = client.get(f"/v1/jobs/{running}/result", headers=auth())
        assert result.status_code == 409 and "cancelled" in result.json()["error"]["message"]


def test_bad_job_requests_are_refused_before_anything_is_kept(tmp_path: Path) -> None:
    audio = write_tone(tmp_path / "a.wav", 1.0)
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n" * 50)
    with TestClient(make_app(tmp_path, fake_service(timestamps=False))) as client:
        cases = [
            (submit(client, audio, formats="docx"), "docx"),
            (submit(client, audio, formats="srt"), "--timestamps"),
            (submit(client, audio, webhook_url="ftp://x"), "http"),
            (submit(client, audio, language="Elvish"), "Elvish"),
            (submit(client, text), "cannot read the audio"),
        ]
        for answer, words in cases:
            assert answer.status_code == 400 and words in answer.json()["error"]["message"]
        assert client.get("/v1/jobs", headers=auth()).json()["data"] == []
    uploads = tmp_path / "data" / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_finished_jobs_and_uploads_go_after_their_ttl(tmp_path: Path) -> None:
    app = make_app(tmp_path, job_ttl_seconds=0.0)
    audio = write_tone(tmp_path / "a.wav", 1.0)
    with TestClient(app) as client:
        job_id = submit(client, audio).json()["id"]
        upload = Path(app.state.qasr.store.get(job_id).audio_path)
        assert upload.is_file()
        finished(client, job_id)
        gone = app.state.qasr.runner.sweep()
        assert [job.id for job in gone] == [job_id]
        assert not upload.exists()
        assert client.get(f"/v1/jobs/{job_id}", headers=auth()).status_code == 404


class Receiver(BaseHTTPRequestHandler):
    """Fails the first `fail_first` calls with 500, then records the bodies."""

    fail_first: ClassVar[int] = 1
    calls: ClassVar[list[dict[str, Any]]] = []
    arrived: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(body)
        failing = len(type(self).calls) <= type(self).fail_first
        self.send_response(500 if failing else 204)
        self.end_headers()
        if not failing:
            type(self).arrived.set()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.calls, Receiver.arrived = [], threading.Event()
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_the_webhook_is_called_on_completion_and_retried(tmp_path: Path, receiver: str) -> None:
    audio = write_tone(tmp_path / "a.wav", 1.0)
    with TestClient(make_app(tmp_path)) as client:
        job_id = submit(client, audio, webhook_url=receiver).json()["id"]
        assert Receiver.arrived.wait(20), "the webhook never arrived"
        job = finished(client, job_id)
    assert len(Receiver.calls) == 2, "one failure, then one retry that was accepted"
    assert Receiver.calls[0] == Receiver.calls[1]
    assert Receiver.calls[1] == {
        "object": "transcription.job", "id": job_id, "status": "succeeded", "error": None,
        "text": job["text"],
    }  # fmt: skip
