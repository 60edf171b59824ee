"""On a real (tiny, random) MLX checkpoint: what the server answers is what `qasr transcribe`
writes for the same file and options, whether requests were batched together or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.app.server.support import auth, make_app, wait_until, write_tone

from qasr.app import bootstrap
from qasr.app.entry.cli import main
from qasr.app.server.worker import ModelWorker
from qasr.domain import RecognitionOptions

pytest.importorskip("qasr.adapters.mlx.backend")
TestClient = pytest.importorskip("starlette.testclient").TestClient


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.training.tiny import write_tiny_checkpoint

    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model") / "model")


def build(checkpoint: Path) -> Any:
    return bootstrap.build_service(model=str(checkpoint), dtype="float32", batch_size=8)


@pytest.fixture(scope="module")
def service(checkpoint: Path) -> Any:
    """Loaded on this (the main) thread, for the one-by-one answers; the servers' workers load
    their own copy on their own thread, as MLX needs."""
    return build(checkpoint)


def cli_json(audio: Path, checkpoint: Path, out: Path, *extra: str) -> dict[str, Any]:
    arguments = [str(audio), "--model", str(checkpoint), "--dtype", "float32", "-f", "json"]
    status = main([*arguments, "-o", str(out), "--no-progress", "--quiet", *extra])
    assert status == 0
    loaded: dict[str, Any] = json.loads((out / f"{audio.stem}.json").read_text())
    return loaded


def test_batched_equals_one_by_one_equals_the_cli(
    tmp_path: Path, service: Any, checkpoint: Path
) -> None:
    files = [
        write_tone(tmp_path / f"clip{i}.wav", seconds, hz, seed=i)
        for i, (seconds, hz) in enumerate([(1.0, 220.0), (2.5, 900.0), (1.6, 450.0)])
    ]
    options = RecognitionOptions(language="English")
    clips = [service.audio_source.load(path) for path in files]
    worker = ModelWorker(lambda: build(checkpoint), batch_size=8)
    items = [worker.submit(clip, options) for clip in clips]  # queued before the worker runs
    worker.start()
    try:
        batched = [item.future.result(120) for item in items]
    finally:
        worker.stop()
    assert [len(batch) for batch in worker.batches] == [3], "the three requests shared a batch"
    alone = [service.transcribe(path, options) for path in files]
    assert batched == alone
    for path, transcript in zip(files, batched, strict=True):
        written = cli_json(path, checkpoint, tmp_path / "cli", "--language", "English")
        assert json.loads(bootstrap.transcript_to_json(transcript)) == written


def test_a_job_and_a_sync_request_answer_what_the_cli_writes(
    tmp_path: Path, service: Any, checkpoint: Path
) -> None:
    audio = write_tone(tmp_path / "speech.wav", 2.0, 330.0)
    written = cli_json(audio, checkpoint, tmp_path / "cli", "--context", "hello")
    with TestClient(make_app(tmp_path, lambda: build(checkpoint))) as client:
        # The worker loads its model on its own thread; until then the server answers 503.
        wait_until(lambda: client.get("/ready").status_code == 200, timeout=120, what="/ready")
        posted = client.post(
            "/v1/jobs", headers=auth(), data={"context": "hello"},
            files={"file": (audio.name, audio.read_bytes(), "audio/wav")},
        )  # fmt: skip
        assert posted.status_code == 202, posted.text
        job_id = posted.json()["id"]

        def finished() -> bool:
            status = client.get(f"/v1/jobs/{job_id}", headers=auth()).json()["status"]
            return bool(status == "succeeded")

        wait_until(finished, timeout=120, what="the job")
        result = client.get(f"/v1/jobs/{job_id}/result?format=json", headers=auth())
        assert json.loads(result.text) == written
        sync = client.post(
            "/v1/audio/transcriptions", headers=auth(), data={"prompt": "hello"},
            files={"file": (audio.name, audio.read_bytes(), "audio/wav")},
        )  # fmt: skip
        assert sync.json()["text"] == written["text"]
